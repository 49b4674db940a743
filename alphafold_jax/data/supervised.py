"""Supervised features: the ground truth the losses read (Suppl. 1.9).

Computed from an atom37 structure with the chemistry of
`alphafold_jax.common.all_atom` (atom14 layout and its alternative naming,
Suppl. 1.8.5; rigid-group frames, Suppl. Alg. 21; torsion angles, Suppl.
Alg. 25) and returned as numpy float32 arrays.
"""
from __future__ import annotations

from typing import Dict

import jax
import jax.numpy as jnp
import numpy as np

from alphafold_jax.common import all_atom
from alphafold_jax.geometry import Rigid3
from alphafold_jax.geometry import quaternion

# Index of the backbone group in the rigid-group axis, and of chi1 in the
# torsion axis (pre-omega, phi, psi, chi1..chi4).
_BACKBONE_GROUP = 0
_FIRST_CHI_TORSION = 3
# Chains are padded to a multiple of this many residues before the compiled
# ground-truth computation.
_LENGTH_BUCKET = 64


def _pad_residues(array: np.ndarray, pad: int) -> np.ndarray:
  return np.pad(array, [(0, pad)] + [(0, 0)] * (array.ndim - 1))


_pseudo_beta_jit = jax.jit(all_atom.pseudo_beta)


def pseudo_beta(aatype: np.ndarray, all_atom_positions: np.ndarray,
                all_atom_mask: np.ndarray):
  """C-beta (C-alpha for glycine) positions [..., N_res, 3] and mask
  [..., N_res] (Suppl. 1.2.9), float32; the leading axes are flattened and
  padded to a multiple of _LENGTH_BUCKET for one compiled call."""
  shape = np.shape(aatype)
  flat = int(np.prod(shape))
  pad = -flat % _LENGTH_BUCKET
  atom_shape = np.shape(all_atom_positions)[-2:]
  positions, mask = _pseudo_beta_jit(
      _pad_residues(np.reshape(aatype, (flat,)), pad),
      _pad_residues(np.reshape(all_atom_positions, (flat,) + atom_shape), pad),
      _pad_residues(np.reshape(all_atom_mask, (flat,) + atom_shape[:1]), pad))
  return (np.asarray(positions[:flat], np.float32).reshape(shape + (3,)),
          np.asarray(mask[:flat], np.float32).reshape(shape))


def make_atom14_masks(aatype: np.ndarray) -> Dict[str, np.ndarray]:
  """Atom14/atom37 index maps and existence masks, [N_res, 14] / [N_res, 37]."""
  return {k: np.asarray(v) for k, v in all_atom.make_atom14_masks(
      aatype).items()}


def _ground_truth(aatype, positions, mask):
  """make_supervised_features' JAX part, on [N_pad] residues."""
  features = dict(all_atom.make_atom14_positions(aatype, positions, mask))
  frames = all_atom.atom37_to_frames(aatype, positions, mask)
  features.update(frames)
  backbone = Rigid3.from_flat12(
      frames['rigidgroups_gt_frames'][:, _BACKBONE_GROUP])
  features['backbone_affine_tensor'] = quaternion.rigid_to_affine(backbone)
  features['backbone_affine_mask'] = frames['rigidgroups_gt_exists'][
      :, _BACKBONE_GROUP]
  torsions = all_atom.atom37_to_torsion_angles(aatype, positions, mask)
  sin_cos = torsions['torsion_angles_sin_cos'][:, _FIRST_CHI_TORSION:]
  features['chi_angles'] = jnp.arctan2(sin_cos[..., 0], sin_cos[..., 1])
  features['chi_mask'] = torsions['torsion_angles_mask'][:,
                                                         _FIRST_CHI_TORSION:]
  features['pseudo_beta'], features['pseudo_beta_mask'] = all_atom.pseudo_beta(
      aatype, positions, mask)
  return features


# One compilation per padded length, not per chain length.
_ground_truth_jit = jax.jit(_ground_truth)


def make_supervised_features(aatype: np.ndarray,
                             all_atom_positions: np.ndarray,
                             all_atom_mask: np.ndarray
                             ) -> Dict[str, np.ndarray]:
  """Every ground-truth feature of the structure losses.

  Computed by one compiled function on the residues padded to a multiple of
  _LENGTH_BUCKET (each residue's features depend on itself and the residue
  before it only, so the appended padding changes nothing and is cut off).

  Args:
    aatype: [N_res] int residue types (our order).
    all_atom_positions: [N_res, 37, 3] Å.
    all_atom_mask: [N_res, 37].

  Returns:
    float32 arrays: all_atom_positions, all_atom_mask (as given);
    atom14_gt_positions [N_res, 14, 3], atom14_gt_exists [N_res, 14],
    atom14_alt_gt_positions, atom14_alt_gt_exists, atom14_atom_is_ambiguous;
    rigidgroups_gt_frames [N_res, 8, 12], rigidgroups_gt_exists [N_res, 8],
    rigidgroups_group_exists, rigidgroups_group_is_ambiguous,
    rigidgroups_alt_gt_frames; backbone_affine_tensor [N_res, 7] (unit
    quaternion w >= 0, then the C-alpha translation) and backbone_affine_mask
    [N_res]; chi_angles [N_res, 4] (radians) and chi_mask [N_res, 4];
    pseudo_beta [N_res, 3] and pseudo_beta_mask [N_res].
  """
  positions = np.asarray(all_atom_positions, np.float32)
  mask = np.asarray(all_atom_mask, np.float32)
  num_res = positions.shape[0]
  pad = -num_res % _LENGTH_BUCKET
  padded = _ground_truth_jit(_pad_residues(np.asarray(aatype, np.int32), pad),
                             _pad_residues(positions, pad),
                             _pad_residues(mask, pad))
  features = {k: np.asarray(v[:num_res], np.float32)
              for k, v in padded.items()}
  features.update(all_atom_positions=positions, all_atom_mask=mask)
  return features
