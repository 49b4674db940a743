"""Accuracy of a prediction against an experimental structure.

lDDT-Cα (Mariani et al. 2013, the accuracy measure of Suppl. 1.9.6) and
TM-score (Zhang & Skolnick 2004) with the superposition search of the
TM-score program: Kabsch fits on seed fragments, each refined by refitting
on the residues that lie within a distance cut-off.
"""
from __future__ import annotations

from typing import Optional

import numpy as np

from alphafold_jax.common import protein as protein_lib
from alphafold_jax.common import residue_constants
from alphafold_jax.losses.lddt import lddt
from alphafold_jax.training import complex_metrics
from alphafold_jax.training import dockq as dockq_lib

_CA = residue_constants.atom_order['CA']

# TM-score's d0 (Å) never falls below this (the TM-score program's floor
# for short chains).
MIN_D0 = 0.5
# The cut-off that selects residues for refitting is d0 clipped to this
# range (Å), as in the TM-score program.
D0_SEARCH_RANGE = (4.5, 8.0)
# Seeds: fragments of L, L/2, L/4, ... residues down to this length.
MIN_SEED_LENGTH = 4
# Refinement rounds per seed.
MAX_REFINEMENTS = 20


def _check(pred: np.ndarray, true: np.ndarray, mask: Optional[np.ndarray]):
  pred = np.asarray(pred, np.float64)
  true = np.asarray(true, np.float64)
  if pred.shape != true.shape or pred.ndim != 2 or pred.shape[1] != 3:
    raise ValueError(f'Need two [N, 3] point sets, got {pred.shape} and '
                     f'{true.shape}.')
  mask = (np.ones(len(pred), bool) if mask is None
          else np.asarray(mask).astype(bool))
  return pred, true, mask


def lddt_ca(pred_ca: np.ndarray, true_ca: np.ndarray,
            mask: Optional[np.ndarray] = None) -> float:
  """lDDT-Cα in [0, 1] (15 Å inclusion radius, no stereochemistry checks).

  Args:
    pred_ca, true_ca: [N, 3] Cα positions (Å).
    mask: [N] 1 where the experimental Cα exists.
  """
  pred, true, mask = _check(pred_ca, true_ca, mask)
  # float32: the loss code's dtype (float64 needs jax x64 mode).
  score = lddt(pred[None].astype(np.float32), true[None].astype(np.float32),
               mask.astype(np.float32)[None, :, None])
  return float(np.asarray(score)[0])


def kabsch(moving: np.ndarray, target: np.ndarray):
  """The rotation R and translation t minimising |moving @ R.T + t - target|."""
  mu_m, mu_t = moving.mean(0), target.mean(0)
  h = (moving - mu_m).T @ (target - mu_t)
  u, _, vt = np.linalg.svd(h)
  d = np.sign(np.linalg.det(vt.T @ u.T))
  # Reflections are not rigid motions: flip the smallest axis instead.
  rotation = vt.T @ np.diag([1., 1., d]) @ u.T
  return rotation, mu_t - mu_m @ rotation.T


def tm_d0(num_res: int) -> float:
  """TM-score's distance scale d0 (Å) for a target of num_res residues."""
  if num_res <= 15:
    return MIN_D0
  return max(MIN_D0, 1.24 * (num_res - 15) ** (1. / 3) - 1.8)


def tm_score(pred_ca: np.ndarray, true_ca: np.ndarray,
             mask: Optional[np.ndarray] = None) -> float:
  """TM-score in (0, 1] of a predicted chain, normalised by the target length.

  Args:
    pred_ca, true_ca: [N, 3] Cα positions of the same residues (Å).
    mask: [N] 1 where the experimental Cα exists.
  """
  pred, true, mask = _check(pred_ca, true_ca, mask)
  pred, true = pred[mask], true[mask]
  num_res = len(true)
  if num_res < 3:
    raise ValueError(f'TM-score needs at least 3 residues, got {num_res}.')
  d0 = tm_d0(num_res)
  d_search = float(np.clip(d0, *D0_SEARCH_RANGE))
  best = 0.
  length = num_res
  while True:
    step = max(1, length // 2)
    for start in range(0, num_res - length + 1, step):
      subset = np.arange(start, start + length)
      for _ in range(MAX_REFINEMENTS):
        rotation, translation = kabsch(pred[subset], true[subset])
        dist = np.linalg.norm(pred @ rotation.T + translation - true, axis=-1)
        best = max(best, float(np.sum(1. / (1. + (dist / d0) ** 2))) / num_res)
        cutoff = d_search
        chosen = np.nonzero(dist < cutoff)[0]
        # Too few close residues to fit a frame: widen the cut-off.
        while len(chosen) < 3:
          cutoff += 0.5
          chosen = np.nonzero(dist < cutoff)[0]
        if np.array_equal(chosen, subset):
          break
        subset = chosen
    if length <= MIN_SEED_LENGTH:
      break
    length = max(MIN_SEED_LENGTH, length // 2)
  return best


def compare_structures(predicted: protein_lib.Protein,
                       experimental: protein_lib.Protein) -> dict:
  """lDDT-Cα and TM-score of a prediction against an experimental chain.

  Residues are matched in order; the two chains must have the same sequence
  (the experimental chain's observed residues are the ones predicted).

  Returns:
    {'lddt_ca': in [0, 1], 'tm_score': in (0, 1], 'num_residues': N}.

  Raises:
    ValueError: the sequences differ.
  """
  if (predicted.aatype.shape != experimental.aatype.shape or
      np.any(predicted.aatype != experimental.aatype)):
    raise ValueError(
        f'The prediction ({len(predicted.aatype)} residues) and the '
        f'experimental chain ({len(experimental.aatype)}) differ in sequence.')
  pred = predicted.atom_positions[:, _CA]
  true = experimental.atom_positions[:, _CA]
  mask = experimental.atom_mask[:, _CA] * predicted.atom_mask[:, _CA]
  return {'lddt_ca': lddt_ca(pred, true, mask),
          'tm_score': tm_score(pred, true, mask),
          'num_residues': int(np.sum(mask))}


def compare_complexes(predicted: protein_lib.Protein,
                      experimental: protein_lib.Protein) -> dict:
  """lDDT-Cα, interface lDDT-Cα and DockQ of a predicted complex against
  the experimental one (training/complex_metrics.py, training/dockq.py:
  DockQ v2's mean over the chain pairs in contact).

  Residues are matched in order and chains by their order: the two
  structures must have the same sequence cut into the same chains.

  Returns:
    {'lddt_ca', 'interface_lddt', 'dockq': in [0, 1], 'num_chains',
     'num_interfaces', 'num_residues'}.

  Raises:
    ValueError: the sequences or the chain lengths differ, or there is one
      chain.
  """
  def chain_lengths(prot):
    starts = np.flatnonzero(np.diff(prot.chain_index)) + 1
    return np.diff(np.concatenate([[0], starts, [len(prot.chain_index)]]))

  if (predicted.aatype.shape != experimental.aatype.shape or
      np.any(predicted.aatype != experimental.aatype)):
    raise ValueError(
        f'The prediction ({len(predicted.aatype)} residues) and the '
        f'experimental complex ({len(experimental.aatype)}) differ in '
        'sequence.')
  lengths = chain_lengths(experimental)
  if not np.array_equal(chain_lengths(predicted), lengths):
    raise ValueError(f'The chains differ in length: predicted '
                     f'{chain_lengths(predicted).tolist()}, experimental '
                     f'{lengths.tolist()}.')
  if len(lengths) < 2:
    raise ValueError('compare_complexes needs two or more chains; use '
                     'compare_structures for one.')
  asym_id = np.repeat(np.arange(1, len(lengths) + 1), lengths)
  # JAX's default precision (float32) for the JAX metrics.
  as32 = lambda x: np.asarray(x, np.float32)
  true_mask = as32(experimental.atom_mask * predicted.atom_mask[:, _CA, None])
  ca_mask = true_mask[:, _CA]
  pred = as32(predicted.atom_positions)
  true = as32(experimental.atom_positions)
  scores = dockq_lib.complex_dockq(pred, as32(predicted.atom_mask), true,
                                   true_mask, asym_id, len(lengths))
  return {
      'lddt_ca': lddt_ca(pred[:, _CA], true[:, _CA], ca_mask),
      'interface_lddt': float(complex_metrics.interface_lddt_ca(
          pred[:, _CA], true[:, _CA], ca_mask, asym_id)),
      'dockq': float(scores['dockq']),
      'num_chains': len(lengths),
      'num_interfaces': int(scores['num_interfaces']),
      'num_residues': int(np.sum(ca_mask)),
  }
