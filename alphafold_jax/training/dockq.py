"""DockQ (Basu & Wallner 2016, PLoS ONE 11:e0161879) of a predicted complex,
as a pure JAX function for the jitted training step.

For one interface, a pair of chains (or chain groups) 1 and 2, with every
distance measured in the true structure unless said otherwise:
  residue distance  the smallest distance between a heavy atom of residue i
                    and one of residue j (only atoms present in that
                    structure: the truth's resolved atoms, the prediction's
                    atoms of the residue type);
  native contacts   pairs (i in 1, j in 2) with residue distance < 5 Å;
  Fnat              the fraction of native contacts whose residue distance
                    in the prediction is < 5 Å too;
  interface         the residues of 1 within 10 Å (residue distance) of a
                    residue of 2, and those of 2 within 10 Å of 1;
  iRMSD             RMSD of the interface's backbone atoms (N, Cα, C, O)
                    after their optimal superposition;
  LRMSD             RMSD of the ligand's backbone atoms after superposing the
                    receptor's backbone atoms; the receptor is the chain
                    with more residues (chain 2 on a tie), the ligand the
                    other;
  DockQ = (Fnat + 1 / (1 + (iRMSD / 1.5)²) + 1 / (1 + (LRMSD / 8.5)²)) / 3.
Only residues resolved in the truth (any atom) count, and a backbone atom
counts where both structures have it. The thresholds are those of the DockQ
program (v2); the `DockQ` package scores the same files alike
(tests/training/test_dockq.py).

A complex with more chains scores every pair of chains with at least one
native contact, and `complex_dockq` averages them (DockQ v2's mean over the
native interfaces).
"""
from __future__ import annotations

from typing import Dict

import jax
import jax.numpy as jnp

from alphafold_jax.common import residue_constants

# Å: a native contact, and the interface of iRMSD (Basu & Wallner 2016).
CONTACT_CUTOFF = 5.
INTERFACE_CUTOFF = 10.
# Å: the scales of iRMSD and LRMSD in the DockQ score.
IRMSD_SCALE = 1.5
LRMSD_SCALE = 8.5
BACKBONE_ATOMS = ('N', 'CA', 'C', 'O')
# Rows of the residue-distance matrix computed together (memory:
# rows x N_res x _MAX_ATOMS² distances).
_ROW_BLOCK = 25
# Atoms a residue can have in the atom37 layout: the 14 heavy atoms of the
# largest residue type (Trp) and the C-terminal OXT. Residue distances are
# taken over the present atoms packed into this many slots (37² -> 15²).
_MAX_ATOMS = int(residue_constants.STANDARD_ATOM_MASK.sum(-1).max()) + 1
_BACKBONE_INDEX = tuple(residue_constants.atom_order[a] for a in BACKBONE_ATOMS)
_EPS = 1e-8
_HIGHEST = jax.lax.Precision.HIGHEST


def _backbone_mask(dtype) -> jax.Array:
  """1 at the backbone atoms of the atom37 order, [37]."""
  mask = [0.] * residue_constants.atom_type_num
  for name in BACKBONE_ATOMS:
    mask[residue_constants.atom_order[name]] = 1.
  return jnp.asarray(mask, dtype)


def _pack(positions: jax.Array, mask: jax.Array, width: int):
  """Each residue's present atoms moved to its first `width` slots."""
  order = jnp.argsort(~(mask > 0), axis=-1, stable=True)[:, :width]
  return (jnp.take_along_axis(positions, order[..., None], axis=1),
          jnp.take_along_axis(mask, order, axis=1))


def residue_distances(positions: jax.Array, mask: jax.Array) -> jax.Array:
  """Squared smallest atom-atom distance of each residue pair.

  Args:
    positions: [N_res, 37, 3] atom positions (atom37 layout: at most 15
      atoms of a residue are present).
    mask: [N_res, 37] 1 where the atom exists.

  Returns:
    [N_res, N_res]; +inf where a residue has no atom.
  """
  if positions.ndim != 3 or positions.shape[-1] != 3:
    raise ValueError(f'positions must be [N_res, A, 3], got {positions.shape}')
  if mask.shape != positions.shape[:2]:
    raise ValueError(f'mask must be {positions.shape[:2]}, got {mask.shape}')
  if positions.shape[1] > _MAX_ATOMS:
    positions, mask = _pack(positions, mask, _MAX_ATOMS)
  present = mask > 0

  def row(args):
    pos_i, present_i = args  # [A, 3], [A]
    # [A, N_res, A], summed over the coordinates one by one: a trailing axis
    # of 3 made this nine times slower on the CPU.
    d2 = sum(jnp.square(pos_i[:, None, None, k] - positions[None, :, :, k])
             for k in range(3))
    valid = present_i[:, None, None] & present[None]
    return jnp.min(jnp.where(valid, d2, jnp.inf), axis=(0, 2))

  return jax.lax.map(row, (positions, present), batch_size=_ROW_BLOCK)


def superpose_rmsd(moving: jax.Array, fixed: jax.Array, weights: jax.Array,
                   score_weights: jax.Array) -> jax.Array:
  """RMSDs of the points after the proper rotations and translations that
  best superpose weighted `moving` on `fixed` (Kabsch), one per row of
  weights: P superpositions of the same two point sets.

  Args:
    moving, fixed: [n, 3] points.
    weights: [P, n] the fitted points of each superposition (0 leaves a
      point out).
    score_weights: [P, n] the scored points of each.

  Returns:
    [P] the weighted RMSD of each superposition's scored points.
  """
  w = weights / jnp.maximum(jnp.sum(weights, axis=-1, keepdims=True), _EPS)
  moving_centre = jnp.einsum('pn,ni->pi', w, moving, precision=_HIGHEST)
  fixed_centre = jnp.einsum('pn,ni->pi', w, fixed, precision=_HIGHEST)
  # Covariance of the centred sets, [P, 3, 3], as sum w m f^T - c_m c_f^T
  # (the weights sum to 1): one matrix product over the points, not a
  # [P, n, 3] array of centred points per set.
  cov = (jnp.einsum('pn,ni,nj->pij', w, moving, fixed, precision=_HIGHEST) -
         moving_centre[:, :, None] * fixed_centre[:, None, :])
  u, _, vt = jnp.linalg.svd(cov)
  # A reflection is turned into the nearest rotation.
  sign = jnp.sign(jnp.linalg.det(u) * jnp.linalg.det(vt))
  u = u.at[:, :, 2].multiply(sign[:, None])
  rotation = jnp.einsum('pik,pkj->pij', u, vt, precision=_HIGHEST)
  shift = fixed_centre - jnp.einsum('pi,pij->pj', moving_centre, rotation,
                                    precision=_HIGHEST)
  moved = jnp.einsum('ni,pij->pnj', moving, rotation,
                     precision=_HIGHEST) + shift[:, None, :]
  sq = jnp.sum(jnp.square(moved - fixed[None]), axis=-1)
  return jnp.sqrt(jnp.sum(score_weights * sq, axis=-1) /
                  jnp.maximum(jnp.sum(score_weights, axis=-1), _EPS))


def dockq_from_distances(pred_positions: jax.Array, true_positions: jax.Array,
                         backbone_weight: jax.Array,
                         pred_distances: jax.Array,
                         true_distances: jax.Array,
                         resolved: jax.Array, chain_1: jax.Array,
                         chain_2: jax.Array) -> Dict[str, jax.Array]:
  """DockQ of interfaces of one structure, given its residue distances.

  Args:
    pred_positions, true_positions: [N_res, 37, 3].
    backbone_weight: [N_res, 37] 1 at the backbone atoms both structures
      have.
    pred_distances, true_distances: [N_res, N_res] from residue_distances.
    resolved: [N_res] 1 for the residues resolved in the truth.
    chain_1, chain_2: [N_res] 1 on the residues of each side, or [P, N_res]
      for P interfaces scored together.

  Returns:
    dockq, fnat, irmsd, lrmsd and num_native_contacts: () each, or [P] for
    [P, N_res] sides; DockQ is 0 where the sides have no native contact.
  """
  single = jnp.ndim(chain_1) == 1
  dtype = true_positions.dtype
  resolved = resolved > 0
  side_1 = ((jnp.atleast_2d(chain_1) > 0) & resolved).astype(dtype)
  side_2 = ((jnp.atleast_2d(chain_2) > 0) & resolved).astype(dtype)

  def count_between(contacts):
    # [P]: pairs (i on side 1, j on side 2) in contact, as matrix products
    # (exact: integer counts), not a [P, N_res, N_res] mask.
    return jnp.sum(jnp.einsum('pi,ij->pj', side_1, contacts.astype(dtype),
                              precision=_HIGHEST) * side_2, axis=-1)

  native = true_distances < CONTACT_CUTOFF ** 2
  num_native = count_between(native)
  fnat = count_between(native & (pred_distances < CONTACT_CUTOFF ** 2)
                       ) / jnp.maximum(num_native, 1.)

  near = (true_distances < INTERFACE_CUTOFF ** 2).astype(dtype)
  # A residue of one side within 10 Å of a residue of the other.
  near_to = lambda side: jnp.einsum('pj,ij->pi', side, near,
                                    precision=_HIGHEST) > 0
  interface = ((side_1 > 0) & near_to(side_2)) | ((side_2 > 0) &
                                                   near_to(side_1))
  # Only backbone atoms are superposed and scored: the others weigh 0.
  flat = lambda x: x[:, _BACKBONE_INDEX].reshape(-1, 3)
  pred_atoms, true_atoms = flat(pred_positions), flat(true_positions)
  backbone_weight = backbone_weight[:, _BACKBONE_INDEX]

  def weights(residues):
    # [P, N_res * 4]: the backbone atoms of the residues.
    return (residues[:, :, None].astype(dtype) *
            backbone_weight[None]).reshape(residues.shape[0], -1)

  interface_w = weights(interface)
  irmsd = superpose_rmsd(pred_atoms, true_atoms, interface_w, interface_w)
  size_1 = jnp.sum(side_1, axis=-1, keepdims=True)
  size_2 = jnp.sum(side_2, axis=-1, keepdims=True)
  receptor = jnp.where(size_1 > size_2, side_1, side_2)
  ligand = jnp.where(size_1 > size_2, side_2, side_1)
  lrmsd = superpose_rmsd(pred_atoms, true_atoms, weights(receptor),
                         weights(ligand))
  score = (fnat + 1. / (1. + jnp.square(irmsd / IRMSD_SCALE)) +
           1. / (1. + jnp.square(lrmsd / LRMSD_SCALE))) / 3.
  out = {'dockq': jnp.where(num_native > 0, score, 0.), 'fnat': fnat,
         'irmsd': irmsd, 'lrmsd': lrmsd, 'num_native_contacts': num_native}
  return {k: v[0] for k, v in out.items()} if single else out


def _inputs(pred_positions, pred_mask, true_positions, true_mask):
  dtype = jnp.result_type(true_positions.dtype, jnp.float32)
  true_positions = jnp.asarray(true_positions, dtype)
  pred_positions = jnp.asarray(pred_positions, dtype)
  true_mask = jnp.asarray(true_mask, dtype)
  pred_mask = jnp.asarray(pred_mask, dtype)
  resolved = jnp.any(true_mask > 0, axis=-1).astype(dtype)
  # Residues the truth lacks are left out of the prediction too.
  pred_mask = pred_mask * resolved[:, None]
  backbone_weight = true_mask * pred_mask * _backbone_mask(dtype)
  return (pred_positions, true_positions, backbone_weight,
          residue_distances(pred_positions, pred_mask),
          residue_distances(true_positions, true_mask), resolved)


def interface_dockq(pred_positions: jax.Array, pred_mask: jax.Array,
                    true_positions: jax.Array, true_mask: jax.Array,
                    chain_1: jax.Array, chain_2: jax.Array
                    ) -> Dict[str, jax.Array]:
  """DockQ of the interface between chain_1 and chain_2 (see the module).

  Args:
    pred_positions: [N_res, 37, 3] predicted atoms.
    pred_mask: [N_res, 37] 1 for the atoms the prediction has (its residue
      types' atoms, `atom37_atom_exists`).
    true_positions: [N_res, 37, 3] experimental atoms.
    true_mask: [N_res, 37] 1 for the resolved atoms.
    chain_1, chain_2: [N_res] 1 on each side's residues.

  Returns:
    As dockq_from_distances.
  """
  return dockq_from_distances(
      *_inputs(pred_positions, pred_mask, true_positions, true_mask),
      chain_1, chain_2)


def complex_dockq(pred_positions: jax.Array, pred_mask: jax.Array,
                  true_positions: jax.Array, true_mask: jax.Array,
                  asym_id: jax.Array, max_chains: int
                  ) -> Dict[str, jax.Array]:
  """Mean DockQ over the native interfaces of a complex (or crop).

  Args:
    pred_positions, pred_mask, true_positions, true_mask: as
      interface_dockq.
    asym_id: [N_res] chain of each residue; 0 marks padding.
    max_chains: static bound on the chains scored: the first max_chains
      chains by asym_id (a crop with more leaves the rest out).

  Returns:
    dockq: () mean over the chain pairs with a native contact (0 when there
      are none); num_interfaces: () how many such pairs; pairs: every chain
      pair's dockq_from_distances scores, [P] each, P = max_chains *
      (max_chains - 1) / 2; pair_chains: [P, 2] their asym_ids (inf for an
      unused slot).
  """
  inputs = _inputs(pred_positions, pred_mask, true_positions, true_mask)
  chains = jnp.unique(asym_id, size=max_chains + 1, fill_value=0)
  # The chains after padding's 0, in ascending order; unused slots are 0.
  chains = jnp.sort(jnp.where(chains > 0, chains, jnp.inf))[:max_chains]
  pairs = [(a, b) for a in range(max_chains) for b in range(a + 1,
                                                             max_chains)]
  if not pairs:
    raise ValueError(f'max_chains must be at least 2, got {max_chains}')
  first = jnp.asarray([a for a, _ in pairs])
  second = jnp.asarray([b for _, b in pairs])

  slots = asym_id[None, :] == chains[:, None]  # [max_chains, N_res]
  scores = dockq_from_distances(*inputs, slots[first], slots[second])
  valid = (scores['num_native_contacts'] > 0).astype(inputs[1].dtype)
  count = jnp.sum(valid)
  return {'dockq': jnp.sum(scores['dockq'] * valid) / jnp.maximum(count, 1.),
          'num_interfaces': count, 'pairs': scores,
          'pair_chains': jnp.stack([chains[first], chains[second]], axis=-1)}
