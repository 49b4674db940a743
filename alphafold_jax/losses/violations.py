"""Structural violations: bonds, angles and clashes (Suppl. section 1.9.11).

All functions work on atom14 positions [N_res, 14, 3]. The loss terms are
flat-bottom: zero within `tolerance_factor` standard deviations of the
literature value (Engh & Huber) or within `overlap_tolerance` of the van der
Waals contact distance, linear outside.
"""
from __future__ import annotations

from typing import Optional

import jax
import jax.numpy as jnp
import numpy as np

from alphafold_jax.common import residue_constants
from alphafold_jax.losses import utils

# atom14 slots of the backbone atoms (the same for every residue type).
_N, _CA, _C = 0, 1, 2
# Inside the square roots of bond lengths and their errors, as the reference.
_BOND_EPSILON = 1e-6
# Inside the square roots of the all-atom distance matrices.
_DIST_EPSILON = 1e-10
# Consecutive Cα further apart than ca_ca + this (Å) count as a chain break.
_MAX_CA_CA_TOLERANCE = 1.5


def _norm(v: jax.Array, epsilon: float) -> jax.Array:
  return jnp.sqrt(epsilon + jnp.sum(jnp.square(v), axis=-1))


def _consecutive_in_chain(residue_index, asym_id, dtype) -> jax.Array:
  """[N_res - 1] 1 where residue i + 1 follows residue i in one chain."""
  follows = (residue_index[1:] - residue_index[:-1]) == 1
  if asym_id is not None:
    follows = follows & (asym_id[1:] == asym_id[:-1])
  return follows.astype(dtype)


def between_residue_bond_loss(
    pred_atom_positions: jax.Array,
    pred_atom_mask: jax.Array,
    residue_index: jax.Array,
    aatype: jax.Array,
    tolerance_factor_soft: float = 12.0,
    tolerance_factor_hard: float = 12.0,
    asym_id: Optional[jax.Array] = None) -> dict:
  """Flat-bottom losses of the peptide bond C-N and the angles CA-C-N, C-N-CA.

  Args:
    pred_atom_positions: [N_res, 14, 3] (atom14 or atom37: N, CA, C first).
    pred_atom_mask: [N_res, 14].
    residue_index: [N_res]; pairs that are not consecutive are not scored.
    aatype: [N_res]; the C-N bond to a proline is longer.
    tolerance_factor_soft: stddevs allowed before the loss starts.
    tolerance_factor_hard: stddevs allowed before a violation is flagged.
    asym_id: optional [N_res] chain of each residue (multimer): residues of
      different chains are never bonded, whatever their residue_index.

  Returns:
    'c_n_loss_mean', 'ca_c_n_loss_mean', 'c_n_ca_loss_mean' (),
    'per_residue_loss_sum' [N_res] (each bond's loss shared equally by its two
    residues), 'per_residue_violation_mask' [N_res].
  """
  if pred_atom_positions.ndim != 3 or pred_atom_mask.ndim != 2:
    raise ValueError('expected positions [N_res, 14, 3] and mask [N_res, 14]')
  if residue_index.ndim != 1 or aatype.ndim != 1:
    raise ValueError('expected residue_index and aatype [N_res]')
  dtype = pred_atom_positions.dtype
  pred_atom_mask = jnp.asarray(pred_atom_mask, dtype)
  residue_index = jnp.asarray(residue_index, dtype)

  this_ca_pos = pred_atom_positions[:-1, _CA]
  this_ca_mask = pred_atom_mask[:-1, _CA]
  this_c_pos = pred_atom_positions[:-1, _C]
  this_c_mask = pred_atom_mask[:-1, _C]
  next_n_pos = pred_atom_positions[1:, _N]
  next_n_mask = pred_atom_mask[1:, _N]
  next_ca_pos = pred_atom_positions[1:, _CA]
  next_ca_mask = pred_atom_mask[1:, _CA]
  has_no_gap_mask = _consecutive_in_chain(residue_index, asym_id, dtype)

  # C-N bond length; the bond to a proline N differs because of its ring.
  c_n_bond_length = _norm(this_c_pos - next_n_pos, _BOND_EPSILON)
  next_is_proline = (aatype[1:] == residue_constants.resname_to_idx['PRO']
                     ).astype(dtype)
  bond_c_n = residue_constants.between_res_bond_length_c_n
  stddev_c_n = residue_constants.between_res_bond_length_stddev_c_n
  gt_length = ((1. - next_is_proline) * bond_c_n[0] +
               next_is_proline * bond_c_n[1])
  gt_stddev = ((1. - next_is_proline) * stddev_c_n[0] +
               next_is_proline * stddev_c_n[1])
  c_n_bond_length_error = jnp.sqrt(_BOND_EPSILON +
                                   jnp.square(c_n_bond_length - gt_length))
  c_n_loss_per_residue = jax.nn.relu(
      c_n_bond_length_error - tolerance_factor_soft * gt_stddev)
  mask = this_c_mask * next_n_mask * has_no_gap_mask
  c_n_loss = jnp.sum(mask * c_n_loss_per_residue) / (jnp.sum(mask) + 1e-6)
  c_n_violation_mask = mask * (
      c_n_bond_length_error > tolerance_factor_hard * gt_stddev)

  # Bond angles, from the cosines of unit bond vectors.
  ca_c_bond_length = _norm(this_ca_pos - this_c_pos, _BOND_EPSILON)
  n_ca_bond_length = _norm(next_n_pos - next_ca_pos, _BOND_EPSILON)
  c_ca_unit_vec = (this_ca_pos - this_c_pos) / ca_c_bond_length[:, None]
  c_n_unit_vec = (next_n_pos - this_c_pos) / c_n_bond_length[:, None]
  n_ca_unit_vec = (next_ca_pos - next_n_pos) / n_ca_bond_length[:, None]

  ca_c_n_cos_angle = jnp.sum(c_ca_unit_vec * c_n_unit_vec, axis=-1)
  gt_angle = residue_constants.between_res_cos_angles_ca_c_n[0]
  # The reference scales this angle's tolerance by the C-N *bond length*
  # stddev (0.014), not the angle's own (0.0311); kept for parity.
  gt_stddev = stddev_c_n[0]
  ca_c_n_cos_angle_error = jnp.sqrt(
      _BOND_EPSILON + jnp.square(ca_c_n_cos_angle - gt_angle))
  ca_c_n_loss_per_residue = jax.nn.relu(
      ca_c_n_cos_angle_error - tolerance_factor_soft * gt_stddev)
  mask = this_ca_mask * this_c_mask * next_n_mask * has_no_gap_mask
  ca_c_n_loss = (jnp.sum(mask * ca_c_n_loss_per_residue) /
                 (jnp.sum(mask) + 1e-6))
  ca_c_n_violation_mask = mask * (
      ca_c_n_cos_angle_error > tolerance_factor_hard * gt_stddev)

  c_n_ca_cos_angle = jnp.sum((-c_n_unit_vec) * n_ca_unit_vec, axis=-1)
  gt_angle, gt_stddev = residue_constants.between_res_cos_angles_c_n_ca
  c_n_ca_cos_angle_error = jnp.sqrt(
      _BOND_EPSILON + jnp.square(c_n_ca_cos_angle - gt_angle))
  c_n_ca_loss_per_residue = jax.nn.relu(
      c_n_ca_cos_angle_error - tolerance_factor_soft * gt_stddev)
  mask = this_c_mask * next_n_mask * next_ca_mask * has_no_gap_mask
  c_n_ca_loss = (jnp.sum(mask * c_n_ca_loss_per_residue) /
                 (jnp.sum(mask) + 1e-6))
  c_n_ca_violation_mask = mask * (
      c_n_ca_cos_angle_error > tolerance_factor_hard * gt_stddev)

  # Each of the N - 1 connections is shared half-and-half by its residues
  # (the reference leaves these per-residue sums unmasked).
  per_connection_loss = (c_n_loss_per_residue + ca_c_n_loss_per_residue +
                         c_n_ca_loss_per_residue)
  per_residue_loss_sum = 0.5 * (jnp.pad(per_connection_loss, [[0, 1]]) +
                                jnp.pad(per_connection_loss, [[1, 0]]))
  violation_mask = jnp.max(jnp.stack([
      c_n_violation_mask, ca_c_n_violation_mask, c_n_ca_violation_mask]),
                           axis=0)
  violation_mask = jnp.maximum(jnp.pad(violation_mask, [[0, 1]]),
                               jnp.pad(violation_mask, [[1, 0]]))
  return {
      'c_n_loss_mean': c_n_loss,
      'ca_c_n_loss_mean': ca_c_n_loss,
      'c_n_ca_loss_mean': c_n_ca_loss,
      'per_residue_loss_sum': per_residue_loss_sum,
      'per_residue_violation_mask': violation_mask,
  }


def between_residue_clash_loss(
    atom_positions: jax.Array,
    atom_exists: jax.Array,
    atom_radius: jax.Array,
    residue_index: jax.Array,
    overlap_tolerance_soft: float = 1.5,
    overlap_tolerance_hard: float = 1.5,
    asym_id: Optional[jax.Array] = None) -> dict:
  """Flat-bottom loss on atoms of different residues closer than vdW contact.

  Args:
    atom_positions: [N_res, 14, 3].
    atom_exists: [N_res, 14].
    atom_radius: [N_res, 14] van der Waals radii (Å), 0 for absent atoms.
    residue_index: [N_res].
    overlap_tolerance_soft / _hard: overlap (Å) allowed before the loss
      starts / before a clash is flagged.
    asym_id: optional [N_res] chain of each residue (multimer): residues
      are ordered by (chain, residue_index), and residues of different
      chains are never peptide-bonded.

  Returns:
    'mean_loss' () over scored pairs, 'per_atom_loss_sum' [N_res, 14],
    'per_atom_clash_mask' [N_res, 14], 'per_atom_num_clash' [N_res, 14]
    the number of atoms each atom clashes with.
  """
  if (atom_positions.ndim != 3 or atom_exists.ndim != 2 or
      atom_radius.ndim != 2 or residue_index.ndim != 1):
    raise ValueError('expected [N_res, 14, 3], [N_res, 14], [N_res, 14], '
                     '[N_res]')
  dtype = atom_positions.dtype
  num_atoms = atom_positions.shape[1]
  atom_exists = jnp.asarray(atom_exists, dtype)
  atom_radius = jnp.asarray(atom_radius, dtype)

  # [N_res, N_res, 14, 14]
  dists = jnp.sqrt(_DIST_EPSILON + jnp.sum(jnp.square(
      atom_positions[:, None, :, None, :] -
      atom_positions[None, :, None, :, :]), axis=-1))
  dists_mask = atom_exists[:, None, :, None] * atom_exists[None, :, None, :]
  # Each residue pair once (i < j); pairs within a residue are scored by
  # within_residue_violations.
  before = residue_index[:, None] < residue_index[None, :]
  same_chain = jnp.ones(before.shape, bool)
  if asym_id is not None:
    same_chain = asym_id[:, None] == asym_id[None, :]
    before = jnp.where(same_chain, before,
                       asym_id[:, None] < asym_id[None, :])
  dists_mask = dists_mask * before[:, :, None, None]

  # The peptide bond C(i)-N(i+1) is not a clash.
  c_one_hot = jax.nn.one_hot(_C, num_atoms, dtype=dtype)
  n_one_hot = jax.nn.one_hot(_N, num_atoms, dtype=dtype)
  neighbour_mask = (((residue_index[:, None] + 1) == residue_index[None, :])
                    & same_chain)[:, :, None, None]
  c_n_bonds = (neighbour_mask * c_one_hot[None, None, :, None] *
               n_one_hot[None, None, None, :])
  dists_mask = dists_mask * (1. - c_n_bonds)

  # Nor is a disulfide bridge. As in the reference, this masks the SG slot
  # pair of any two residues, whatever their type.
  cys_sg_idx = residue_constants.restype_name_to_atom14_names['CYS'].index(
      'SG')
  cys_sg_one_hot = jax.nn.one_hot(cys_sg_idx, num_atoms, dtype=dtype)
  disulfide_bonds = (cys_sg_one_hot[None, None, :, None] *
                     cys_sg_one_hot[None, None, None, :])
  dists_mask = dists_mask * (1. - disulfide_bonds)

  dists_lower_bound = dists_mask * (atom_radius[:, None, :, None] +
                                    atom_radius[None, :, None, :])
  dists_to_low_error = dists_mask * jax.nn.relu(
      dists_lower_bound - overlap_tolerance_soft - dists)
  mean_loss = jnp.sum(dists_to_low_error) / (1e-6 + jnp.sum(dists_mask))
  per_atom_loss_sum = (jnp.sum(dists_to_low_error, axis=(0, 2)) +
                       jnp.sum(dists_to_low_error, axis=(1, 3)))

  clash_mask = dists_mask * (dists < dists_lower_bound - overlap_tolerance_hard)
  per_atom_clash_mask = jnp.maximum(jnp.max(clash_mask, axis=(0, 2)),
                                    jnp.max(clash_mask, axis=(1, 3)))
  per_atom_num_clash = (jnp.sum(clash_mask, axis=(0, 2)) +
                        jnp.sum(clash_mask, axis=(1, 3)))
  return {
      'mean_loss': mean_loss,
      'per_atom_loss_sum': per_atom_loss_sum,
      'per_atom_clash_mask': per_atom_clash_mask,
      'per_atom_num_clash': per_atom_num_clash,
  }


def within_residue_violations(
    atom14_pred_positions: jax.Array,
    atom14_atom_exists: jax.Array,
    atom14_dists_lower_bound: jax.Array,
    atom14_dists_upper_bound: jax.Array,
    tighten_bounds_for_loss: float = 0.0) -> dict:
  """Flat-bottom loss of intra-residue distances outside their bounds.

  Args:
    atom14_pred_positions: [N_res, 14, 3].
    atom14_atom_exists: [N_res, 14].
    atom14_dists_lower_bound, atom14_dists_upper_bound: [N_res, 14, 14] from
      residue_constants.make_atom14_dists_bounds (bonds, angles, vdW).
    tighten_bounds_for_loss: shrinks the allowed interval for the loss only.

  Returns:
    'per_atom_loss_sum' [N_res, 14], 'per_atom_violations' [N_res, 14],
    'per_atom_num_clash' [N_res, 14] violated distances per atom, counted
    as the loss sum counts them (each pair from both of its atoms' sides).
  """
  dtype = atom14_pred_positions.dtype
  num_atoms = atom14_pred_positions.shape[1]
  exists = jnp.asarray(atom14_atom_exists, dtype)
  lower = jnp.asarray(atom14_dists_lower_bound, dtype)
  upper = jnp.asarray(atom14_dists_upper_bound, dtype)
  dists_masks = (1. - jnp.eye(num_atoms, dtype=dtype)[None])
  dists_masks = dists_masks * exists[:, :, None] * exists[:, None, :]

  dists = jnp.sqrt(_DIST_EPSILON + jnp.sum(jnp.square(
      atom14_pred_positions[:, :, None, :] -
      atom14_pred_positions[:, None, :, :]), axis=-1))
  dists_to_low_error = jax.nn.relu(lower + tighten_bounds_for_loss - dists)
  dists_to_high_error = jax.nn.relu(dists - (upper - tighten_bounds_for_loss))
  loss = dists_masks * (dists_to_low_error + dists_to_high_error)
  per_atom_loss_sum = jnp.sum(loss, axis=1) + jnp.sum(loss, axis=2)

  violations = dists_masks * ((dists < lower) | (dists > upper))
  per_atom_violations = jnp.maximum(jnp.max(violations, axis=1),
                                    jnp.max(violations, axis=2))
  per_atom_num_clash = jnp.sum(violations, axis=1) + jnp.sum(violations, axis=2)
  return {
      'per_atom_loss_sum': per_atom_loss_sum,
      'per_atom_violations': per_atom_violations,
      'per_atom_num_clash': per_atom_num_clash,
  }


def extreme_ca_ca_distance_violations(
    pred_atom_positions: jax.Array,
    pred_atom_mask: jax.Array,
    residue_index: jax.Array,
    max_angstrom_tolerance: float = _MAX_CA_CA_TOLERANCE,
    asym_id: Optional[jax.Array] = None) -> jax.Array:
  """Fraction of consecutive Cα pairs further apart than ca_ca + tolerance.

  Args:
    pred_atom_positions: [N_res, 14, 3]; pred_atom_mask: [N_res, 14];
    residue_index: [N_res]; asym_id: optional [N_res] chains (multimer).

  Returns:
    () the fraction of scored pairs.
  """
  dtype = pred_atom_positions.dtype
  pred_atom_mask = jnp.asarray(pred_atom_mask, dtype)
  residue_index = jnp.asarray(residue_index, dtype)
  this_ca_pos = pred_atom_positions[:-1, _CA]
  this_ca_mask = pred_atom_mask[:-1, _CA]
  next_ca_pos = pred_atom_positions[1:, _CA]
  next_ca_mask = pred_atom_mask[1:, _CA]
  has_no_gap_mask = _consecutive_in_chain(residue_index, asym_id, dtype)
  ca_ca_distance = _norm(this_ca_pos - next_ca_pos, _BOND_EPSILON)
  violations = ((ca_ca_distance - residue_constants.ca_ca) >
                max_angstrom_tolerance).astype(dtype)
  mask = this_ca_mask * next_ca_mask * has_no_gap_mask
  return utils.mask_mean(mask=mask, value=violations)


def find_structural_violations(batch, atom14_pred_positions: jax.Array,
                               config, count_clashes: bool = False) -> dict:
  """All structural violations of a predicted structure.

  Args:
    batch: 'aatype', 'residue_index' [N_res], 'atom14_atom_exists' [N_res, 14],
      'residx_atom14_to_atom37' [N_res, 14]; for a complex 'asym_id' [N_res]
      (no bonds between chains; every inter-chain residue pair is scored
      for clashes).
    atom14_pred_positions: [N_res, 14, 3].
    config: the structure module's config (violation_tolerance_factor,
      clash_overlap_tolerance).
    count_clashes: also return each atom's number of clashes
      (between_residues.clashes_per_atom_num_clash and
      within_residues.per_atom_num_clash [N_res, 14]), for
      structural_violation_loss(average_clashes=True).

  Returns:
    {'between_residues': {bonds_c_n_loss_mean, angles_ca_c_n_loss_mean,
    angles_c_n_ca_loss_mean, connections_per_residue_loss_sum,
    connections_per_residue_violation_mask, clashes_mean_loss,
    clashes_per_atom_loss_sum, clashes_per_atom_clash_mask},
    'within_residues': {per_atom_loss_sum, per_atom_violations},
    'total_per_residue_violations_mask' [N_res]}.
  """
  dtype = atom14_pred_positions.dtype
  atom14_atom_exists = jnp.asarray(batch['atom14_atom_exists'], dtype)
  connection_violations = between_residue_bond_loss(
      pred_atom_positions=atom14_pred_positions,
      pred_atom_mask=atom14_atom_exists,
      residue_index=batch['residue_index'],
      aatype=batch['aatype'],
      tolerance_factor_soft=config.violation_tolerance_factor,
      tolerance_factor_hard=config.violation_tolerance_factor,
      asym_id=batch.get('asym_id'))

  # The element, and so the radius, is the first letter of the atom name.
  atomtype_radius = np.array(
      [residue_constants.van_der_waals_radius[name[0]]
       for name in residue_constants.atom_types], np.float64)
  atom14_atom_radius = atom14_atom_exists * jnp.asarray(
      atomtype_radius, dtype)[batch['residx_atom14_to_atom37']]
  between_residue_clashes = between_residue_clash_loss(
      atom_positions=atom14_pred_positions,
      atom_exists=atom14_atom_exists,
      atom_radius=atom14_atom_radius,
      residue_index=batch['residue_index'],
      overlap_tolerance_soft=config.clash_overlap_tolerance,
      overlap_tolerance_hard=config.clash_overlap_tolerance,
      asym_id=batch.get('asym_id'))

  bounds = residue_constants.make_atom14_dists_bounds(
      overlap_tolerance=config.clash_overlap_tolerance,
      bond_length_tolerance_factor=config.violation_tolerance_factor)
  aatype = batch['aatype']
  within_residue = within_residue_violations(
      atom14_pred_positions=atom14_pred_positions,
      atom14_atom_exists=atom14_atom_exists,
      atom14_dists_lower_bound=jnp.asarray(bounds['lower_bound'])[aatype],
      atom14_dists_upper_bound=jnp.asarray(bounds['upper_bound'])[aatype],
      tighten_bounds_for_loss=0.0)

  # One flag per residue, used to mask the lDDT of violating residues.
  per_residue_violations_mask = jnp.max(jnp.stack([
      connection_violations['per_residue_violation_mask'],
      jnp.max(between_residue_clashes['per_atom_clash_mask'], axis=-1),
      jnp.max(within_residue['per_atom_violations'], axis=-1)]), axis=0)

  out = {
      'between_residues': {
          'bonds_c_n_loss_mean': connection_violations['c_n_loss_mean'],
          'angles_ca_c_n_loss_mean': connection_violations['ca_c_n_loss_mean'],
          'angles_c_n_ca_loss_mean': connection_violations['c_n_ca_loss_mean'],
          'connections_per_residue_loss_sum':
              connection_violations['per_residue_loss_sum'],
          'connections_per_residue_violation_mask':
              connection_violations['per_residue_violation_mask'],
          'clashes_mean_loss': between_residue_clashes['mean_loss'],
          'clashes_per_atom_loss_sum':
              between_residue_clashes['per_atom_loss_sum'],
          'clashes_per_atom_clash_mask':
              between_residue_clashes['per_atom_clash_mask'],
      },
      'within_residues': {
          'per_atom_loss_sum': within_residue['per_atom_loss_sum'],
          'per_atom_violations': within_residue['per_atom_violations'],
      },
      'total_per_residue_violations_mask': per_residue_violations_mask,
  }
  if count_clashes:
    out['between_residues']['clashes_per_atom_num_clash'] = (
        between_residue_clashes['per_atom_num_clash'])
    out['within_residues']['per_atom_num_clash'] = (
        within_residue['per_atom_num_clash'])
  return out


def compute_violation_metrics(batch, atom14_pred_positions: jax.Array,
                              violations: dict) -> dict:
  """Fractions of residues with each kind of violation (for logging).

  Args:
    batch: 'seq_mask', 'residue_index' [N_res], 'atom14_atom_exists'.
    atom14_pred_positions: [N_res, 14, 3].
    violations: find_structural_violations' output.

  Returns:
    violations_extreme_ca_ca_distance, violations_between_residue_bond,
    violations_between_residue_clash, violations_within_residue,
    violations_per_residue: all ().
  """
  dtype = atom14_pred_positions.dtype
  seq_mask = jnp.asarray(batch['seq_mask'], dtype)
  between = violations['between_residues']
  return {
      'violations_extreme_ca_ca_distance': extreme_ca_ca_distance_violations(
          pred_atom_positions=atom14_pred_positions,
          pred_atom_mask=batch['atom14_atom_exists'],
          residue_index=batch['residue_index'],
          asym_id=batch.get('asym_id')),
      'violations_between_residue_bond': utils.mask_mean(
          mask=seq_mask,
          value=between['connections_per_residue_violation_mask']),
      'violations_between_residue_clash': utils.mask_mean(
          mask=seq_mask,
          value=jnp.max(between['clashes_per_atom_clash_mask'], axis=-1)),
      'violations_within_residue': utils.mask_mean(
          mask=seq_mask,
          value=jnp.max(violations['within_residues']['per_atom_violations'],
                        axis=-1)),
      'violations_per_residue': utils.mask_mean(
          mask=seq_mask,
          value=violations['total_per_residue_violations_mask']),
  }


def structural_violation_loss(violations: dict, batch, dtype,
                              average_clashes: bool = False) -> jax.Array:
  """The violation loss (Suppl. eq. 44-47): bond, angle and clash terms.

  Args:
    violations: find_structural_violations' output.
    batch: 'atom14_atom_exists' [N_res, 14].
    dtype: float dtype of the result.
    average_clashes: AlphaFold-Multimer's change (needs the violations of
      count_clashes=True): each atom's clash loss is
      its mean over the atoms it clashes with rather than their sum, so
      that a few deeply interpenetrated chains (frequent early in training)
      do not swamp the loss.

  Returns:
    () bond and angle means plus the clash and within-residue losses summed
    (or averaged) per atom and averaged over existing atoms (unweighted).
  """
  between = violations['between_residues']
  within = violations['within_residues']
  num_atoms = jnp.sum(jnp.asarray(batch['atom14_atom_exists'], dtype))
  per_atom_clash = (between['clashes_per_atom_loss_sum'] +
                    within['per_atom_loss_sum'])
  if average_clashes:
    num_clash = (between['clashes_per_atom_num_clash'] +
                 within['per_atom_num_clash'])
    per_atom_clash = per_atom_clash / (1e-6 + num_clash)
  return (between['bonds_c_n_loss_mean'] +
          between['angles_ca_c_n_loss_mean'] +
          between['angles_c_n_ca_loss_mean'] +
          jnp.sum(per_atom_clash) / (1e-6 + num_atoms))
