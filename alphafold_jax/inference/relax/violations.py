"""Structural violations of a Protein, for the relaxation's stopping test."""
from __future__ import annotations

from typing import Dict

import ml_collections
import numpy as np

from alphafold_jax.common import all_atom
from alphafold_jax.common import protein as protein_lib
from alphafold_jax.data import supervised
from alphafold_jax.losses import violations as violations_lib

# The thresholds of the structure module's violation loss (Suppl. 1.9.11):
# bonds and angles beyond 12 standard deviations, clashes beyond 1.5 Å of
# overlap.
VIOLATION_TOLERANCE_FACTOR = 12.0
CLASH_OVERLAP_TOLERANCE = 1.5


def chain_separated_residue_index(prot: protein_lib.Protein) -> np.ndarray:
  """[N] residue numbers made distinct across chains, with a gap between
  chains: the checks below treat residues whose numbers differ by one as
  peptide-bonded and compare each pair once by number, so a complex's
  per-chain numbering (each chain from 1) must not make residues of two
  chains look bonded or equal."""
  residue_index = np.asarray(prot.residue_index, np.int64)
  chain_index = np.asarray(prot.chain_index, np.int64)
  if residue_index.size == 0:
    return residue_index.astype(np.int32)
  # Chains in order of appearance, each shifted past the previous ones.
  _, first = np.unique(chain_index, return_index=True)
  order = np.argsort(np.argsort(first))
  rank = order[np.searchsorted(np.unique(chain_index), chain_index)]
  span = residue_index.max() - residue_index.min() + 2
  return (residue_index + rank * span).astype(np.int32)


def find_violations(prot: protein_lib.Protein) -> Dict[str, np.ndarray]:
  """Per-residue violations of a structure.

  Returns:
    violations_per_residue [N] (1 where a residue takes part in a bond,
    angle or clash violation) and num_residue_violations ().
  """
  aatype = np.asarray(prot.aatype, np.int32)
  batch = dict(supervised.make_atom14_masks(aatype))
  batch['aatype'] = aatype
  batch['residue_index'] = chain_separated_residue_index(prot)
  atom14 = all_atom.make_atom14_positions(
      aatype, np.asarray(prot.atom_positions, np.float32),
      np.asarray(prot.atom_mask, np.float32))
  # Atoms the structure lacks do not exist for the checks.
  batch['atom14_atom_exists'] = np.asarray(atom14['atom14_gt_exists'])
  config = ml_collections.ConfigDict({
      'violation_tolerance_factor': VIOLATION_TOLERANCE_FACTOR,
      'clash_overlap_tolerance': CLASH_OVERLAP_TOLERANCE})
  violations = violations_lib.find_structural_violations(
      batch, atom14['atom14_gt_positions'], config)
  per_residue = np.asarray(violations['total_per_residue_violations_mask'])
  return {'violations_per_residue': per_residue,
          'num_residue_violations': np.sum(per_residue)}
