"""Training complexes read from mmCIF entries (AlphaFold-Multimer, Evans et
al. 2021, section 7.1), with their filters and per-sequence alignments.

A complex is every protein chain of the entry's first biological assembly,
the assembly's operators applied (bio_assembly.py: a homodimer made by
crystal symmetry gets both copies), or the deposited chains when the entry
gives no assembly. Only mmCIF files are read: single-chain PDB files hold no
complex.

Filters (filters.FilterConfig, as for single chains):
  * per entry: release date and resolution; the entry is left out;
  * per chain: minimum length and the single-amino-acid share; the chain is
    dropped from the complex (peptides shorter than the minimum are often
    ligands) and the complex kept if chains remain;
  * then at most `max_chains` chains (the released v2.3 weights trained on
    up to 20; the first AlphaFold-Multimer on 8); a larger complex is left
    out whole rather than cut into a complex that does not exist.
A file, chain or assembly that cannot be read leaves the entry out.

For small runs on structure files (train/train.py with a multimer config
and config.dataset.pdb_files; benchmarks/overfit.py), `read_structure_file`
takes every protein chain of a PDB or mmCIF file's first model as it is,
and `single_sequence_alignments` gives each sequence an MSA of itself.

Alignments are per distinct sequence (each copy of a sequence shares its
MSA, as in the multimer inference pipeline), read from the folder
'<pdb_id>_<chain>' of any chain with that sequence (alignments.py layout)
plus, for a heteromer, uniprot_hits.sto: the UniProt hits whose species
pair the chains' MSAs.
"""
from __future__ import annotations

import dataclasses
import os
from typing import Dict, List, Optional, Sequence, Tuple, Union

import numpy as np

from alphafold_jax.common import protein as protein_lib
from alphafold_jax.common import residue_constants
from alphafold_jax.data import bio_assembly
from alphafold_jax.data import features as features_lib
from alphafold_jax.data import mmcif as mmcif_lib
from alphafold_jax.data import msa as msa_lib
from alphafold_jax.data import parsers
from alphafold_jax.data import structure_features
from alphafold_jax.data import templates as templates_lib
from alphafold_jax.data.datasets import alignments
from alphafold_jax.data.datasets import chains as chains_lib
from alphafold_jax.data.datasets import filters
from alphafold_jax.data.multimer import pipeline as multimer_pipeline

# Evans et al. 2021 trained on at most 8 chains; AlphaFold v2.3's weights
# (technical note v2.3.0) on up to 20.
MAX_CHAINS = 20
UNIPROT = multimer_pipeline.UNIPROT_OUTPUT
# Two chains touch when resolved Cα of each are closer than this (Å), the
# interface of the multi-chain spatial crop.
INTERFACE_CUTOFF = 10.
_CA = residue_constants.atom_order['CA']


@dataclasses.dataclass(frozen=True)
class ComplexChain:
  """One chain of a complex.

  Attributes:
    chain_id: its name in the assembly ('A', or 'A-2' for copy 2 of A).
    source_chain: '<pdb_id>_<author chain>': the alignment folder and the
      member name in the clusters file (copies share it).
    sequence: SEQRES one-letter sequence [N_res].
    all_atom_positions: [N_res, 37, 3] float32 Å, the operator applied.
    all_atom_mask: [N_res, 37] float32.
  """
  chain_id: str
  source_chain: str
  sequence: str
  all_atom_positions: np.ndarray
  all_atom_mask: np.ndarray


@dataclasses.dataclass(frozen=True)
class ComplexStructure:
  """A complex and its entry's metadata (see chains.ChainStructure)."""
  name: str
  chains: Tuple[ComplexChain, ...]
  resolution: float
  release_date: str
  structure_method: str
  source: str


ComplexOrSkipped = Union[ComplexStructure, chains_lib.Skipped]


def read_complex(path: str) -> ComplexOrSkipped:
  """The first biological assembly of one mmCIF file (a Skipped naming the
  file and the problem when it cannot be read)."""
  source = os.path.basename(path)
  pdb_id = chains_lib.file_stem(source).lower()
  try:
    entry = mmcif_lib.read(path, pdb_id)
    assembly = bio_assembly.first_assembly(entry)
    if not assembly:
      return chains_lib.Skipped(pdb_id, source, 'the first assembly has no '
                                'protein chain with coordinates')
    names = bio_assembly.chain_names(assembly)
    positions = {}
    result = []
    for name, part in zip(names, assembly):
      auth = part.auth_chain_id
      if auth not in positions:
        positions[auth] = mmcif_lib.get_atom_positions(entry, auth)
      atoms, mask = positions[auth]
      result.append(ComplexChain(
          chain_id=name, source_chain=filters.chain_name(pdb_id, auth),
          sequence=entry.chain_to_seqres[auth],
          all_atom_positions=part.apply(atoms, mask), all_atom_mask=mask))
  except mmcif_lib.MmcifError as e:
    return chains_lib.Skipped(pdb_id, source, f'unreadable mmCIF: {e}')
  except Exception as e:  # pylint: disable=broad-except
    # A damaged file can fail in Biopython or numpy in many ways; it is
    # reported, and the build goes on.
    return chains_lib.Skipped(pdb_id, source, f'unreadable mmCIF: '
                              f'{type(e).__name__}: {e}')
  header = entry.header
  return ComplexStructure(
      name=pdb_id, chains=tuple(result),
      resolution=float(header['resolution']),
      release_date=str(header['release_date']),
      structure_method=str(header['structure_method']), source=source)


def read_structure_file(path: str) -> ComplexStructure:
  """Every protein chain of a PDB or mmCIF file's first model (optionally
  gzipped), in file order, as deposited (no assembly operators).

  A chain's sequence is its residues with coordinates; a gap in its residue
  numbering is filled with unknown residues (X) without atoms, so that
  residue_index keeps the file's spacing.

  Raises:
    ValueError: the file cannot be read, or has no protein chain (named
      in the message).
  """
  whole = structure_features.read_structure(path, all_chains=True)
  letters = residue_constants.restypes_with_x
  chains = []
  for index in np.unique(whole.chain_index):
    rows = whole.chain_index == index
    numbers = whole.residue_index[rows]
    span = np.arange(numbers.min(), numbers.max() + 1)
    if len(np.unique(numbers)) != len(numbers):
      raise ValueError(f'{path}: chain {protein_lib.PDB_CHAIN_IDS[index]} '
                       'numbers two residues alike (insertion codes are '
                       'not supported).')
    at = numbers - span[0]
    aatype = np.full(len(span), residue_constants.restype_num, np.int32)
    aatype[at] = whole.aatype[rows]
    positions = np.zeros((len(span),) + whole.atom_positions.shape[1:],
                         np.float32)
    positions[at] = whole.atom_positions[rows]
    mask = np.zeros((len(span),) + whole.atom_mask.shape[1:], np.float32)
    mask[at] = whole.atom_mask[rows]
    name = protein_lib.PDB_CHAIN_IDS[index]
    chains.append(ComplexChain(
        chain_id=name, source_chain=name,
        sequence=''.join(letters[a] for a in aatype),
        all_atom_positions=positions, all_atom_mask=mask))
  if not chains:
    raise ValueError(f'{path}: no protein chain with coordinates.')
  return ComplexStructure(
      name=chains_lib.file_stem(os.path.basename(path)), chains=tuple(chains),
      # A structure file's resolution is not read: the default of single
      # chains read from files (data/features.py).
      resolution=features_lib.DEFAULT_RESOLUTION, release_date='',
      structure_method='', source=os.path.basename(path))


def single_sequence_alignments(chains: Sequence[ComplexChain]
                               ) -> List[Dict[str, np.ndarray]]:
  """entity_alignments' features for chains without searches: per distinct
  sequence an MSA of the sequence alone, no templates, and for a heteromer
  the same single row as its UniProt hits (the query rows always pair)."""
  sequences = entity_sequences(chains)
  result = []
  for sequence in sequences:
    msa = parsers.Msa(sequences=(sequence,),
                      deletion_matrix=((0,) * len(sequence),),
                      descriptions=('query',))
    features = dict(msa_lib.make_msa_features([msa]))
    features.update(templates_lib.empty_template_features(len(sequence)))
    if len(sequences) > 1:
      features.update(multimer_pipeline.all_seq_msa_features(msa))
    result.append(features)
  return result


def apply_filters(complex_: ComplexStructure, config: filters.FilterConfig,
                  max_chains: int = MAX_CHAINS
                  ) -> Tuple[Optional[ComplexStructure], List[Tuple[str, str]]]:
  """The complex with the filters applied (see the module docstring).

  Returns:
    (the kept complex or None, [(name, reason)] of what was left out: the
    entry's pdb id for the whole complex, '<pdb_id>_<chain name>' for a
    dropped chain).
  """
  reason = filters.entry_rejection_reason(
      complex_.resolution, complex_.release_date, config)
  if reason:
    return None, [(complex_.name, reason)]
  kept, left_out = [], []
  for chain in complex_.chains:
    reason = filters.rejection_reason(chain.sequence, complex_.resolution,
                                      complex_.release_date, config)
    if reason:
      left_out.append((f'{complex_.name}_{chain.chain_id}', reason))
    else:
      kept.append(chain)
  if not kept:
    return None, left_out + [(complex_.name, 'no chain passes the filters')]
  if len(kept) > max_chains:
    return None, left_out + [(complex_.name, f'{len(kept)} chains, more than '
                              f'{max_chains}')]
  return dataclasses.replace(complex_, chains=tuple(kept)), left_out


def interfaces(chains: Sequence[ComplexChain],
               cutoff: float = INTERFACE_CUTOFF) -> List[Tuple[int, int]]:
  """Pairs (i < j) of chains with resolved Cα closer than `cutoff` Å."""
  ca = [(c.all_atom_positions[:, _CA][c.all_atom_mask[:, _CA] > 0])
        for c in chains]
  pairs = []
  for i in range(len(chains)):
    for j in range(i + 1, len(chains)):
      if not (len(ca[i]) and len(ca[j])):
        continue
      # Bounding boxes first: most chain pairs of a large assembly are far
      # apart.
      gap = np.maximum(ca[i].min(0) - ca[j].max(0),
                       ca[j].min(0) - ca[i].max(0))
      if np.linalg.norm(np.maximum(gap, 0.)) >= cutoff:
        continue
      d = np.linalg.norm(ca[i][:, None] - ca[j][None], axis=-1)
      if d.min() < cutoff:
        pairs.append((i, j))
  return pairs


def entity_sequences(chains: Sequence[ComplexChain]) -> List[str]:
  """The distinct sequences, in order of first appearance."""
  return list(dict.fromkeys(c.sequence for c in chains))


def _alignment_folder(alignment_dir: str, sequence: str,
                      chains: Sequence[ComplexChain]) -> str:
  """The first existing folder of a chain with this sequence."""
  names = list(dict.fromkeys(c.source_chain for c in chains
                             if c.sequence == sequence))
  for name in names:
    folder = os.path.join(alignment_dir, name)
    if os.path.isdir(folder):
      return folder
  raise alignments.AlignmentError(
      f'no alignment folder for {", ".join(names)} in {alignment_dir}')


def uniprot_features(folder: str, sequence: str,
                     max_hits: int = multimer_pipeline.UNIPROT_MAX_HITS
                     ) -> Dict[str, np.ndarray]:
  """msa_all_seq, deletion_matrix_int_all_seq [N_all_seq, N_res] and
  msa_species_identifiers_all_seq [N_all_seq] from uniprot_hits.sto.

  Raises:
    alignments.AlignmentError: the file is missing, malformed, or its query
      is not `sequence`.
  """
  path = os.path.join(folder, UNIPROT)
  if not os.path.exists(path):
    raise alignments.AlignmentError(
        f'no {UNIPROT} in {folder} (a heteromer needs the UniProt hits to '
        'pair its chains)')
  try:
    msa = parsers.parse_stockholm(parsers.read_text(path), path)
  except parsers.ParseError as e:
    raise alignments.AlignmentError(f'malformed {UNIPROT}: {e}') from e
  msa = msa.truncate(max_hits)
  if not msa.sequences or msa.sequences[0] != sequence:
    raise alignments.AlignmentError(
        f'{path}: the first row is not the chain sequence')
  return multimer_pipeline.all_seq_msa_features(msa)


def entity_alignments(alignment_dir: str, chains: Sequence[ComplexChain],
                      template_featurizer=None
                      ) -> List[Dict[str, np.ndarray]]:
  """Per distinct sequence (entity_sequences order): msa,
  deletion_matrix_int [N_seq, N_res]; the template features of
  alignments.template_features; and for a heteromer the `*_all_seq`
  features of uniprot_features.

  Raises:
    alignments.AlignmentError: a sequence without usable alignments.
  """
  sequences = entity_sequences(chains)
  result = []
  for sequence in sequences:
    folder = _alignment_folder(alignment_dir, sequence, chains)
    features = dict(alignments.msa_features(folder, sequence))
    try:
      features.update(alignments.template_features(folder, sequence,
                                                   template_featurizer))
    except templates_lib.TemplateError as e:
      raise alignments.AlignmentError(f'{folder}: templates: {e}') from e
    if len(sequences) > 1:
      features.update(uniprot_features(folder, sequence))
    result.append(features)
  return result
