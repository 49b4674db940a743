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

Residues are identified within their chain by `residue_index` (the position
in the full chain sequence, which survives cropping), so the copies of an
entity may be cropped differently (data/multimer/cropping.py: contiguous
crops and spatial crops cut each copy its own way). A predicted residue of
copy p, given truth copy t, reads t's residue with the same residue_index;
one whose residue_index is not in t's crop has no truth: it keeps its own
slot's features with every truth mask (TRUTH_MASKS) set to 0. Comparisons
between a predicted and a truth copy (the anchor superposition, the centre
distances) use only the residues the two crops share. For copies cropped
alike this is the positional matching: residue i reads residue i.

The search is a few small numpy operations per complex and runs on the host
(jax.pure_callback); only its result, a residue gather index (-1 where a
residue has no truth), enters the graph.
"""
from __future__ import annotations

from typing import Dict, List, Optional

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
# The masks among them: 0 for a residue the matched truth copy lacks.
# rigidgroups_group_exists is chemistry (the residue type's groups) rather
# than observation, but no loss should weigh a residue without truth, so it
# is cleared as well; the ambiguity flags are left as they are.
TRUTH_MASKS = (
    'all_atom_mask', 'atom14_gt_exists', 'atom14_alt_gt_exists',
    'rigidgroups_gt_exists', 'rigidgroups_group_exists',
    'backbone_affine_mask', 'chi_mask', 'pseudo_beta_mask')
# Fewest common resolved Cα for a superposition to be determined.
_MIN_SUPERPOSED = 3


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
                           entity_id: np.ndarray,
                           residue_index: Optional[np.ndarray] = None
                           ) -> np.ndarray:
  """The residue order [N_res] (int32) in which to read the truth.

  Args:
    pred_ca: [N_res, 3] predicted Cα; true_ca: [N_res, 3] true Cα;
    true_ca_mask: [N_res] resolved Cα; asym_id, entity_id: [N_res];
    residue_index: [N_res] position of each residue in its full chain;
      None: its position in the batch's chain (copies cropped alike).

  Returns:
    index such that truth[index] is the truth matched to the prediction:
    a residue of predicted chain p reads the residue of its truth chain
    with the same residue_index, or has index -1 where that chain's crop
    lacks it.
  """
  pred_ca = np.asarray(pred_ca, np.float64)
  true_ca = np.asarray(true_ca, np.float64)
  mask = np.asarray(true_ca_mask, np.float64)
  asym_id = np.asarray(asym_id).astype(np.int64)
  entity_id = np.asarray(entity_id).astype(np.int64)
  identity = np.arange(asym_id.shape[0], dtype=np.int32)
  residues = {a: np.flatnonzero(asym_id == a) for a in np.unique(asym_id)}
  if residue_index is None:
    residue_index = np.zeros_like(asym_id)
    for r in residues.values():
      residue_index[r] = np.arange(r.size)
  residue_index = np.asarray(residue_index).astype(np.int64)
  entities = _chains(asym_id, entity_id)
  if all(len(c) == 1 for c in entities.values()):
    return identity

  def common(p, t):
    """(residues of p, residues of t) with the same residue_index, in
    residue_index order: the residues on which p and t can be compared."""
    _, ip, it = np.intersect1d(residue_index[residues[p]],
                               residue_index[residues[t]],
                               return_indices=True)
    return residues[p][ip], residues[t][it]

  pairs = {}  # (p, t) -> common residues, cached over the candidates

  def shared(p, t):
    if (p, t) not in pairs:
      pairs[p, t] = common(p, t)
    return pairs[p, t]

  def centre_distance(moved, p, t):
    # Both centres over the same residues (shared and resolved in t): with
    # copies cropped differently, centres over each whole crop would differ
    # even for a perfect prediction, by the offset between the crops.
    rp, rt = shared(p, t)
    w = mask[rt]
    if w.sum() == 0:
      return np.inf
    w = w / w.sum()
    return np.linalg.norm(w @ pred_ca[rp] - w @ moved[rt])

  # The anchor: fewest copies, then longest chain, then most resolved Cα.
  anchor_entity = min(entities, key=lambda e: (
      len(entities[e]), -max(residues[a].size for a in entities[e])))
  anchor_true = max(entities[anchor_entity],
                    key=lambda a: mask[residues[a]].sum())
  best_cost, best = np.inf, None
  for anchor_pred in entities[anchor_entity]:
    # Superposed on the residues the anchor pair shares: only they have a
    # counterpart in the prediction.
    rp, rt = shared(anchor_pred, anchor_true)
    if mask[rt].sum() < _MIN_SUPERPOSED:
      continue
    rot, trans = kabsch(true_ca[rt], pred_ca[rp], mask[rt])
    moved = true_ca @ rot.T + trans
    assignment, sq = {}, []
    for chains in entities.values():
      unused = list(chains)
      for p in chains:
        dists = [centre_distance(moved, p, t) for t in unused]
        pick = unused[int(np.argmin(dists))]
        assignment[p] = pick
        unused.remove(pick)
        if np.isfinite(min(dists)):
          sq.append(min(dists)**2)
    cost = np.sqrt(np.mean(sq)) if sq else 0.
    if cost < best_cost:
      best_cost, best = cost, assignment
  if best is None:  # no anchor pair shares enough resolved residues
    return identity
  index = identity.copy()
  for p, t in best.items():
    if p == t:
      continue
    index[residues[p]] = -1
    rp, rt = shared(p, t)
    index[rp] = rt
  return index


def align_truth_to_prediction(pred_atom37: jax.Array, batch) -> dict:
  """The batch with its truth features (TRUTH_FEATURES) permuted chain by
  chain to match the prediction (find_chain_permutation, on the host).

  Args:
    pred_atom37: [N_res, 37, 3] predicted atoms; not differentiated.
    batch: needs 'asym_id', 'entity_id', 'residue_index' [N_res] and the
      truth features.

  Returns:
    A new batch (the input is not modified) and, under
    'chain_permutation', the residue order used [N_res] (-1: no truth).
    A residue with no truth keeps its own features, with its TRUTH_MASKS
    set to 0.
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
      jnp.asarray(batch['residue_index']),
      vmap_method='sequential')
  has_truth = index >= 0
  # A residue without truth reads its own slot, so that its chemistry-
  # dependent features (ambiguity flags) stay those of its residue type.
  gather = jnp.where(has_truth, index, jnp.arange(num_res, dtype=jnp.int32))
  aligned = dict(batch)
  for k in TRUTH_FEATURES:
    if k in batch:
      value = jnp.take(jnp.asarray(batch[k]), gather, axis=0)
      if k in TRUTH_MASKS:
        keep = has_truth.reshape((num_res,) + (1,) * (value.ndim - 1))
        value = jnp.where(keep, value, jnp.zeros_like(value))
      aligned[k] = value
  aligned['chain_permutation'] = index
  return aligned
