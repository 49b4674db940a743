"""Multi-chain cropping for training (Evans et al. 2021, section 7.2).

A complex larger than the crop is cut to `crop_size` residues in one of two
ways, drawn at random:

- contiguous: the chains are visited in a random order and each keeps one
  contiguous stretch, its length drawn so that the budget left can still
  be spent (every chain keeps at least what the chains after it cannot
  take) and never exceeded;
- spatial: a residue at an interface (its Cα within `interface_cutoff` Å of
  a Cα of another chain) is drawn, and the `crop_size` residues whose Cα are
  closest to it are kept; without an interface the crop is contiguous.

The kept residues stay in their original order. The features and the truth
are cropped with the same residue index; everything is drawn from the
numpy Generator given, so a seed fixes the crop.
"""
from __future__ import annotations

from typing import Mapping, Optional

import numpy as np

from alphafold_jax.common import residue_constants

# The residue axis of each feature that has one (others are not cropped).
RESIDUE_AXIS = {
    **{k: 0 for k in (
        'aatype', 'residue_index', 'asym_id', 'sym_id', 'entity_id',
        'entity_mask', 'seq_mask', 'deletion_mean', 'all_atom_positions',
        'all_atom_mask', 'atom14_gt_positions', 'atom14_gt_exists',
        'atom14_alt_gt_positions', 'atom14_alt_gt_exists',
        'atom14_atom_is_ambiguous', 'atom14_atom_exists',
        'residx_atom14_to_atom37', 'residx_atom37_to_atom14',
        'atom37_atom_exists', 'rigidgroups_gt_frames',
        'rigidgroups_gt_exists', 'rigidgroups_group_exists',
        'rigidgroups_group_is_ambiguous', 'rigidgroups_alt_gt_frames',
        'backbone_affine_tensor', 'backbone_affine_mask', 'chi_angles',
        'chi_mask', 'pseudo_beta', 'pseudo_beta_mask')},
    **{k: 1 for k in (
        'msa', 'deletion_matrix', 'msa_mask', 'bert_mask', 'template_aatype',
        'template_all_atom_positions', 'template_all_atom_mask')},
}
# Cα closer than this (Å) to another chain's make a residue interfacial.
INTERFACE_CUTOFF = 10.
# Chance of a spatial crop rather than a contiguous one.
SPATIAL_CROP_PROB = 0.5


def contiguous_crop(asym_id: np.ndarray, crop_size: int,
                    rng: np.random.Generator) -> np.ndarray:
  """Sorted indices of the residues kept by a per-chain contiguous crop."""
  chains = [a for a in np.unique(asym_id) if a != 0]
  order = rng.permutation(len(chains))
  lengths = {a: int(np.sum(asym_id == a)) for a in chains}
  budget = crop_size
  remaining = sum(lengths.values())
  keep = []
  for i in order:
    a = chains[i]
    n = lengths[a]
    remaining -= n
    # Take at least what the chains after this one could not, at most what
    # is left.
    most = min(budget, n)
    least = min(n, max(0, budget - remaining))
    size = int(rng.integers(least, most + 1))
    start = int(rng.integers(0, n - size + 1))
    keep.append(np.flatnonzero(asym_id == a)[start:start + size])
    budget -= size
  return np.sort(np.concatenate(keep)) if keep else np.zeros(0, np.int64)


def interface_residues(ca: np.ndarray, ca_mask: np.ndarray,
                       asym_id: np.ndarray,
                       cutoff: float = INTERFACE_CUTOFF) -> np.ndarray:
  """Indices of resolved residues with a resolved Cα of another chain
  within `cutoff` Å."""
  d = np.linalg.norm(ca[:, None] - ca[None, :], axis=-1)
  other = (asym_id[:, None] != asym_id[None, :]) & (
      ca_mask[:, None] > 0) & (ca_mask[None, :] > 0)
  return np.flatnonzero(np.any(other & (d < cutoff), axis=1))


def spatial_crop(ca: np.ndarray, ca_mask: np.ndarray, asym_id: np.ndarray,
                 crop_size: int, rng: np.random.Generator,
                 cutoff: float = INTERFACE_CUTOFF) -> Optional[np.ndarray]:
  """Sorted indices of the crop_size residues nearest a random interface
  residue (unresolved residues last); None without an interface."""
  candidates = interface_residues(ca, ca_mask, asym_id, cutoff)
  if candidates.size == 0:
    return None
  centre = ca[rng.choice(candidates)]
  dist = np.linalg.norm(ca - centre, axis=-1)
  dist = np.where(ca_mask > 0, dist, np.inf)
  # Ties (and the unresolved residues) in sequence order.
  order = np.lexsort((np.arange(dist.size), dist))
  return np.sort(order[:crop_size])


def crop_complex(features: Mapping[str, np.ndarray], crop_size: int,
                 rng: np.random.Generator,
                 spatial_crop_prob: float = SPATIAL_CROP_PROB,
                 interface_cutoff: float = INTERFACE_CUTOFF) -> dict:
  """The complex cut to at most crop_size residues (features and truth).

  Args:
    features: the example: per-residue features with 'asym_id' and, for the
      spatial crop, 'all_atom_positions' [N_res, 37, 3] and
      'all_atom_mask' [N_res, 37]; the axes of RESIDUE_AXIS are cut.
    crop_size: residues kept; a smaller complex is returned whole.
    rng: draws the crop kind, the chain order, lengths, starts and the
      interface residue.
    spatial_crop_prob: chance of a spatial crop.
    interface_cutoff: Å, see interface_residues.

  Returns:
    A new dict: the cropped features, 'seq_length' updated, and
    'crop_index' [N_crop] the kept residues of the input.
  """
  asym_id = np.asarray(features['asym_id'])
  num_res = asym_id.shape[0]
  if crop_size <= 0:
    raise ValueError(f'crop_size must be positive, got {crop_size}')
  if num_res <= crop_size:
    index = np.arange(num_res)
  else:
    index = None
    if rng.random() < spatial_crop_prob and 'all_atom_positions' in features:
      ca = residue_constants.atom_order['CA']
      index = spatial_crop(
          np.asarray(features['all_atom_positions'])[:, ca],
          np.asarray(features['all_atom_mask'])[:, ca], asym_id, crop_size,
          rng, interface_cutoff)
    if index is None:
      index = contiguous_crop(asym_id, crop_size, rng)
  out = dict(features)
  for key, axis in RESIDUE_AXIS.items():
    if key in features:
      value = np.asarray(features[key])
      if value.shape[axis] != num_res:
        raise ValueError(f'{key}: axis {axis} has {value.shape[axis]} '
                         f'entries, expected {num_res} residues')
      out[key] = np.take(value, index, axis=axis)
  out['seq_length'] = np.asarray(index.size, np.int32)
  out['crop_index'] = index.astype(np.int32)
  return out
