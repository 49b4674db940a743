"""Interface scores of a predicted complex for the multimer training metrics:
interface lDDT-Cα and DockQ of the training crop.

Interface lDDT-Cα is lDDT-Cα (Suppl. 1.9.6: thresholds 0.5, 1, 2 and 4 Å,
no stereochemical checks) restricted to inter-chain pairs. The scored pairs
are the residues (i, j) of different chains (asym_id_i != asym_id_j), both
with a resolved true Cα, whose true Cα-Cα distance is under 15 Å; each pair
scores the fraction of the four thresholds that
|d_pred(i, j) - d_true(i, j)| stays under, and the interface lDDT is the
mean over all scored pairs (one average over pairs, not per residue). It
measures the interface alone: the chains' own folds do not enter it. A crop
with no scored pair has none (weight 0).

DockQ is training/dockq.py's mean over the crop's native interfaces.
Both score the prediction against the truth as the losses see it: with
`align_chains`, the truth's copies of a homomeric entity are first matched
to the predicted ones (losses/chain_permutation.py).
"""
from __future__ import annotations

from typing import Mapping

import jax
import jax.numpy as jnp

from alphafold_jax.common import residue_constants
from alphafold_jax.losses.chain_permutation import align_truth_to_prediction
from alphafold_jax.losses.lddt import lddt
from alphafold_jax.training import dockq as dockq_lib

_CA = residue_constants.atom_order['CA']
# Chains of a crop scored by DockQ (see dockq.complex_dockq); the released
# multimer models trained on at most 20 chains (AlphaFold v2.3.0 notes).
MAX_CHAINS = 20


def interface_lddt_ca(predicted_ca: jax.Array, true_ca: jax.Array,
                      ca_mask: jax.Array, asym_id: jax.Array) -> jax.Array:
  """Interface lDDT-Cα (see the module), ().

  Args:
    predicted_ca, true_ca: [N_res, 3].
    ca_mask: [N_res] 1 where the true Cα is resolved.
    asym_id: [N_res] chain of each residue.
  """
  other_chain = asym_id[:, None] != asym_id[None, :]
  return lddt(predicted_ca[None], true_ca[None], ca_mask[None, :, None],
              pair_mask=other_chain[None])[0]


def has_interface(true_ca: jax.Array, ca_mask: jax.Array,
                  asym_id: jax.Array) -> jax.Array:
  """1 where some inter-chain pair is scored by interface lDDT, ()."""
  dist2 = jnp.sum(jnp.square(true_ca[:, None] - true_ca[None]), axis=-1)
  pairs = ((asym_id[:, None] != asym_id[None, :]) &
           (ca_mask[:, None] > 0) & (ca_mask[None, :] > 0) &
           (dist2 < jnp.square(jnp.asarray(15., dist2.dtype))))
  return jnp.any(pairs).astype(true_ca.dtype)


def complex_metrics(outputs: Mapping, example: Mapping,
                    align_chains: bool = True) -> dict:
  """interface_lddt and dockq of the final structure, each with its weight
  (interface_lddt_weight, dockq_weight: 0 where the crop has no interface),
  all () (the example has no recycling axis: multimer mode)."""
  predicted = jax.lax.stop_gradient(
      outputs['structure_module']['final_atom_positions'])
  if align_chains:
    example = align_truth_to_prediction(predicted, example)
  true = jnp.asarray(example['all_atom_positions'], predicted.dtype)
  true_mask = jnp.asarray(example['all_atom_mask'], predicted.dtype)
  seq_mask = jnp.asarray(example['seq_mask'], predicted.dtype)
  true_mask = true_mask * seq_mask[:, None]
  asym_id = jnp.asarray(example['asym_id'])
  ca_mask = true_mask[:, _CA]
  metrics = {
      'interface_lddt': interface_lddt_ca(predicted[:, _CA], true[:, _CA],
                                          ca_mask, asym_id),
      'interface_lddt_weight': has_interface(true[:, _CA], ca_mask, asym_id),
  }
  # The atoms of each predicted residue's type.
  pred_mask = jnp.asarray(outputs['structure_module']['final_atom_mask'],
                          predicted.dtype)
  scores = dockq_lib.complex_dockq(predicted, pred_mask, true, true_mask,
                                   jnp.where(seq_mask > 0, asym_id, 0),
                                   MAX_CHAINS)
  metrics['dockq'] = scores['dockq']
  metrics['dockq_weight'] = (scores['num_interfaces'] > 0).astype(
      predicted.dtype)
  return metrics
