"""Frame aligned point error (Suppl. Alg. 28) and the two FAPE losses.

Backbone FAPE scores every layer of the structure-module trajectory against
the ground-truth backbone frames (Suppl. Alg. 20 line 17, section 1.9.2);
side-chain FAPE scores the last layer's rigid-group frames and atoms against
the renamed ground truth (Suppl. Alg. 20 line 19, Alg. 26 line 7).
"""
from __future__ import annotations

from typing import List, NamedTuple, Optional, Sequence

import jax
import jax.numpy as jnp

from alphafold_jax.geometry import Rigid3
from alphafold_jax.geometry import Rot3
from alphafold_jax.geometry import Vec3

# Added to the squared distance inside the square root (keeps the gradient
# finite for a perfect prediction) and to the normaliser (Suppl. Alg. 28).
FAPE_EPSILON = 1e-4


def frame_aligned_point_error(
    pred_frames: Rigid3,
    target_frames: Rigid3,
    frames_mask: jax.Array,
    pred_positions: Vec3,
    target_positions: Vec3,
    positions_mask: jax.Array,
    length_scale: float,
    l1_clamp_distance: Optional[float] = None,
    epsilon: float = FAPE_EPSILON,
    pair_mask: Optional[jax.Array] = None) -> jax.Array:
  """Suppl. Alg. 28: mean distance of the points seen from each frame.

  Args:
    pred_frames, target_frames: [..., N_frames] frames (leading axes of the
      prediction broadcast against the target, e.g. a trajectory axis).
    frames_mask: [N_frames].
    pred_positions, target_positions: [..., N_pts] points, in Å.
    positions_mask: [N_pts].
    length_scale: Z in Alg. 28; divides the (clamped) error.
    l1_clamp_distance: d_clamp in Alg. 28; None (or 0) for no clamping.
    epsilon: added inside the square root and to the normaliser.
    pair_mask: optional [N_frames, N_pts]: only these (frame, point) pairs
      are scored and counted (AlphaFold-Multimer's intra-chain and interface
      FAPE); None scores every pair.

  Returns:
    [...] the FAPE for each leading index.
  """
  return frame_aligned_point_errors(
      pred_frames, target_frames, frames_mask, pred_positions,
      target_positions, positions_mask,
      [FapeTerm(length_scale, l1_clamp_distance, pair_mask)], epsilon)[0]


class FapeTerm(NamedTuple):
  """One FAPE over a set of (frame, point) pairs: Z, d_clamp (None or 0: no
  clamping) and the optional [N_frames, N_pts] pair mask (None: all)."""
  length_scale: float
  l1_clamp_distance: Optional[float] = None
  pair_mask: Optional[jax.Array] = None


def frame_aligned_point_errors(
    pred_frames: Rigid3,
    target_frames: Rigid3,
    frames_mask: jax.Array,
    pred_positions: Vec3,
    target_positions: Vec3,
    positions_mask: jax.Array,
    terms: Sequence[FapeTerm],
    epsilon: float = FAPE_EPSILON) -> List[jax.Array]:
  """frame_aligned_point_error for several terms of the same frames and
  points (AlphaFold-Multimer's intra-chain and interface FAPE, clamped and
  unclamped): the points' local coordinates and errors are computed once,
  then each term clamps, scales and averages them over its pairs. Each
  result equals frame_aligned_point_error with that term's arguments.

  Returns:
    One [...] FAPE per term, in order.
  """
  def local_points(frames: Rigid3, points: Vec3) -> jax.Array:
    # [..., N_frames, N_pts, 3]: point j expressed in frame i, R_i^T x_j +
    # (-R_i^T t_i). A contraction rather than nine broadcast products: its
    # gradient is then a matrix product too, not one fused reduction over the
    # [N_frames, N_pts] pairs per rotation component (which made the side-chain
    # FAPE's gradient a seventh of a tiny-preset step's XLA time). HIGHEST keeps
    # float32 on accelerators whose default matmul precision is lower.
    inv = frames.inverse()
    local = jnp.einsum('...fij,...pj->...fpi', inv.rot.to_array(),
                       points.to_array(), precision=jax.lax.Precision.HIGHEST)
    return local + inv.trans.to_array()[..., :, None, :]

  local_pred = local_points(pred_frames, pred_positions)
  local_target = local_points(target_frames, target_positions)
  diff = local_pred - local_target
  distance = jnp.sqrt(jnp.sum(jnp.square(diff), axis=-1) + epsilon)
  results = []
  for term in terms:
    error_dist = distance
    if term.l1_clamp_distance:
      error_dist = jnp.clip(error_dist, 0, term.l1_clamp_distance)
    normed_error = error_dist / term.length_scale
    normed_error = normed_error * frames_mask[..., :, None]
    normed_error = normed_error * positions_mask[..., None, :]
    if term.pair_mask is None:
      normalization_factor = (jnp.sum(frames_mask, axis=-1) *
                              jnp.sum(positions_mask, axis=-1))
    else:
      normed_error = normed_error * term.pair_mask
      normalization_factor = jnp.sum(
          frames_mask[..., :, None] * positions_mask[..., None, :] *
          term.pair_mask, axis=(-2, -1))
    results.append(jnp.sum(normed_error, axis=(-2, -1)) /
                   (epsilon + normalization_factor))
  return results


def rigid_from_affine_tensor(affine: jax.Array) -> Rigid3:
  """[..., 7] (quaternion w, x, y, z; translation) -> Rigid3, as stored.

  The quaternion is used without renormalising, like the reference's
  QuatAffine.from_tensor: ground-truth quaternions stored in float32 are unit
  only to ~1e-7, and renormalising them would move the loss by about that.
  """
  rot = Rot3.from_quaternion(affine[..., 0], affine[..., 1], affine[..., 2],
                             affine[..., 3], normalize=False)
  return Rigid3(rot, Vec3.from_array(affine[..., 4:]))


def as_rigid(frames) -> Rigid3:
  """A Rigid3, or a [..., 12] flat tensor (rotation row-major, translation)."""
  if isinstance(frames, Rigid3):
    return frames
  return Rigid3.from_flat12(frames)


def as_vec(points) -> Vec3:
  """A Vec3, or a [..., 3] array."""
  if isinstance(points, Vec3):
    return points
  return Vec3.from_array(points)


def backbone_fape(traj: jax.Array, batch, config) -> jax.Array:
  """FAPE of the backbone frames of every structure-module layer.

  Args:
    traj: [N_layer, N_res, 7] predicted backbone frames (quaternion,
      translation in Å) of every layer.
    batch: needs 'backbone_affine_tensor' [N_res, 7] and
      'backbone_affine_mask' [N_res]; an optional scalar 'use_clamped_fape'
      mixes clamped and unclamped FAPE (Suppl. section 1.11.5).
    config: the structure module's config (uses config.fape).

  Returns:
    [N_layer] FAPE per layer; the clamped and unclamped values are mixed by
    `use_clamped_fape` when the batch has it.
  """
  dtype = traj.dtype
  pred = rigid_from_affine_tensor(traj)
  target = rigid_from_affine_tensor(
      jnp.asarray(batch['backbone_affine_tensor'], dtype))
  mask = jnp.asarray(batch['backbone_affine_mask'], dtype)

  def fape(clamp):
    return frame_aligned_point_error(
        pred, target, mask, pred.trans, target.trans, mask,
        length_scale=config.fape.loss_unit_distance, l1_clamp_distance=clamp)

  fape_loss = fape(config.fape.clamp_distance)
  if 'use_clamped_fape' in batch:
    use_clamped = jnp.asarray(batch['use_clamped_fape'], dtype)
    fape_loss = (fape_loss * use_clamped +
                 fape(None) * (1. - use_clamped))
  return fape_loss


def sidechain_fape(sidechains, renamed: dict, batch, config) -> jax.Array:
  """All-atom FAPE of the last layer against the renamed ground truth.

  Args:
    sidechains: the structure module's 'sidechains' output: 'frames'
      [N_layer, N_res, 8] (Rigid3, or [N_layer, N_res, 8, 12] flat12) and
      'atom_pos' [N_layer, N_res, 14] (Vec3, or [N_layer, N_res, 14, 3]).
    renamed: compute_renamed_ground_truth's output: 'alt_naming_is_better'
      [N_res], 'renamed_atom14_gt_positions' [N_res, 14, 3],
      'renamed_atom14_gt_exists' [N_res, 14].
    batch: needs 'rigidgroups_gt_frames', 'rigidgroups_alt_gt_frames'
      [N_res, 8, 12] and 'rigidgroups_gt_exists' [N_res, 8].
    config: the structure module's config (uses config.sidechain).

  Returns:
    () the side-chain FAPE (Suppl. Alg. 26 line 7 frames, Alg. 28).
  """
  pred_frames = as_rigid(sidechains['frames'])
  pred_positions = as_vec(sidechains['atom_pos'])
  dtype = pred_positions.dtype
  # Only the last layer is scored; frames and atoms of all residues are
  # flattened into one set, every frame scoring every atom.
  flat_pred_frames = pred_frames.map(lambda a: jnp.reshape(a[-1], [-1]))
  flat_pred_positions = pred_positions.map(lambda a: jnp.reshape(a[-1], [-1]))

  alt = jnp.asarray(renamed['alt_naming_is_better'], dtype)[:, None, None]
  renamed_gt_frames = (
      (1. - alt) * jnp.asarray(batch['rigidgroups_gt_frames'], dtype) +
      alt * jnp.asarray(batch['rigidgroups_alt_gt_frames'], dtype))
  flat_gt_frames = Rigid3.from_flat12(jnp.reshape(renamed_gt_frames, [-1, 12]))
  flat_frames_mask = jnp.reshape(
      jnp.asarray(batch['rigidgroups_gt_exists'], dtype), [-1])
  flat_gt_positions = Vec3.from_array(jnp.reshape(
      jnp.asarray(renamed['renamed_atom14_gt_positions'], dtype), [-1, 3]))
  flat_positions_mask = jnp.reshape(
      jnp.asarray(renamed['renamed_atom14_gt_exists'], dtype), [-1])

  return frame_aligned_point_error(
      flat_pred_frames, flat_gt_frames, flat_frames_mask,
      flat_pred_positions, flat_gt_positions, flat_positions_mask,
      length_scale=config.sidechain.length_scale,
      l1_clamp_distance=config.sidechain.atom_clamp_distance)
