"""Predicted aligned error loss (Suppl. section 1.9.7)."""
from __future__ import annotations

import jax
import jax.numpy as jnp

from alphafold_jax.losses import utils
from alphafold_jax.losses.fape import rigid_from_affine_tensor


def _aligned_sq_errors(pred_affine: jax.Array, true_affine: jax.Array
                       ) -> jax.Array:
  """[N_res, N_res] squared error of Cα j seen from backbone frame i.

  Both affines are [N_res, 7] (quaternion, translation in Å).
  """
  def local_points(affine):
    frames = rigid_from_affine_tensor(affine)
    points = frames.trans.map(lambda a: a[None, :])
    return frames.map(lambda a: a[:, None]).apply_inverse(points)

  diff = local_points(pred_affine) - local_points(true_affine)
  return diff.dot(diff)


def predicted_aligned_error_loss(value, batch, config) -> dict:
  """Cross entropy of the PAE logits against the binned true aligned error.

  Args:
    value: the model's whole output dict: uses
      value['structure_module']['final_affines'] [N_res, 7] and
      value['predicted_aligned_error']['logits'] [N_res, N_res, num_bins],
      ['breaks'] [num_bins - 1] (Å).
    batch: 'backbone_affine_tensor' [N_res, 7], 'backbone_affine_mask'
      [N_res], 'resolution' ().
    config: the head config (num_bins, filter_by_resolution, ...).

  Returns:
    'loss' (), zero outside the resolution range.
  """
  logits = value['predicted_aligned_error']['logits']
  dtype = logits.dtype
  breaks = jnp.asarray(value['predicted_aligned_error']['breaks'], dtype)
  pred_affine = jnp.asarray(value['structure_module']['final_affines'], dtype)
  true_affine = jnp.asarray(batch['backbone_affine_tensor'], dtype)
  mask = jnp.asarray(batch['backbone_affine_mask'], dtype)
  square_mask = mask[:, None] * mask[None, :]

  # The target is not differentiated through: the head learns to predict
  # the structure module's error, not to change it.
  error_dist2 = jax.lax.stop_gradient(
      _aligned_sq_errors(pred_affine, true_affine))
  # The first break is 0, so bin 0 only holds errors of exactly zero: a
  # frame's own Cα (i == j). In the reference these self-pairs come out as
  # round-off (~1e-15 Å), never exactly 0, and land in bin 1; `>=` puts them
  # there deterministically and bins every other error as `>` would.
  true_bins = jnp.sum(error_dist2[..., None] >= jnp.square(breaks), axis=-1)
  errors = utils.softmax_cross_entropy(
      logits=logits,
      labels=jax.nn.one_hot(true_bins, config.num_bins, dtype=dtype))
  loss = (jnp.sum(errors * square_mask, axis=(-2, -1)) /
          (1e-8 + jnp.sum(square_mask, axis=(-2, -1))))
  return {'loss': loss * utils.resolution_filter(batch, config, dtype)}
