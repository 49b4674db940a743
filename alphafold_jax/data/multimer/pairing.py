"""Pairing the UniProt alignments of a heteromer's chains by species.

AlphaFold-Multimer supplement, "MSA pairing": rows of the chains' UniProt
(`*_all_seq`) alignments that come from the same species are placed on the
same row of the paired MSA, so that co-evolution between chains can be
read across it. Per species present in at least two chains (and with at
most 600 rows in each), the rows of each chain are ranked by their identity
to the chain's query and the top k are paired, k being the smallest row
count among the chains that have the species; a chain without the species
gets a gap row. The query rows are paired first. Paired rows are ordered by
the number of chains they pair (most first), then by the product of their
row indices (rows near the top of every alignment first).

Unpaired rows (the monomer MSAs) that repeat a paired row of the same chain
are then dropped, the query included.
"""
from __future__ import annotations

from typing import Dict, List, Mapping, Sequence

import numpy as np

from alphafold_jax.common import residue_constants

# Gap in HHblits' residue order (the raw MSA's alphabet).
MSA_GAP_IDX = residue_constants.HHBLITS_AA_TO_ID['-']
# Species with more rows than this in any chain are not paired.
MAX_ROWS_PER_SPECIES = 600
MSA_FEATURES = ('msa', 'msa_mask', 'deletion_matrix', 'deletion_matrix_int')
# The value of the appended row that a chain lacking a species pairs with.
_ALL_SEQ_PAD_VALUES = {'msa_all_seq': MSA_GAP_IDX, 'msa_mask_all_seq': 1,
                       'deletion_matrix_all_seq': 0,
                       'deletion_matrix_int_all_seq': 0}
_SPECIES_KEY = 'msa_species_identifiers_all_seq'

Features = Dict[str, np.ndarray]


def _descending_order(values: np.ndarray) -> np.ndarray:
  """Indices sorting `values` from largest to smallest.

  The ordering of the reference's table sort (pandas, quicksort): sort the
  reversed values ascending and reverse the result, so that for small groups
  (where quicksort is stable) equal values keep their row order.
  """
  reversed_index = np.arange(len(values))[::-1]
  ascending = reversed_index[np.argsort(values[::-1], kind='quicksort')]
  return ascending[::-1]


def _rows_by_species(chain: Mapping[str, np.ndarray]
                     ) -> Dict[bytes, np.ndarray]:
  """Species -> that species' row indices of the chain's UniProt MSA, most
  similar to the query first."""
  msa = np.asarray(chain['msa_all_seq'])
  species = np.asarray(chain[_SPECIES_KEY])
  if species.shape[0] != msa.shape[0]:
    raise ValueError(f'{_SPECIES_KEY} has {species.shape[0]} rows, '
                     f'msa_all_seq {msa.shape[0]}.')
  num_res = msa.shape[1]
  similarity = np.sum(msa[0][None] == msa, axis=-1) / float(num_res)
  rows: Dict[bytes, List[int]] = {}
  for row, name in enumerate(species.tolist()):
    name = name.encode() if isinstance(name, str) else bytes(name)
    rows.setdefault(name, []).append(row)
  return {name: np.asarray(indices)[_descending_order(similarity[indices])]
          for name, indices in rows.items()}


def pair_sequences(chains: Sequence[Mapping[str, np.ndarray]]
                   ) -> Dict[int, np.ndarray]:
  """Paired rows of the chains' UniProt MSAs, by species.

  Returns:
    number of chains paired -> [N_pairs, N_chains] row indices (-1: the gap
    row appended to a chain that lacks the species); the query row
    [0, ..., 0] is under N_chains.
  """
  num_chains = len(chains)
  per_chain = [_rows_by_species(chain) for chain in chains]
  all_species = sorted(set().union(*per_chain) - {b''})
  paired: Dict[int, List[np.ndarray]] = {n: [] for n in range(num_chains + 1)}
  paired[num_chains].append(np.zeros(num_chains, int))
  for species in all_species:
    groups = [rows.get(species) for rows in per_chain]
    present = [g for g in groups if g is not None]
    if len(present) <= 1:
      continue
    if any(len(g) > MAX_ROWS_PER_SPECIES for g in present):
      continue
    take = min(len(g) for g in present)
    columns = [g[:take] if g is not None else np.full(take, -1)
               for g in groups]
    paired[len(present)].extend(np.stack(columns, axis=1))
  return {n: np.asarray(rows, dtype=int).reshape(-1, num_chains)
          for n, rows in paired.items()}


def reorder_paired_rows(paired: Mapping[int, np.ndarray]) -> np.ndarray:
  """[N_pairs, N_chains]: rows pairing more chains first; within the same
  count, by |product of row indices| ascending."""
  ordered = []
  for num_paired in sorted(paired, reverse=True):
    rows = paired[num_paired]
    product = np.abs(np.array([np.prod(r) for r in rows], dtype=int))
    ordered.extend(rows[np.argsort(product)])
  return np.array(ordered)


def _pad_all_seq(value: np.ndarray, name: str) -> np.ndarray:
  """Appends the row that index -1 selects for an unpaired chain."""
  if name in _ALL_SEQ_PAD_VALUES:
    pad = np.full((1,) + value.shape[1:], _ALL_SEQ_PAD_VALUES[name],
                  value.dtype)
  elif name == _SPECIES_KEY:
    pad = np.array([b''], dtype=object)
  else:
    return value
  return np.concatenate([value, pad], axis=0)


def create_paired_features(chains: Sequence[Mapping[str, np.ndarray]]
                           ) -> List[Features]:
  """Replaces each chain's `*_all_seq` features by its paired rows.

  Args:
    chains: the chains' features, each with msa_all_seq [N_all_seq, N_res]
      (HHblits order), msa_species_identifiers_all_seq [N_all_seq] and the
      other `*_all_seq` features.

  Returns:
    New feature dicts whose `*_all_seq` features have N_pairs rows (the same
    for every chain, row i of each chain paired), and num_alignments_all_seq
    = N_pairs. A single chain is returned unchanged.
  """
  if len(chains) < 2:
    return [dict(c) for c in chains]
  rows = reorder_paired_rows(pair_sequences(chains))
  all_seq_names = [k for k in chains[0] if k.endswith('_all_seq')]
  new_chains = []
  for index, chain in enumerate(chains):
    new = {k: v for k, v in chain.items() if '_all_seq' not in k}
    for name in all_seq_names:
      value = np.asarray(chain[name])
      new[name] = _pad_all_seq(value, name)[rows[:, index]]
    new['num_alignments_all_seq'] = np.asarray(rows.shape[0])
    new_chains.append(new)
  return new_chains


def deduplicate_unpaired_sequences(chains: Sequence[Mapping[str, np.ndarray]]
                                   ) -> List[Features]:
  """Drops the unpaired MSA rows of each chain that equal one of its paired
  rows (the MSA features lose those rows; num_alignments is recounted)."""
  new_chains = []
  for chain in chains:
    paired = {tuple(row) for row in np.asarray(chain['msa_all_seq']).tolist()}
    keep = [i for i, row in enumerate(np.asarray(chain['msa']).tolist())
            if tuple(row) not in paired]
    new = dict(chain)
    for name in MSA_FEATURES:
      if name in new:
        new[name] = np.asarray(new[name])[keep]
    new['num_alignments'] = np.array(new['msa'].shape[0], dtype=np.int32)
    new_chains.append(new)
  return new_chains
