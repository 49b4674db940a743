"""lDDT (Mariani et al. 2013) without stereochemical checks (Suppl. section 1.9.6).

Used as the target of the pLDDT head and as a training metric.
"""
from __future__ import annotations

from typing import Optional

import jax
import jax.numpy as jnp

# Distance-difference thresholds (Å) of the lDDT score; each one passed counts
# a quarter.
LDDT_THRESHOLDS = (0.5, 1.0, 2.0, 4.0)
# Only pairs closer than this in the true structure are scored (Å).
LDDT_CUTOFF = 15.
_EPSILON = 1e-10


def lddt(predicted_points: jax.Array,
         true_points: jax.Array,
         true_points_mask: jax.Array,
         cutoff: float = LDDT_CUTOFF,
         per_residue: bool = False,
         pair_mask: Optional[jax.Array] = None) -> jax.Array:
  """lDDT of `predicted_points` against `true_points`.

  Args:
    predicted_points: [B, N, 3].
    true_points: [B, N, 3].
    true_points_mask: [B, N, 1] 1 where the true point exists.
    cutoff: inclusion radius in the true structure (Å).
    per_residue: score each point separately instead of the whole structure.
    pair_mask: [B, N, N] 1 for the pairs that may be scored (e.g. the
      inter-chain pairs of interface lDDT); all pairs when None.

  Returns:
    [B, N] if per_residue else [B], in [0, 1].
  """
  if predicted_points.ndim != 3 or predicted_points.shape[-1] != 3:
    raise ValueError(f'points must be [B, N, 3], got {predicted_points.shape}')
  if true_points_mask.ndim != 3 or true_points_mask.shape[-1] != 1:
    raise ValueError(f'mask must be [B, N, 1], got {true_points_mask.shape}')
  dtype = predicted_points.dtype
  true_points = jnp.asarray(true_points, dtype)
  true_points_mask = jnp.asarray(true_points_mask, dtype)

  def dmat(x):
    return jnp.sqrt(_EPSILON + jnp.sum(
        jnp.square(x[:, :, None] - x[:, None, :]), axis=-1))

  dmat_true = dmat(true_points)
  dmat_predicted = dmat(predicted_points)

  num_points = dmat_true.shape[1]
  dists_to_score = ((dmat_true < cutoff).astype(dtype) * true_points_mask *
                    jnp.transpose(true_points_mask, [0, 2, 1]) *
                    (1. - jnp.eye(num_points, dtype=dtype)))
  if pair_mask is not None:
    dists_to_score = dists_to_score * jnp.asarray(pair_mask, dtype)
  dist_l1 = jnp.abs(dmat_true - dmat_predicted)
  score = 0.25 * sum((dist_l1 < t).astype(dtype) for t in LDDT_THRESHOLDS)

  reduce_axes = (-1,) if per_residue else (-2, -1)
  norm = 1. / (_EPSILON + jnp.sum(dists_to_score, axis=reduce_axes))
  return norm * (_EPSILON + jnp.sum(dists_to_score * score, axis=reduce_axes))
