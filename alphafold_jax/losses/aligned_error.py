"""Predicted aligned error loss (Suppl. section 1.9.7)."""
from __future__ import annotations

import jax
import jax.numpy as jnp

from alphafold_jax.geometry import Rigid3
from alphafold_jax.losses import utils
from alphafold_jax.losses.fape import rigid_from_affine_tensor


def _aligned_sq_errors(pred_affine: jax.Array, true_affine: jax.Array
                       ) -> jax.Array:
  """_frame_aligned_sq_errors of two [N_res, 7] affines (quaternion,
  translation in Å)."""
  return _frame_aligned_sq_errors(rigid_from_affine_tensor(pred_affine),
                                  rigid_from_affine_tensor(true_affine))


def _frame_aligned_sq_errors(pred_frames: Rigid3, true_frames: Rigid3
                             ) -> jax.Array:
  """[N_res, N_res] squared error of Cα j seen from backbone frame i.

  Both are [N_res] backbone frames (translation: the Cα, in Å).
  """
  def local_points(frames):
    points = frames.trans.map(lambda a: a[None, :])
    return frames.map(lambda a: a[:, None]).apply_inverse(points)

  diff = local_points(pred_frames) - local_points(true_frames)
  return diff.dot(diff)


def aligned_error_bins(error_dist2: jax.Array, breaks: jax.Array) -> jax.Array:
  """[N_res, N_res] bin of each squared aligned error (Suppl. 1.9.7).

  Args:
    error_dist2: [N_res, N_res] squared error (Å²) of Cα j seen from frame i.
    breaks: [num_bins - 1] bin edges in Å, the first one 0.

  An error is in bin k when its square exceeds the square of breaks[k - 1],
  as the reference compares them (`>`): an error exactly on an edge stays in
  the lower bin. A frame's own Cα (i == j) has zero error in exact
  arithmetic, but the reference's computation leaves it a round-off residue
  above zero, so it lands in bin 1, not bin 0 (tests/fixtures/golden/small:
  all 96 self-pairs; binning them in 0 moves that loss by 3.7e-3 relative).
  The self-pairs are put in bin 1 explicitly, so that no other error on an
  edge is binned differently and nothing rests on round-off.
  """
  bins = jnp.sum(error_dist2[..., None] > jnp.square(breaks), axis=-1)
  self_pair = jnp.eye(error_dist2.shape[-1], dtype=bool)
  return jnp.where(self_pair, jnp.maximum(bins, 1), bins)


def predicted_aligned_error_loss(value, batch, config) -> dict:
  """Cross entropy of the PAE logits against the binned true aligned error.

  Args:
    value: the model's whole output dict: uses
      value['structure_module']['final_affines'] [N_res, 7] (or the
      multimer's 'final_frames' [N_res, 12], flat12) and
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
  structure = value['structure_module']
  if 'final_frames' in structure:  # the multimer's flat12 frames
    pred_frames = Rigid3.from_flat12(
        jnp.asarray(structure['final_frames'], dtype))
  else:
    pred_frames = rigid_from_affine_tensor(
        jnp.asarray(structure['final_affines'], dtype))
  true_frames = rigid_from_affine_tensor(
      jnp.asarray(batch['backbone_affine_tensor'], dtype))
  mask = jnp.asarray(batch['backbone_affine_mask'], dtype)
  square_mask = mask[:, None] * mask[None, :]

  # The target is not differentiated through: the head learns to predict
  # the structure module's error, not to change it.
  error_dist2 = jax.lax.stop_gradient(
      _frame_aligned_sq_errors(pred_frames, true_frames))
  true_bins = aligned_error_bins(error_dist2, breaks)
  errors = utils.softmax_cross_entropy(
      logits=logits,
      labels=jax.nn.one_hot(true_bins, config.num_bins, dtype=dtype))
  loss = (jnp.sum(errors * square_mask, axis=(-2, -1)) /
          (1e-8 + jnp.sum(square_mask, axis=(-2, -1))))
  return {'loss': loss * utils.resolution_filter(batch, config, dtype)}
