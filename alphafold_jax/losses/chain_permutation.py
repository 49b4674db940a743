"""Multi-chain permutation alignment (Evans et al. 2021, section 7.3).

The copies of a homomeric entity are interchangeable: which truth chain a
predicted copy is scored against is a choice, and scoring against a fixed
order would punish a correct prediction with its copies swapped. Before the
losses, the truth's chains are permuted to match the prediction:

1. Anchor: a truth chain of the least ambiguous entity (fewest copies, then
   the longest chain), and, in turn, each predicted copy of that entity.
2. For each candidate, the truth is superposed on the prediction by the
   anchor pair's Cα (Kabsch), and every predicted chain is greedily given
   the nearest unused truth chain of its entity, by Cα centre distance.
3. The candidate whose assignment has the smallest root mean square centre
   distance wins; the truth's per-residue features are gathered in its
   order. The renaming of symmetric side-chain atoms
   (losses/renaming.py) then runs on the permuted truth, in the loss.

The search is a few small numpy operations per complex and runs on the host
(jax.pure_callback); only its result, a residue permutation, enters the
graph. Copies of an entity must have the same number of residues in the
batch (as in an uncropped complex, or one cropped alike); an entity whose
copies differ in length is left in its order.
"""
from __future__ import annotations

from typing import Dict, List

import jax
import jax.numpy as jnp
import numpy as np

from alphafold_jax.common import residue_constants

# The ground-truth features with a leading residue axis: what is permuted.
TRUTH_FEATURES = (
    'all_atom_positions', 'all_atom_mask', 'atom14_gt_positions',
    'atom14_gt_exists', 'atom14_alt_gt_positions', 'atom14_alt_gt_exists',
    'atom14_atom_is_ambiguous', 'rigidgroups_gt_frames',
    'rigidgroups_gt_exists', 'rigidgroups_group_exists',
    'rigidgroups_group_is_ambiguous', 'rigidgroups_alt_gt_frames',
    'backbone_affine_tensor', 'backbone_affine_mask', 'chi_angles',
    'chi_mask', 'pseudo_beta', 'pseudo_beta_mask')


def kabsch(moving: np.ndarray, fixed: np.ndarray, weights: np.ndarray):
  """(rotation [3, 3], translation [3]) that best maps `moving` [n, 3] on
  `fixed` [n, 3] in the weighted least-squares sense (proper rotation)."""
  w = weights / max(weights.sum(), 1e-8)
  mc = (w[:, None] * moving).sum(0)
  fc = (w[:, None] * fixed).sum(0)
  cov = ((moving - mc) * w[:, None]).T @ (fixed - fc)
  u, _, vt = np.linalg.svd(cov)
  d = np.sign(np.linalg.det(u @ vt))
  rot = (u @ np.diag([1., 1., d]) @ vt).T
  return rot, fc - rot @ mc


def _chains(asym_id, entity_id) -> Dict[int, List[int]]:
  """entity -> its chains (asym ids), in order; padding (asym 0) left out."""
  out: Dict[int, List[int]] = {}
  for a in np.unique(asym_id):
    if a == 0:
      continue
    out.setdefault(int(entity_id[asym_id == a][0]), []).append(int(a))
  return out


def find_chain_permutation(pred_ca: np.ndarray, true_ca: np.ndarray,
                           true_ca_mask: np.ndarray, asym_id: np.ndarray,
                           entity_id: np.ndarray) -> np.ndarray:
  """The residue order [N_res] (int32) in which to read the truth.

  Args:
    pred_ca: [N_res, 3] predicted Cα; true_ca: [N_res, 3] true Cα;
    true_ca_mask: [N_res] resolved Cα; asym_id, entity_id: [N_res].

  Returns:
    index such that truth[index] is the truth matched to the prediction:
    residue i of predicted chain p reads residue i of its truth chain.
  """
  pred_ca = np.asarray(pred_ca, np.float64)
  true_ca = np.asarray(true_ca, np.float64)
  mask = np.asarray(true_ca_mask, np.float64)
  asym_id = np.asarray(asym_id).astype(np.int64)
  entity_id = np.asarray(entity_id).astype(np.int64)
  identity = np.arange(asym_id.shape[0], dtype=np.int32)
  residues = {a: np.flatnonzero(asym_id == a) for a in np.unique(asym_id)}
  entities = {
      e: chains for e, chains in _chains(asym_id, entity_id).items()
      if len({residues[a].size for a in chains}) == 1}  # equal lengths only
  if not entities or all(len(c) == 1 for c in entities.values()):
    return identity

  def centre(points, a):
    m = mask[residues[a]]
    return (points[residues[a]] * m[:, None]).sum(0) / max(m.sum(), 1e-8)

  # The anchor: fewest copies, then longest chain, then most resolved Cα.
  anchor_entity = min(entities, key=lambda e: (
      len(entities[e]), -residues[entities[e][0]].size))
  anchor_true = max(entities[anchor_entity],
                    key=lambda a: mask[residues[a]].sum())
  true_res = residues[anchor_true]
  if mask[true_res].sum() < 3:
    return identity
  best_cost, best = np.inf, None
  for anchor_pred in entities[anchor_entity]:
    rot, trans = kabsch(true_ca[true_res], pred_ca[residues[anchor_pred]],
                        mask[true_res])
    moved = true_ca @ rot.T + trans
    assignment, sq = {}, []
    for chains in entities.values():
      unused = list(chains)
      for p in chains:
        pc = centre(pred_ca, p) if mask[residues[p]].sum() else None
        dists = [np.linalg.norm(centre(moved, t) - pc) if pc is not None
                 and mask[residues[t]].sum() else np.inf for t in unused]
        pick = unused[int(np.argmin(dists))]
        assignment[p] = pick
        unused.remove(pick)
        if np.isfinite(min(dists)):
          sq.append(min(dists)**2)
    cost = np.sqrt(np.mean(sq)) if sq else 0.
    if cost < best_cost:
      best_cost, best = cost, assignment
  index = identity.copy()
  for p, t in best.items():
    index[residues[p]] = residues[t]
  return index


def align_truth_to_prediction(pred_atom37: jax.Array, batch) -> dict:
  """The batch with its truth features (TRUTH_FEATURES) permuted chain by
  chain to match the prediction (find_chain_permutation, on the host).

  Args:
    pred_atom37: [N_res, 37, 3] predicted atoms; not differentiated.
    batch: needs 'asym_id', 'entity_id' [N_res] and the truth features.

  Returns:
    A new batch (the input is not modified) and, under
    'chain_permutation', the residue order used [N_res].
  """
  ca = residue_constants.atom_order['CA']
  num_res = pred_atom37.shape[0]
  index = jax.pure_callback(
      find_chain_permutation,
      jax.ShapeDtypeStruct((num_res,), jnp.int32),
      jax.lax.stop_gradient(pred_atom37[:, ca]),
      jnp.asarray(batch['all_atom_positions'])[:, ca],
      jnp.asarray(batch['all_atom_mask'])[:, ca],
      jnp.asarray(batch['asym_id']), jnp.asarray(batch['entity_id']),
      vmap_method='sequential')
  aligned = dict(batch)
  for k in TRUTH_FEATURES:
    if k in batch:
      aligned[k] = jnp.take(jnp.asarray(batch[k]), index, axis=0)
  aligned['chain_permutation'] = index
  return aligned
