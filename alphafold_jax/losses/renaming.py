"""Renaming of symmetric ground-truth atoms (Suppl. Alg. 26, section 1.8.5).

Some side chains are symmetric under a 180° flip (e.g. the two oxygens of Asp,
the ring of Phe), so their ground-truth atom names are ambiguous. Per
residue, the naming (original or swapped) whose distances to the unambiguous
atoms of the whole structure best match the prediction is used as the target.
"""
from __future__ import annotations

import jax
import jax.numpy as jnp

# Inside the square roots of the distances, as the reference has it.
_DIST_EPSILON = 1e-10


def _pairwise_dists(x: jax.Array) -> jax.Array:
  """[N, 14, 3] -> [N, N, 14, 14] distances between all atoms."""
  sq = jnp.sum(jnp.square(x[:, None, :, None, :] - x[None, :, None, :, :]),
               axis=-1)
  return jnp.sqrt(_DIST_EPSILON + sq)


def find_optimal_renaming(
    atom14_gt_positions: jax.Array,
    atom14_alt_gt_positions: jax.Array,
    atom14_atom_is_ambiguous: jax.Array,
    atom14_gt_exists: jax.Array,
    atom14_pred_positions: jax.Array) -> jax.Array:
  """Suppl. Alg. 26 lines 1-5: is the swapped naming closer to the prediction?

  Args:
    atom14_gt_positions, atom14_alt_gt_positions: [N_res, 14, 3] ground truth
      in the original and in the swapped naming.
    atom14_atom_is_ambiguous: [N_res, 14] 1 for atoms that swap.
    atom14_gt_exists: [N_res, 14].
    atom14_pred_positions: [N_res, 14, 3].

  Returns:
    [N_res] 1. where the alternative naming is better, else 0.
  """
  for x in (atom14_gt_positions, atom14_alt_gt_positions,
            atom14_pred_positions):
    if x.ndim != 3:
      raise ValueError(f'expected [N_res, 14, 3], got {x.shape}')
  dtype = atom14_pred_positions.dtype
  exists = jnp.asarray(atom14_gt_exists, dtype)
  ambiguous = jnp.asarray(atom14_atom_is_ambiguous, dtype)

  pred_dists = _pairwise_dists(atom14_pred_positions)
  gt_dists = _pairwise_dists(jnp.asarray(atom14_gt_positions, dtype))
  alt_gt_dists = _pairwise_dists(jnp.asarray(atom14_alt_gt_positions, dtype))

  # Distance errors (Alg. 26 line 3), with the epsilon of the reference.
  err = jnp.sqrt(_DIST_EPSILON + jnp.square(pred_dists - gt_dists))
  alt_err = jnp.sqrt(_DIST_EPSILON + jnp.square(pred_dists - alt_gt_dists))

  # Rows: ambiguous atoms of residue i; columns: unambiguous atoms anywhere.
  mask = (exists[:, None, :, None] * ambiguous[:, None, :, None] *
          exists[None, :, None, :] * (1. - ambiguous[None, :, None, :]))
  per_res_err = jnp.sum(mask * err, axis=(1, 2, 3))
  alt_per_res_err = jnp.sum(mask * alt_err, axis=(1, 2, 3))
  return (alt_per_res_err < per_res_err).astype(dtype)


def compute_renamed_ground_truth(batch, atom14_pred_positions: jax.Array
                                 ) -> dict:
  """Suppl. Alg. 26: the ground truth atoms in the naming that fits best.

  Args:
    batch: needs 'atom14_gt_positions', 'atom14_alt_gt_positions'
      [N_res, 14, 3], 'atom14_atom_is_ambiguous', 'atom14_gt_exists',
      'atom14_alt_gt_exists' [N_res, 14].
    atom14_pred_positions: [N_res, 14, 3] predicted atoms (final layer).

  Returns:
    'alt_naming_is_better' [N_res], 'renamed_atom14_gt_positions'
    [N_res, 14, 3], 'renamed_atom14_gt_exists' [N_res, 14].
  """
  dtype = atom14_pred_positions.dtype
  alt = find_optimal_renaming(
      atom14_gt_positions=batch['atom14_gt_positions'],
      atom14_alt_gt_positions=batch['atom14_alt_gt_positions'],
      atom14_atom_is_ambiguous=batch['atom14_atom_is_ambiguous'],
      atom14_gt_exists=batch['atom14_gt_exists'],
      atom14_pred_positions=atom14_pred_positions)
  gt_positions = jnp.asarray(batch['atom14_gt_positions'], dtype)
  alt_gt_positions = jnp.asarray(batch['atom14_alt_gt_positions'], dtype)
  gt_exists = jnp.asarray(batch['atom14_gt_exists'], dtype)
  alt_gt_exists = jnp.asarray(batch['atom14_alt_gt_exists'], dtype)
  renamed_positions = ((1. - alt[:, None, None]) * gt_positions +
                       alt[:, None, None] * alt_gt_positions)
  renamed_exists = ((1. - alt[:, None]) * gt_exists +
                    alt[:, None] * alt_gt_exists)
  return {
      'alt_naming_is_better': alt,
      'renamed_atom14_gt_positions': renamed_positions,
      'renamed_atom14_gt_exists': renamed_exists,
  }
