"""Per-chain features of a complex: conversion and the chain identifiers.

AlphaFold-Multimer supplement, "Features": each chain's raw monomer
features (Suppl. 1.2, Table 1) are converted to per-chain model features,
and every residue is labelled with three chain identifiers:
  entity_id: 1, 2, ... per distinct sequence, in order of first appearance;
  sym_id: 1, 2, ... the copy number of the chain within its entity;
  asym_id: 1, 2, ... per chain, counted over the chains grouped by entity.
The chains are reordered entity by entity (copies of an entity adjacent, in
input order), which is the residue order of the merged example.
"""
from __future__ import annotations

from typing import Dict, List, Mapping, Tuple

import numpy as np

from alphafold_jax.common import residue_constants

# Raw features that repeat a per-chain scalar on a leading axis.
_LEADING_AXIS_FEATURES = ('sequence', 'domain_name', 'num_alignments',
                          'seq_length')

Features = Dict[str, np.ndarray]


def _sequence_of(features: Mapping[str, np.ndarray]) -> str:
  sequence = np.asarray(features['sequence']).reshape(-1)[0]
  return sequence.decode() if isinstance(sequence, bytes) else str(sequence)


def convert_monomer_features(raw: Mapping[str, np.ndarray], chain_id: str
                             ) -> Features:
  """One chain's raw monomer features -> its multimer features.

  Args:
    raw: the monomer pipeline's raw features (aatype [N_res, 21] one-hot,
      msa [N_seq, N_res], template_aatype [N_templ, N_res, 22] one-hot in
      HHblits order, template_all_atom_masks ...), plus any `*_all_seq`
      features of the UniProt search.
    chain_id: the chain's name (kept as `auth_chain_id`).

  Returns:
    The same features with sequence, domain_name, num_alignments and
    seq_length as scalars, aatype [N_res] int32, template_aatype
    [N_templ, N_res] int in the model's residue order, and
    template_all_atom_masks renamed template_all_atom_mask.
  """
  converted = {'auth_chain_id': np.asarray(chain_id, dtype=object)}
  for name, value in raw.items():
    value = np.asarray(value)
    if name in _LEADING_AXIS_FEATURES:
      value = np.asarray(value.reshape(-1)[0], dtype=value.dtype)
    elif name == 'aatype':
      value = np.argmax(value, axis=-1).astype(np.int32)
    elif name == 'template_aatype':
      if value.ndim == 3:
        value = np.argmax(value, axis=-1).astype(np.int32)
      value = np.take(residue_constants.MAP_HHBLITS_AATYPE_TO_OUR_AATYPE,
                      value.astype(np.int32), axis=0)
    elif name == 'template_all_atom_masks':
      name = 'template_all_atom_mask'
    converted[name] = value
  return converted


def entity_groups(sequences: Mapping[str, str]) -> List[List[str]]:
  """Chain ids grouped by identical sequence, groups in order of first
  appearance and chains in input order within a group."""
  groups: Dict[str, List[str]] = {}
  for chain_id, sequence in sequences.items():
    groups.setdefault(sequence, []).append(chain_id)
  return list(groups.values())


def add_assembly_features(chains: Mapping[str, Mapping[str, np.ndarray]]
                          ) -> List[Tuple[str, Features]]:
  """Labels each converted chain with asym_id, sym_id and entity_id.

  Args:
    chains: chain id -> converted features (`convert_monomer_features`), in
      input order.

  Returns:
    (chain id, features) pairs ordered entity by entity; each chain's
    features gain asym_id, sym_id and entity_id [N_res] float64 (constant
    per chain).
  """
  sequences = {chain_id: _sequence_of(f) for chain_id, f in chains.items()}
  labelled = []
  asym_id = 0
  for entity_id, group in enumerate(entity_groups(sequences), start=1):
    for sym_id, chain_id in enumerate(group, start=1):
      asym_id += 1
      features = dict(chains[chain_id])
      num_res = int(features['seq_length'])
      features['asym_id'] = np.full((num_res,), asym_id, np.float64)
      features['sym_id'] = np.full((num_res,), sym_id, np.float64)
      features['entity_id'] = np.full((num_res,), entity_id, np.float64)
      labelled.append((chain_id, features))
  return labelled
