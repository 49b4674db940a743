"""Structure-module outputs built from the truth of a complex, each chain
moved by its own rigid motion: a prediction whose errors are known."""
import numpy as np

from alphafold_jax.common import residue_constants


def rotation(axis, angle):
  axis = np.asarray(axis, np.float64) / np.linalg.norm(axis)
  k = np.array([[0, -axis[2], axis[1]], [axis[2], 0, -axis[0]],
                [-axis[1], axis[0], 0]])
  return np.eye(3) + np.sin(angle) * k + (1 - np.cos(angle)) * k @ k


def _move_flat12(flat, rot, trans):
  r = flat[..., :9].reshape(flat.shape[:-1] + (3, 3))
  t = flat[..., 9:]
  return np.concatenate([(rot @ r).reshape(flat.shape[:-1] + (9,)),
                         t @ rot.T + trans], axis=-1)


def _affine_to_flat12(affine):
  w, x, y, z = (affine[..., i] for i in range(4))
  r = np.stack([1 - 2 * (y * y + z * z), 2 * (x * y - w * z),
                2 * (x * z + w * y), 2 * (x * y + w * z),
                1 - 2 * (x * x + z * z), 2 * (y * z - w * x),
                2 * (x * z - w * y), 2 * (y * z + w * x),
                1 - 2 * (x * x + y * y)], axis=-1)
  return np.concatenate([r, affine[..., 4:]], axis=-1)


def value_from_truth(batch, motions, num_layer=2):
  """The multimer structure module's outputs for the truth with chain c
  moved by motions[c] = (rotation [3, 3], translation [3]) (identity for
  chains not listed), float64."""
  asym_id = np.asarray(batch['asym_id'])
  n = asym_id.shape[0]
  rot = np.tile(np.eye(3), (n, 1, 1))
  trans = np.zeros((n, 3))
  for chain, (r, t) in motions.items():
    rot[asym_id == chain] = r
    trans[asym_id == chain] = t

  def move_points(p):  # [N, k, 3]
    return np.einsum('nij,nkj->nki', rot, p) + trans[:, None]

  def move_frames(f):  # [N, k, 12]
    return np.stack([_move_flat12(f[i], rot[i], trans[i]) for i in range(n)])

  backbone = _affine_to_flat12(np.asarray(batch['backbone_affine_tensor'],
                                          np.float64))
  backbone = move_frames(backbone[:, None])[:, 0]
  atom14 = move_points(np.asarray(batch['atom14_gt_positions'], np.float64))
  frames = move_frames(np.asarray(batch['rigidgroups_gt_frames'], np.float64))
  chi = np.asarray(batch['chi_angles'], np.float64)
  angles = np.zeros((n, 7, 2))
  angles[..., 1] = 1.
  angles[:, 3:] = np.stack([np.sin(chi), np.cos(chi)], axis=-1)
  atom37 = move_points(np.asarray(batch['all_atom_positions'], np.float64))
  layers = lambda a: np.stack([a] * num_layer)
  return {
      'traj': layers(backbone),
      'final_frames': backbone,
      'final_atom14_positions': atom14,
      'final_atom_positions': atom37,
      'final_atom_mask': residue_constants.restype_atom37_mask[
          batch['aatype']],
      'sidechains': {'frames': layers(frames), 'atom_pos': layers(atom14),
                     'angles_sin_cos': layers(angles),
                     'unnormalized_angles_sin_cos': layers(angles)},
  }
