"""Conversions between torsion angles, rigid-group frames and atom positions.

Implements the all-atom side of the structure module (Suppl. Alg. 24,
"computeAllAtomCoordinates") and the ground-truth features derived from an
atom37 structure (rigid-group frames, torsion angles, atom14 layout and its
alternative naming, Suppl. sections 1.8 and 1.9).

Shapes: N residues; atom37 = residue_constants.atom_type_num atom types;
atom14 = residue_constants.atom14_type_num per-residue atom slots; 8 rigid
groups (backbone, pre-omega, phi, psi, chi1..chi4); 7 torsions (pre-omega,
phi, psi, chi1..chi4). Every function follows the floating dtype of its
positions/angles (float32, or float64 under x64); the constant tables are
float32 and promote. Nothing is modified in place.
"""
from typing import Dict, Tuple, Union

import jax
import jax.numpy as jnp
import numpy as np

from alphafold_jax.common import residue_constants as rc
from alphafold_jax.geometry import Rigid3
from alphafold_jax.geometry import Rot3
from alphafold_jax.geometry import Vec3

_NUM_TORSIONS = 7
# Index of chi1 in the torsion axis and in the rigid-group axis.
_FIRST_CHI_TORSION = 3
_FIRST_CHI_GROUP = 4


def _gather_rows(table: np.ndarray, aatype) -> jax.Array:
  """table[aatype] for a per-restype table [21, ...] -> [..., N, ...]."""
  return jnp.take(jnp.asarray(table), jnp.asarray(aatype), axis=0)


def _gather_atoms(data, index) -> jax.Array:
  """Per-residue gather along the atom axis.

  Args:
    data: [..., N, A, *rest].
    index: [..., N, B] integer indices into A.

  Returns:
    [..., N, B, *rest] with out[..., n, b, ...] = data[..., n, index[..., n, b], ...].
  """
  data, index = jnp.asarray(data), jnp.asarray(index)
  axis = index.ndim - 1
  rest = data.ndim - index.ndim
  index = jnp.reshape(index, index.shape + (1,) * rest)
  out_shape = index.shape[:index.ndim - rest] + data.shape[axis + 1:]
  return jnp.take_along_axis(data, jnp.broadcast_to(index, out_shape),
                             axis=axis)


def _concat_rigids(rigids, axis: int = -1) -> Rigid3:
  return jax.tree_util.tree_map(
      lambda *xs: jnp.concatenate(xs, axis=axis), *rigids)


def torsion_angles_to_frames(aatype, backbone_to_global: Rigid3,
                             torsion_angles_sin_cos) -> Rigid3:
  """Global frames of the 8 rigid groups (Suppl. Alg. 24, lines 1-10).

  Each group frame is its literature default frame followed by a rotation
  about x by its torsion; chi2..chi4 hang off the previous chi frame, the
  rest off the backbone frame.

  Args:
    aatype: [..., N] integer residue types.
    backbone_to_global: Rigid3 [..., N], backbone frames (Å).
    torsion_angles_sin_cos: [..., N, 7, 2] (sin, cos) of the 7 torsions.

  Returns:
    Rigid3 [..., N, 8], group-to-global frames.
  """
  torsion_angles_sin_cos = jnp.asarray(torsion_angles_sin_cos)
  expected_shape = jnp.shape(aatype) + (_NUM_TORSIONS, 2)
  if torsion_angles_sin_cos.shape != expected_shape:
    raise ValueError(f'torsion_angles_sin_cos has shape '
                     f'{torsion_angles_sin_cos.shape}, expected {expected_shape}')
  default_frames = Rigid3.from_array(
      _gather_rows(rc.restype_rigid_group_default_frame, aatype))

  sin_angles = torsion_angles_sin_cos[..., 0]
  cos_angles = torsion_angles_sin_cos[..., 1]
  # The backbone group is not rotated.
  pad_shape = sin_angles.shape[:-1] + (1,)
  sin_angles = jnp.concatenate(
      [jnp.zeros(pad_shape, sin_angles.dtype), sin_angles], axis=-1)
  cos_angles = jnp.concatenate(
      [jnp.ones(pad_shape, cos_angles.dtype), cos_angles], axis=-1)
  frames = default_frames.compose_rotation(
      Rot3.about_x_axis(sin_angles, cos_angles))

  chi1_to_backbone = frames[..., _FIRST_CHI_GROUP]
  chi2_to_backbone = chi1_to_backbone @ frames[..., _FIRST_CHI_GROUP + 1]
  chi3_to_backbone = chi2_to_backbone @ frames[..., _FIRST_CHI_GROUP + 2]
  chi4_to_backbone = chi3_to_backbone @ frames[..., _FIRST_CHI_GROUP + 3]
  expand = lambda r: r.map(lambda x: x[..., None])
  frames_to_backbone = _concat_rigids([
      frames[..., :_FIRST_CHI_GROUP + 1], expand(chi2_to_backbone),
      expand(chi3_to_backbone), expand(chi4_to_backbone)])
  return expand(backbone_to_global) @ frames_to_backbone


def frames_and_literature_positions_to_atom14_pos(aatype,
                                                  frames: Rigid3) -> Vec3:
  """Atom positions from group frames (Suppl. Alg. 24, line 11).

  Args:
    aatype: [..., N] integer residue types.
    frames: Rigid3 [..., N, 8] group-to-global frames.

  Returns:
    Vec3 [..., N, 14], zero where the residue has no such atom.
  """
  group_idx = _gather_rows(rc.restype_atom14_to_rigid_group, aatype)
  atom_frames = frames.map(
      lambda x: jnp.take_along_axis(x, group_idx, axis=-1))
  literature = Vec3.from_array(
      _gather_rows(rc.restype_atom14_rigid_group_positions, aatype))
  positions = atom_frames.apply(literature)
  mask = _gather_rows(rc.restype_atom14_mask, aatype)
  return positions.map(lambda x: x * mask.astype(x.dtype))


def atom14_to_atom37(atom14_data, residx_atom37_to_atom14,
                     atom37_atom_exists) -> jax.Array:
  """[..., N, 14, ...] -> [..., N, 37, ...], zero for absent atoms."""
  atom37 = _gather_atoms(atom14_data, residx_atom37_to_atom14)
  mask = jnp.asarray(atom37_atom_exists).astype(atom37.dtype)
  return atom37 * jnp.reshape(mask, mask.shape + (1,) * (atom37.ndim - mask.ndim))


def atom37_to_atom14(atom37_data, residx_atom14_to_atom37,
                     atom14_atom_exists) -> jax.Array:
  """[..., N, 37, ...] -> [..., N, 14, ...], zero for absent atoms."""
  atom14 = _gather_atoms(atom37_data, residx_atom14_to_atom37)
  mask = jnp.asarray(atom14_atom_exists).astype(atom14.dtype)
  return atom14 * jnp.reshape(mask, mask.shape + (1,) * (atom14.ndim - mask.ndim))


def make_atom14_masks(aatype) -> Dict[str, np.ndarray]:
  """Atom14/atom37 index maps and existence masks for a sequence.

  Args:
    aatype: [..., N] integer residue types (20 = UNK).

  Returns:
    numpy arrays: atom14_atom_exists [..., N, 14] float32,
    residx_atom14_to_atom37 [..., N, 14] int32,
    residx_atom37_to_atom14 [..., N, 37] int32,
    atom37_atom_exists [..., N, 37] float32. Absent atoms map to index 0.
  """
  aatype = np.asarray(aatype)
  return {
      'atom14_atom_exists': rc.restype_atom14_mask[aatype],
      'residx_atom14_to_atom37': rc.restype_atom14_to_atom37[aatype],
      'residx_atom37_to_atom14': rc.restype_atom37_to_atom14[aatype],
      'atom37_atom_exists': rc.restype_atom37_mask[aatype],
  }


def _shift_right(x, axis: int) -> jax.Array:
  """Values of the previous residue along `axis`; zeros for the first."""
  x = jnp.asarray(x)
  pad_shape = list(x.shape)
  pad_shape[axis] = 1
  kept = jax.lax.slice_in_dim(x, 0, x.shape[axis] - 1, axis=axis)
  return jnp.concatenate([jnp.zeros(pad_shape, x.dtype), kept], axis=axis)


def atom37_to_torsion_angles(aatype, all_atom_positions, all_atom_mask,
                             placeholder_for_undefined: bool = False
                             ) -> Dict[str, jax.Array]:
  """The 7 torsion angles of each residue (Suppl. section 1.9.1).

  Each torsion is measured from its 4 atoms a0..a3: the frame with a2 at the
  origin, a1 on -x and a0 in the xy-plane places a3 at (., cos, sin) up to
  scale. Pre-omega uses CA, C of the previous residue and N, CA; phi the
  previous C and N, CA, C; psi N, CA, C, O (negated, since O sits opposite to
  the next N); chi1..4 the atoms of residue_constants.chi_angles_atoms.

  Args:
    aatype: [..., N] integer residue types (values above 20 count as UNK).
    all_atom_positions: [..., N, 37, 3].
    all_atom_mask: [..., N, 37].
    placeholder_for_undefined: put (sin, cos) = (0, 1) where the mask is 0.

  Returns:
    torsion_angles_sin_cos: [..., N, 7, 2] (sin, cos).
    alt_torsion_angles_sin_cos: [..., N, 7, 2], pi-periodic chis shifted by pi.
    torsion_angles_mask: [..., N, 7].
  """
  aatype = jnp.minimum(jnp.asarray(aatype), rc.unk_restype_index)
  positions = jnp.asarray(all_atom_positions)
  mask = jnp.asarray(all_atom_mask).astype(positions.dtype)
  prev_positions = _shift_right(positions, axis=-3)
  prev_mask = _shift_right(mask, axis=-2)
  n, ca, c, o = (rc.atom_order[a] for a in ('N', 'CA', 'C', 'O'))

  # [..., N, 4 atoms, 3] for each backbone torsion.
  pre_omega_pos = jnp.concatenate(
      [prev_positions[..., ca:c + 1, :], positions[..., n:ca + 1, :]], axis=-2)
  phi_pos = jnp.concatenate(
      [prev_positions[..., c:c + 1, :], positions[..., n:c + 1, :]], axis=-2)
  psi_pos = jnp.concatenate(
      [positions[..., n:c + 1, :], positions[..., o:o + 1, :]], axis=-2)
  pre_omega_mask = (prev_mask[..., ca] * prev_mask[..., c] *
                    mask[..., n] * mask[..., ca])
  phi_mask = prev_mask[..., c] * mask[..., n] * mask[..., ca] * mask[..., c]
  psi_mask = mask[..., n] * mask[..., ca] * mask[..., c] * mask[..., o]

  chi_atoms = _gather_rows(rc.chi_atom_indices, aatype)  # [..., N, 4, 4]
  flat_chi_atoms = jnp.reshape(chi_atoms, chi_atoms.shape[:-2] + (-1,))
  chi_pos = jnp.reshape(_gather_atoms(positions, flat_chi_atoms),
                        chi_atoms.shape + (3,))
  chi_atoms_mask = jnp.reshape(_gather_atoms(mask, flat_chi_atoms),
                               chi_atoms.shape)
  chi_angles_mask = np.concatenate(
      [np.asarray(rc.chi_angles_mask, np.float32),
       np.zeros([1, 4], np.float32)])
  chi_mask = (_gather_rows(chi_angles_mask, aatype).astype(positions.dtype) *
              jnp.prod(chi_atoms_mask, axis=-1))

  torsion_pos = jnp.concatenate(
      [pre_omega_pos[..., None, :, :], phi_pos[..., None, :, :],
       psi_pos[..., None, :, :], chi_pos], axis=-3)  # [..., N, 7, 4, 3]
  torsion_mask = jnp.concatenate(
      [pre_omega_mask[..., None], phi_mask[..., None], psi_mask[..., None],
       chi_mask], axis=-1)  # [..., N, 7]

  atom = lambda i: Vec3.from_array(torsion_pos[..., i, :])
  frames = Rigid3.from_three_points(point_on_neg_x_axis=atom(1),
                                    origin=atom(2), point_on_xy_plane=atom(0))
  fourth = frames.apply_inverse(atom(3))
  sin_cos = jnp.stack([fourth.z, fourth.y], axis=-1)
  sin_cos = sin_cos / jnp.sqrt(
      jnp.sum(jnp.square(sin_cos), axis=-1, keepdims=True) + 1e-8)
  psi_mirror = np.array([1., 1., -1., 1., 1., 1., 1.], np.float32)
  sin_cos = sin_cos * psi_mirror[:, None]

  chi_is_periodic = _gather_rows(
      np.asarray(rc.chi_pi_periodic, np.float32), aatype)
  mirror = jnp.concatenate(
      [jnp.ones(chi_is_periodic.shape[:-1] + (_FIRST_CHI_TORSION,),
                chi_is_periodic.dtype),
       1. - 2. * chi_is_periodic], axis=-1).astype(sin_cos.dtype)
  alt_sin_cos = sin_cos * mirror[..., None]

  if placeholder_for_undefined:
    placeholder = jnp.zeros_like(sin_cos).at[..., 1].set(1.)
    keep = torsion_mask[..., None]
    sin_cos = sin_cos * keep + placeholder * (1. - keep)
    alt_sin_cos = alt_sin_cos * keep + placeholder * (1. - keep)

  return {
      'torsion_angles_sin_cos': sin_cos,
      'alt_torsion_angles_sin_cos': alt_sin_cos,
      'torsion_angles_mask': torsion_mask,
  }


def _make_rigid_group_base_atoms() -> Tuple[np.ndarray, np.ndarray]:
  """atom37 indices [21, 8, 3] of the atoms defining each group's frame.

  The 3 atoms are (point on -x, origin, point in the xy-plane): C, CA, N for
  the backbone; CA, C, O for psi; the last 3 chi atoms for each chi group.
  Pre-omega and phi have no heavy atoms of their own and no frame here.
  Also returns the [21, 8] float32 mask of the groups each residue has.
  """
  names = np.full([rc.restype_num + 1, rc.num_rigid_groups, 3], '',
                  dtype=object)
  names[:, 0] = ['C', 'CA', 'N']
  names[:, 3] = ['CA', 'C', 'O']
  group_exists = np.zeros([rc.restype_num + 1, rc.num_rigid_groups],
                          np.float32)
  group_exists[:, 0] = 1
  group_exists[:, 3] = 1
  group_exists[:rc.restype_num, _FIRST_CHI_GROUP:] = rc.chi_angles_mask
  for restype, letter in enumerate(rc.restypes):
    for chi_idx, atoms in enumerate(rc.chi_angles_atoms[rc.restype_1to3[letter]]):
      names[restype, _FIRST_CHI_GROUP + chi_idx] = atoms[1:]
  lookup = dict(rc.atom_order, **{'': 0})
  indices = np.vectorize(lambda name: lookup[name])(names).astype(np.int32)
  return indices, group_exists


def _make_ambiguity_rotations() -> Tuple[np.ndarray, np.ndarray]:
  """[21, 8] ambiguous-group mask and [21, 8, 3, 3] alternative rotations.

  The ambiguous group is the last chi group of a pi-periodic residue; its
  alternative frame is rotated by pi about x.
  """
  is_ambiguous = np.zeros([rc.restype_num + 1, rc.num_rigid_groups],
                          np.float32)
  rots = np.tile(np.eye(3, dtype=np.float32),
                 [rc.restype_num + 1, rc.num_rigid_groups, 1, 1])
  for resname in rc.residue_atom_renaming_swaps:
    restype = rc.restype_order[rc.restype_3to1[resname]]
    group = _FIRST_CHI_GROUP + int(sum(rc.chi_angles_mask[restype])) - 1
    is_ambiguous[restype, group] = 1
    rots[restype, group] = np.diag([1., -1., -1.])
  return is_ambiguous, rots


_RIGID_GROUP_BASE_ATOMS, _RIGID_GROUP_EXISTS = _make_rigid_group_base_atoms()
_RIGID_GROUP_IS_AMBIGUOUS, _RIGID_GROUP_AMBIGUITY_ROTS = (
    _make_ambiguity_rotations())


def atom37_to_frames(aatype, all_atom_positions, all_atom_mask
                     ) -> Dict[str, jax.Array]:
  """Ground-truth rigid-group frames (Suppl. section 1.8.1, Alg. 21).

  The backbone frame is rotated by pi about y (x and z negated), the
  convention of the structure module's backbone frames; alternative frames
  rotate the ambiguous last chi group of ASP/GLU/PHE/TYR by pi about x.

  Args:
    aatype: [..., N] integer residue types.
    all_atom_positions: [..., N, 37, 3].
    all_atom_mask: [..., N, 37].

  Returns:
    rigidgroups_gt_frames: [..., N, 8, 12] flat12 (rotation row-major,
      translation).
    rigidgroups_gt_exists: [..., N, 8] the group and its 3 atoms exist.
    rigidgroups_group_exists: [..., N, 8] the residue has the group.
    rigidgroups_group_is_ambiguous: [..., N, 8].
    rigidgroups_alt_gt_frames: [..., N, 8, 12].
  """
  positions = jnp.asarray(all_atom_positions)
  mask = jnp.asarray(all_atom_mask).astype(positions.dtype)
  base_atoms = _gather_rows(_RIGID_GROUP_BASE_ATOMS, aatype)  # [..., N, 8, 3]
  flat_base_atoms = jnp.reshape(base_atoms, base_atoms.shape[:-2] + (-1,))
  base_pos = jnp.reshape(_gather_atoms(positions, flat_base_atoms),
                         base_atoms.shape + (3,))
  base_mask = jnp.reshape(_gather_atoms(mask, flat_base_atoms),
                          base_atoms.shape)

  atom = lambda i: Vec3.from_array(base_pos[..., i, :])
  gt_frames = Rigid3.from_three_points(point_on_neg_x_axis=atom(0),
                                       origin=atom(1), point_on_xy_plane=atom(2))
  group_exists = _gather_rows(_RIGID_GROUP_EXISTS, aatype).astype(mask.dtype)
  gt_exists = jnp.min(base_mask, axis=-1) * group_exists

  backbone_flip = np.tile(np.eye(3, dtype=np.float32),
                          [rc.num_rigid_groups, 1, 1])
  backbone_flip[0] = np.diag([-1., 1., -1.])
  gt_frames = gt_frames.compose_rotation(Rot3.from_array(
      jnp.asarray(backbone_flip, positions.dtype)))
  alt_rots = _gather_rows(_RIGID_GROUP_AMBIGUITY_ROTS, aatype)
  alt_gt_frames = gt_frames.compose_rotation(
      Rot3.from_array(alt_rots.astype(positions.dtype)))

  return {
      'rigidgroups_gt_frames': gt_frames.to_flat12(),
      'rigidgroups_gt_exists': gt_exists,
      'rigidgroups_group_exists': group_exists,
      'rigidgroups_group_is_ambiguous': _gather_rows(
          _RIGID_GROUP_IS_AMBIGUOUS, aatype).astype(mask.dtype),
      'rigidgroups_alt_gt_frames': alt_gt_frames.to_flat12(),
  }


def make_atom14_positions(aatype, all_atom_positions, all_atom_mask
                          ) -> Dict[str, jax.Array]:
  """Ground-truth atom14 positions and their alternative naming.

  The alternative swaps the names of the atom pairs of
  residue_constants.residue_atom_renaming_swaps (Suppl. section 1.8.5).

  Args:
    aatype: [..., N] integer residue types.
    all_atom_positions: [..., N, 37, 3].
    all_atom_mask: [..., N, 37].

  Returns:
    atom14_gt_positions [..., N, 14, 3], atom14_gt_exists [..., N, 14],
    atom14_alt_gt_positions, atom14_alt_gt_exists, and
    atom14_atom_is_ambiguous [..., N, 14].
  """
  positions = jnp.asarray(all_atom_positions)
  mask = jnp.asarray(all_atom_mask).astype(positions.dtype)
  to37 = _gather_rows(rc.restype_atom14_to_atom37, aatype)
  atom_exists = _gather_rows(rc.restype_atom14_mask, aatype).astype(mask.dtype)
  gt_exists = atom_exists * _gather_atoms(mask, to37)
  gt_positions = gt_exists[..., None] * _gather_atoms(positions, to37)
  swap = _gather_rows(rc.restype_atom14_ambiguous_atoms_swap_idx, aatype)
  return {
      'atom14_gt_positions': gt_positions,
      'atom14_gt_exists': gt_exists,
      'atom14_alt_gt_positions': _gather_atoms(gt_positions, swap),
      'atom14_alt_gt_exists': _gather_atoms(gt_exists, swap),
      'atom14_atom_is_ambiguous': _gather_rows(
          rc.restype_atom14_ambiguous_atoms, aatype).astype(mask.dtype),
  }


def pseudo_beta(aatype, all_atom_positions, all_atom_mask=None
                ) -> Union[jax.Array, Tuple[jax.Array, jax.Array]]:
  """CB position (CA for glycine), Suppl. section 1.2.9.

  Args:
    aatype: [..., N] integer residue types.
    all_atom_positions: [..., N, 37, 3].
    all_atom_mask: optional [..., N, 37].

  Returns:
    positions [..., N, 3], and the mask [..., N] when a mask was given.
  """
  is_gly = jnp.asarray(aatype) == rc.restype_order['G']
  ca, cb = rc.atom_order['CA'], rc.atom_order['CB']
  positions = jnp.asarray(all_atom_positions)
  beta = jnp.where(is_gly[..., None], positions[..., ca, :],
                   positions[..., cb, :])
  if all_atom_mask is None:
    return beta
  mask = jnp.asarray(all_atom_mask)
  return beta, jnp.where(is_gly, mask[..., ca], mask[..., cb])
