"""The structure module's loss (Suppl. Alg. 20 lines 17-23, section 1.9)."""
from __future__ import annotations

import jax.numpy as jnp

from alphafold_jax.losses import chi
from alphafold_jax.losses import fape
from alphafold_jax.losses import renaming
from alphafold_jax.losses import violations as violations_lib


def structure_module_loss(value, batch, config) -> dict:
  """Backbone and side-chain FAPE, torsion and violation losses combined.

  loss = (1 - w) * mean_layers(backbone FAPE) + w * sidechain FAPE
         + chi_weight * chi_loss + angle_norm_weight * angle_norm_loss
         + structural_violation_loss_weight * violation loss,
  with w = config.sidechain.weight_frac, as the reference combines them.

  Args:
    value: the structure module's output: 'traj' [N_layer, N_res, 7]
      (quaternion, translation in Å), 'final_atom14_positions'
      [N_res, 14, 3], and 'sidechains' with 'frames' [N_layer, N_res, 8]
      (Rigid3 or flat12 [..., 12]), 'atom_pos' [N_layer, N_res, 14] (Vec3 or
      [..., 3]), 'angles_sin_cos' and 'unnormalized_angles_sin_cos'
      [N_layer, N_res, 7, 2]. Not modified.
    batch: the features of one example (no recycling axis), including the
      supervised ground truth (backbone_affine_tensor/mask, atom14_gt_*,
      atom14_alt_gt_*, rigidgroups_*, chi_angles/mask, ...); an optional
      'use_clamped_fape' () and an optional 'violation_loss_scale' (), a
      factor on the violation term (the train step's schedule sets it).
    config: the structure module's config.

  Returns:
    'loss', 'fape' (last layer's backbone FAPE), 'sidechain_fape',
    'chi_loss', 'angle_norm_loss' (all ()), 'metrics' (violation fractions,
    when config.compute_in_graph_metrics), and the derived values the
    reference stores in the head's output: 'alt_naming_is_better',
    'renamed_atom14_gt_positions', 'renamed_atom14_gt_exists' and
    'violations' (when computed).
  """
  atom14_pred_positions = value['final_atom14_positions']
  dtype = atom14_pred_positions.dtype
  ret = {'metrics': {}}
  renamed = renaming.compute_renamed_ground_truth(batch, atom14_pred_positions)
  ret.update(renamed)

  violations = None
  if config.compute_in_graph_metrics or config.structural_violation_loss_weight:
    violations = violations_lib.find_structural_violations(
        batch, atom14_pred_positions, config)
    ret['violations'] = violations
  if config.compute_in_graph_metrics:
    ret['metrics'].update(violations_lib.compute_violation_metrics(
        batch, atom14_pred_positions, violations))

  backbone = fape.backbone_fape(value['traj'], batch, config)
  ret['fape'] = backbone[-1]
  sidechain = fape.sidechain_fape(value['sidechains'], renamed, batch, config)
  ret['sidechain_fape'] = sidechain
  weight_frac = config.sidechain.weight_frac
  loss = (1. - weight_frac) * jnp.mean(backbone) + weight_frac * sidechain

  chi_losses = chi.supervised_chi_loss(value['sidechains'], batch)
  ret.update(chi_losses)
  loss = (loss + config.chi_weight * chi_losses['chi_loss'] +
          config.angle_norm_weight * chi_losses['angle_norm_loss'])

  if config.structural_violation_loss_weight:
    # The violation term is scaled as if side chains were weighted (Suppl.
    # section 1.9.11); the reference requires a nonzero weight_frac.
    if not weight_frac:
      raise ValueError('the violation loss needs sidechain.weight_frac > 0')
    violation_loss = violations_lib.structural_violation_loss(
        violations, batch, dtype)
    if 'violation_loss_scale' in batch:
      violation_loss = violation_loss * jnp.asarray(
          batch['violation_loss_scale'], dtype)
    loss = loss + config.structural_violation_loss_weight * violation_loss
  ret['loss'] = loss
  return ret
