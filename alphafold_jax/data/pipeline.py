"""FASTA + alignment searches -> the raw features of one chain (Suppl. 1.2).

The searches of the reference's monomer pipeline, in order: jackhmmer on
UniRef90 (first 10,000 hits), jackhmmer on MGnify (first 501), HHblits on
BFD + UniClust30 (or jackhmmer on small BFD), and a template search
(hmmsearch or HHsearch) seeded by the UniRef90 alignment. Every search
output is written to `msa_output_dir`; with `use_precomputed_msas` an
output already there is read instead of searching again.
"""
from __future__ import annotations

import dataclasses
import os
from typing import Callable, Dict, List, Optional

import numpy as np

from alphafold_jax.common import residue_constants
from alphafold_jax.data import mmcif as mmcif_lib
from alphafold_jax.data import msa as msa_lib
from alphafold_jax.data import parsers
from alphafold_jax.data import templates as templates_lib


def make_sequence_features(sequence: str, description: str
                           ) -> Dict[str, np.ndarray]:
  """The sequence's raw features (Suppl. Table 1).

  Returns:
    aatype [N_res, 21] int32 one-hot (unknown letters -> X),
    between_segment_residues [N_res] int32 zeros, residue_index [N_res]
    int32 0..N_res-1, seq_length [N_res] int32, domain_name [1] and
    sequence [1] (bytes objects).
  """
  num_res = len(sequence)
  return {
      'aatype': residue_constants.sequence_to_onehot(
          sequence, residue_constants.restype_order_with_x,
          map_unknown_to_x=True),
      'between_segment_residues': np.zeros((num_res,), np.int32),
      'domain_name': np.array([description.encode()], dtype=object),
      'residue_index': np.arange(num_res, dtype=np.int32),
      'seq_length': np.full((num_res,), num_res, np.int32),
      'sequence': np.array([sequence.encode()], dtype=object),
  }


def make_mmcif_features(mmcif: mmcif_lib.MmcifObject, chain_id: str
                        ) -> Dict[str, np.ndarray]:
  """Sequence and structure features of one mmCIF chain (a training
  target, Suppl. 1.2.9).

  Returns:
    make_sequence_features of the SEQRES sequence (modified residues as
    their parents), all_atom_positions [N_res, 37, 3] and all_atom_mask
    [N_res, 37] (zero for residues missing from the model), resolution
    (Å, float32 scalar), release_date [1] (bytes), is_distillation 0.
  """
  sequence = mmcif.chain_to_seqres.get(chain_id)
  if sequence is None:
    raise mmcif_lib.MmcifError(
        f'{mmcif.file_id}: no protein chain {chain_id!r} (chains: '
        f'{sorted(mmcif.chain_to_seqres)}).')
  features = make_sequence_features(sequence, f'{mmcif.file_id}_{chain_id}')
  positions, mask = mmcif_lib.get_atom_positions(mmcif, chain_id)
  features.update({
      'all_atom_positions': positions,
      'all_atom_mask': mask,
      'resolution': np.asarray(mmcif.header['resolution'], np.float32),
      'release_date': np.array([str(mmcif.header['release_date']).encode()],
                               dtype=object),
      'is_distillation': np.asarray(0., np.float32),
  })
  return features


@dataclasses.dataclass
class DataPipeline:
  """Runs the searches of one chain and assembles its raw features.

  Attributes:
    uniref90: a jackhmmer-like searcher (`query(sequence) -> Stockholm`),
      e.g. tools.jackhmmer.Jackhmmer(uniref90.fasta).
    mgnify: the same for MGnify, or None.
    bfd: an HHblits-like searcher (`query(fasta_path) -> A3M`) or a
      jackhmmer-like one for small BFD (set `bfd_is_jackhmmer`), or None.
    template_searcher: tools.hmmsearch.Hmmsearch or tools.hhsearch.HHSearch,
      or None for no templates.
    template_featurizer: templates.TemplateFeaturizer (with a searcher).
    uniref_max_hits, mgnify_max_hits: depth limits of the two jackhmmer
      alignments.
    use_precomputed_msas: reuse search outputs found in msa_output_dir.
  """
  uniref90: object
  mgnify: Optional[object] = None
  bfd: Optional[object] = None
  bfd_is_jackhmmer: bool = False
  template_searcher: Optional[object] = None
  template_featurizer: Optional[templates_lib.TemplateFeaturizer] = None
  uniref_max_hits: int = msa_lib.UNIREF_MAX_HITS
  mgnify_max_hits: int = msa_lib.MGNIFY_MAX_HITS
  use_precomputed_msas: bool = False

  def _cached(self, path: str, search: Callable[[], str]) -> str:
    if self.use_precomputed_msas and os.path.exists(path):
      return parsers.read_text(path)
    output = search()
    with open(path, 'w') as f:
      f.write(output)
    return output

  def process(self, input_fasta_path: str, msa_output_dir: str
              ) -> Dict[str, np.ndarray]:
    """Raw features of the single chain in `input_fasta_path`.

    Raises:
      ParseError: the FASTA file does not hold exactly one valid chain, or
        a search output (reused or new) or template mmCIF does not parse;
        the message names the file.
    """
    records = parsers.parse_query_fasta(parsers.read_text(input_fasta_path),
                                        input_fasta_path)
    if len(records) != 1:
      raise parsers.ParseError(f'{input_fasta_path}: the monomer pipeline takes '
                               f'one sequence, got {len(records)}.')
    description, sequence = records[0]
    os.makedirs(msa_output_dir, exist_ok=True)
    out = lambda name: os.path.join(msa_output_dir, name)

    uniref90_sto = self._cached(out('uniref90_hits.sto'),
                                lambda: self.uniref90.query(sequence))
    msas: List[parsers.Msa] = [parsers.parse_stockholm(
        uniref90_sto, out('uniref90_hits.sto')).truncate(self.uniref_max_hits)]
    if self.bfd is not None:
      if self.bfd_is_jackhmmer:
        sto = self._cached(out('small_bfd_hits.sto'),
                           lambda: self.bfd.query(sequence))
        msas.append(parsers.parse_stockholm(sto, out('small_bfd_hits.sto')))
      else:
        a3m = self._cached(out('bfd_uniclust_hits.a3m'),
                           lambda: self.bfd.query(input_fasta_path))
        msas.append(parsers.parse_a3m(a3m, out('bfd_uniclust_hits.a3m')))
    if self.mgnify is not None:
      sto = self._cached(out('mgnify_hits.sto'),
                         lambda: self.mgnify.query(sequence))
      msas.append(parsers.parse_stockholm(sto, out('mgnify_hits.sto')).truncate(
          self.mgnify_max_hits))

    features = make_sequence_features(sequence, description)
    features.update(msa_lib.make_msa_features(msas))
    if self.template_searcher is None or self.template_featurizer is None:
      features.update(templates_lib.empty_template_features(len(sequence)))
    else:
      name = f'pdb_hits.{self.template_searcher.output_extension}'
      output = self._cached(out(name), lambda: self.template_searcher.query(
          uniref90_sto, max_sequences=self.uniref_max_hits))
      hits = self.template_searcher.get_template_hits(output, sequence,
                                                      out(name))
      features.update(self.template_featurizer.get_templates(
          sequence, hits).features)
    return features
