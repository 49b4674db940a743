"""FASTA of a complex + alignment searches -> the model's input.

The searches of AlphaFold-Multimer (supplement, "Genetic search"): each
distinct sequence is searched once and its features reused for every copy.
Per sequence, the monomer pipeline's searches (UniRef90, MGnify, BFD and the
template search, `pipeline.DataPipeline`); for a heteromer also a jackhmmer
search of UniProt, whose rows (up to 50,000) are the ones paired across
chains by species. Outputs: `<msa_output_dir>/<chain id>/` per searched
chain (the first chain of each sequence) and
`<msa_output_dir>/chain_id_map.json` (chain id -> sequence and description).
"""
from __future__ import annotations

import dataclasses
import json
import os
import tempfile
from typing import Dict, Mapping

import numpy as np

from alphafold_jax.common import atomic
from alphafold_jax.data import msa as msa_lib
from alphafold_jax.data import parsers
from alphafold_jax.data import pipeline as pipeline_lib
from alphafold_jax.data.multimer import features as features_lib
from alphafold_jax.data.multimer import pairing

# Chain ids in FASTA record order, as written to PDB/mmCIF files.
PDB_CHAIN_IDS = ('ABCDEFGHIJKLMNOPQRSTUVWXYZ'
                 'abcdefghijklmnopqrstuvwxyz0123456789')
UNIPROT_MAX_HITS = 50000
UNIPROT_OUTPUT = 'uniprot_hits.sto'
CHAIN_ID_MAP = 'chain_id_map.json'

Features = Dict[str, np.ndarray]


@dataclasses.dataclass(frozen=True)
class FastaChain:
  sequence: str
  description: str


def make_chain_id_map(text: str, source: str = '<string>'
                      ) -> Dict[str, FastaChain]:
  """Chain id (A, B, ...) -> the FASTA record of that chain, in file order.

  Raises:
    ParseError: a malformed FASTA (see parsers.parse_query_fasta) or more
      records than chain ids.
  """
  records = parsers.parse_query_fasta(text, source)
  _, descriptions = parsers.parse_fasta(text, source)
  if len(records) > len(PDB_CHAIN_IDS):
    raise parsers.ParseError(
        f'{source}: {len(records)} chains; at most {len(PDB_CHAIN_IDS)} are '
        'supported.')
  return {chain_id: FastaChain(sequence, description)
          for chain_id, (_, sequence), description
          in zip(PDB_CHAIN_IDS, records, descriptions)}


def all_seq_msa_features(msa: parsers.Msa) -> Features:
  """The UniProt alignment's features, suffixed `_all_seq`: msa,
  deletion_matrix_int [N_all_seq, N_res] and msa_species_identifiers
  [N_all_seq]."""
  features = msa_lib.make_msa_features([msa])
  keep = pairing.MSA_FEATURES + ('msa_species_identifiers',)
  return {f'{k}_all_seq': v for k, v in features.items() if k in keep}


@dataclasses.dataclass
class MultimerDataPipeline:
  """Runs the searches of a complex's chains and builds its example.

  Attributes:
    monomer_pipeline: the per-chain searches (pipeline.DataPipeline); its
      `use_precomputed_msas` decides whether its outputs are reused.
    uniprot: a jackhmmer-like searcher of UniProt (`query(sequence) ->
      Stockholm`), e.g. tools.jackhmmer.Jackhmmer(uniprot.fasta); used for
      heteromers only.
    max_uniprot_hits: rows of the UniProt alignment kept.
    use_precomputed_msas: reuse a uniprot_hits.sto found in a chain's folder.
  """
  monomer_pipeline: pipeline_lib.DataPipeline
  uniprot: object
  max_uniprot_hits: int = UNIPROT_MAX_HITS
  use_precomputed_msas: bool = False

  def _uniprot_features(self, sequence: str, chain_dir: str) -> Features:
    path = os.path.join(chain_dir, UNIPROT_OUTPUT)
    if self.use_precomputed_msas and os.path.exists(path):
      with open(path) as f:
        sto = f.read()
    else:
      sto = self.uniprot.query(sequence)
      atomic.write_bytes(path, sto.encode())
    msa = parsers.parse_stockholm(sto, path).truncate(self.max_uniprot_hits)
    if msa.sequences[0] != sequence:
      raise parsers.ParseError(f'{path}: the first row is not the query of '
                               f'chain {os.path.basename(chain_dir)}.')
    return all_seq_msa_features(msa)

  def _search_chain(self, chain_id: str, sequence: str, chain_dir: str,
                    is_heteromer: bool) -> Features:
    os.makedirs(chain_dir, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
      fasta_path = os.path.join(tmp, f'chain_{chain_id}.fasta')
      with open(fasta_path, 'w') as f:
        f.write(f'>chain_{chain_id}\n{sequence}\n')
      features = self.monomer_pipeline.process(fasta_path, chain_dir)
    if is_heteromer:
      features.update(self._uniprot_features(sequence, chain_dir))
    return features

  def chain_features(self, input_fasta_path: str, msa_output_dir: str
                     ) -> Dict[str, Features]:
    """Chain id -> raw features (monomer + `*_all_seq` for a heteromer), in
    FASTA order; writes chain_id_map.json and the search outputs."""
    with open(input_fasta_path) as f:
      chain_id_map = make_chain_id_map(f.read(), input_fasta_path)
    os.makedirs(msa_output_dir, exist_ok=True)
    atomic.write_bytes(
        os.path.join(msa_output_dir, CHAIN_ID_MAP),
        json.dumps({k: dataclasses.asdict(v) for k, v in chain_id_map.items()},
                   indent=4, sort_keys=True).encode())
    is_heteromer = len({c.sequence for c in chain_id_map.values()}) > 1
    by_sequence: Dict[str, Features] = {}
    chains = {}
    for chain_id, chain in chain_id_map.items():
      if chain.sequence not in by_sequence:
        by_sequence[chain.sequence] = self._search_chain(
            chain_id, chain.sequence, os.path.join(msa_output_dir, chain_id),
            is_heteromer)
      chains[chain_id] = {k: np.copy(v) for k, v in
                          by_sequence[chain.sequence].items()}
    return chains

  def process(self, input_fasta_path: str, msa_output_dir: str) -> Features:
    """The model's input for the complex in `input_fasta_path`
    (features.process_multimer_features of `chain_features`)."""
    return features_lib.process_multimer_features(
        self.chain_features(input_fasta_path, msa_output_dir))


def read_chain_id_map(msa_output_dir: str) -> Mapping[str, FastaChain]:
  """The chain_id_map.json written by MultimerDataPipeline."""
  path = os.path.join(msa_output_dir, CHAIN_ID_MAP)
  try:
    with open(path) as f:
      return {k: FastaChain(**v) for k, v in json.load(f).items()}
  except (ValueError, TypeError) as e:
    raise parsers.ParseError(f'{path}: not a chain id map ({e}).') from None
