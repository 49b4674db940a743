"""The structure module's loss for AlphaFold-Multimer (Evans et al. 2021,
section 2.5; otherwise as Suppl. Alg. 20 lines 17-23).

Against the monomer loss (losses/structure.py): FAPE is split into
intra-chain pairs (frame and point of one chain, clamped as the monomer's)
and interface pairs (frame and point of different chains, with their own
clamp and length scale), for the backbone and for the side chains; the
chain centre-of-mass loss is added; the clash terms are averaged per atom.
"""
from __future__ import annotations

from typing import NamedTuple

import jax.numpy as jnp

from alphafold_jax.geometry import Rigid3
from alphafold_jax.geometry import Vec3
from alphafold_jax.losses import chain_centre_mass
from alphafold_jax.losses import chi
from alphafold_jax.losses import fape
from alphafold_jax.losses import renaming
from alphafold_jax.losses import violations as violations_lib


class _FapeScale(NamedTuple):
  loss_unit_distance: float
  atom_clamp_distance: float


def _split_fape(pred_frames, target_frames, frames_mask, frames_chain,
                pred_points, target_points, points_mask, points_chain,
                intra_config, interface_config, unclamped=(False,)):
  """(intra-chain FAPE, interface FAPE), each over its own pairs, for each
  entry of `unclamped` (the errors computed once for all)."""
  same_chain = (frames_chain[:, None] == points_chain[None, :]).astype(
      frames_mask.dtype)
  terms = [fape.FapeTerm(cfg.loss_unit_distance,
                         None if no_clamp else cfg.atom_clamp_distance,
                         pair_mask)
           for no_clamp in unclamped
           for cfg, pair_mask in ((intra_config, same_chain),
                                  (interface_config, 1. - same_chain))]
  out = fape.frame_aligned_point_errors(
      pred_frames, target_frames, frames_mask, pred_points, target_points,
      points_mask, terms)
  return [tuple(out[i:i + 2]) for i in range(0, len(out), 2)]


def backbone_fape(traj, batch, config):
  """Intra-chain and interface FAPE of every layer's backbone frames.

  Args:
    traj: [N_layer, N_res, 12] predicted frames (flat12, Å).
    batch: 'backbone_affine_tensor' [N_res, 7], 'backbone_affine_mask',
      'asym_id' [N_res]; optional 'use_clamped_fape' () mixing in the
      unclamped FAPE as the monomer does.
    config: the structure module's config (intra_chain_fape,
      interface_fape).

  Returns:
    (intra [N_layer], interface [N_layer]).
  """
  dtype = traj.dtype
  pred = Rigid3.from_flat12(traj)
  target = fape.rigid_from_affine_tensor(
      jnp.asarray(batch['backbone_affine_tensor'], dtype))
  mask = jnp.asarray(batch['backbone_affine_mask'], dtype)
  asym_id = jnp.asarray(batch['asym_id'])

  mixed = 'use_clamped_fape' in batch
  results = _split_fape(pred, target, mask, asym_id, pred.trans, target.trans,
                        mask, asym_id, config.intra_chain_fape,
                        config.interface_fape,
                        (False, True) if mixed else (False,))
  intra, interface = results[0]
  if mixed:
    use_clamped = jnp.asarray(batch['use_clamped_fape'], dtype)
    intra_u, interface_u = results[1]
    intra = intra * use_clamped + intra_u * (1. - use_clamped)
    interface = interface * use_clamped + interface_u * (1. - use_clamped)
  return intra, interface


def sidechain_fape(sidechains, renamed, batch, config):
  """Intra-chain and interface all-atom FAPE of the last layer.

  Args as fape.sidechain_fape, and batch 'asym_id' [N_res]. The intra-chain
  term uses config.sidechain's clamp and scale, the interface term
  config.interface_fape's. Returns (intra (), interface ()).
  """
  pred_frames = fape.as_rigid(sidechains['frames'])
  pred_positions = fape.as_vec(sidechains['atom_pos'])
  dtype = pred_positions.dtype
  num_groups = pred_frames.shape[-1]
  num_atoms = pred_positions.shape[-1]
  flat_pred_frames = pred_frames.map(lambda a: jnp.reshape(a[-1], [-1]))
  flat_pred_positions = pred_positions.map(lambda a: jnp.reshape(a[-1], [-1]))

  alt = jnp.asarray(renamed['alt_naming_is_better'], dtype)[:, None, None]
  gt_frames = ((1. - alt) * jnp.asarray(batch['rigidgroups_gt_frames'], dtype)
               + alt * jnp.asarray(batch['rigidgroups_alt_gt_frames'], dtype))
  flat_gt_frames = Rigid3.from_flat12(jnp.reshape(gt_frames, [-1, 12]))
  frames_mask = jnp.reshape(
      jnp.asarray(batch['rigidgroups_gt_exists'], dtype), [-1])
  flat_gt_positions = Vec3.from_array(jnp.reshape(
      jnp.asarray(renamed['renamed_atom14_gt_positions'], dtype), [-1, 3]))
  positions_mask = jnp.reshape(
      jnp.asarray(renamed['renamed_atom14_gt_exists'], dtype), [-1])
  asym_id = jnp.asarray(batch['asym_id'])
  sidechain_cfg = config.sidechain
  intra_cfg = _FapeScale(sidechain_cfg.loss_unit_distance,
                         sidechain_cfg.atom_clamp_distance)
  return _split_fape(
      flat_pred_frames, flat_gt_frames, frames_mask,
      jnp.repeat(asym_id, num_groups), flat_pred_positions, flat_gt_positions,
      positions_mask, jnp.repeat(asym_id, num_atoms), intra_cfg,
      config.interface_fape)[0]


def multimer_structure_loss(value, batch, config) -> dict:
  """loss = (1 - w) * mean_layers(intra + interface backbone FAPE)
           + w * (intra + interface side-chain FAPE)
           + chi_weight * chi_loss + angle_norm_weight * angle_norm_loss
           + structural_violation_loss_weight * violation loss (clashes
             averaged per atom)
           + chain_centre_mass.weight * chain centre-of-mass loss,
  with w = config.sidechain.weight_frac. For a single chain the interface
  and centre-of-mass terms vanish and this is the monomer's loss.

  Args:
    value: the multimer structure module's output: 'traj' [N_layer, N_res,
      12], 'final_atom14_positions' [N_res, 14, 3], 'final_atom_positions'
      [N_res, 37, 3], 'sidechains'. Not modified.
    batch: one example with its ground truth (data/supervised.py), per
      residue, and 'asym_id' [N_res].
    config: the structure module's config.

  Returns:
    'loss', 'fape' (last layer's backbone FAPE, intra + interface),
    'intra_chain_fape', 'interface_fape' (last layer's), 'sidechain_fape',
    'chi_loss', 'angle_norm_loss', 'chain_centre_mass_loss',
    'violation_loss' (all ()), 'metrics' (violation fractions), and
    'alt_naming_is_better', 'renamed_atom14_gt_positions',
    'renamed_atom14_gt_exists', 'violations'.
  """
  atom14 = value['final_atom14_positions']
  dtype = atom14.dtype
  ret = {}
  renamed = renaming.compute_renamed_ground_truth(batch, atom14)
  ret.update(renamed)
  violations = violations_lib.find_structural_violations(
      batch, atom14, config, count_clashes=True)
  ret['violations'] = violations
  ret['metrics'] = violations_lib.compute_violation_metrics(
      batch, atom14, violations)

  intra, interface = backbone_fape(value['traj'], batch, config)
  ret['intra_chain_fape'] = intra[-1]
  ret['interface_fape'] = interface[-1]
  ret['fape'] = intra[-1] + interface[-1]
  sc_intra, sc_interface = sidechain_fape(value['sidechains'], renamed,
                                          batch, config)
  ret['sidechain_fape'] = sc_intra + sc_interface
  weight_frac = config.sidechain.weight_frac
  loss = ((1. - weight_frac) * jnp.mean(intra + interface) +
          weight_frac * ret['sidechain_fape'])

  chi_losses = chi.supervised_chi_loss(value['sidechains'], batch)
  ret.update(chi_losses)
  loss = (loss + config.chi_weight * chi_losses['chi_loss'] +
          config.angle_norm_weight * chi_losses['angle_norm_loss'])

  ret['violation_loss'] = violations_lib.structural_violation_loss(
      violations, batch, dtype, average_clashes=True)
  loss = loss + config.structural_violation_loss_weight * ret['violation_loss']

  ret['chain_centre_mass_loss'] = chain_centre_mass.chain_centre_mass_loss(
      value['final_atom_positions'], batch, config.chain_centre_mass)
  loss = loss + config.chain_centre_mass.weight * ret['chain_centre_mass_loss']
  ret['loss'] = loss
  return ret
