"""pLDDT loss (Suppl. section 1.9.6, Alg. 29)."""
from __future__ import annotations

import jax
import jax.numpy as jnp

from alphafold_jax.common import residue_constants
from alphafold_jax.losses import utils
from alphafold_jax.losses.lddt import lddt


def predicted_lddt_loss(value, batch, config) -> dict:
  """Cross entropy of the pLDDT logits against the binned lDDT-Cα.

  The target is the per-residue lDDT-Cα (15 Å inclusion radius) of the final
  predicted structure against the ground truth, cut into num_bins equal bins
  of [0, 1].

  Args:
    value: the model's whole output dict: uses
      value['structure_module']['final_atom_positions'] [N_res, 37, 3] and
      value['predicted_lddt']['logits'] [N_res, num_bins].
    batch: 'all_atom_positions' [N_res, 37, 3], 'all_atom_mask' [N_res, 37],
      'resolution' ().
    config: the head config (num_bins, filter_by_resolution, ...).

  Returns:
    'loss' (), zero outside the resolution range.
  """
  logits = value['predicted_lddt']['logits']
  dtype = logits.dtype
  ca = residue_constants.atom_order['CA']
  pred_positions = jnp.asarray(
      value['structure_module']['final_atom_positions'], dtype)
  true_positions = jnp.asarray(batch['all_atom_positions'], dtype)
  all_atom_mask = jnp.asarray(batch['all_atom_mask'], dtype)

  lddt_ca = lddt(
      predicted_points=pred_positions[None, :, ca, :],
      true_points=true_positions[None, :, ca, :],
      true_points_mask=all_atom_mask[None, :, ca:ca + 1],
      cutoff=15.,
      per_residue=True)
  # The head learns to predict the structure's quality, not to change it.
  lddt_ca = jax.lax.stop_gradient(lddt_ca)

  num_bins = config.num_bins
  # lDDT of exactly 1 falls into the last bin.
  bin_index = jnp.minimum(jnp.floor(lddt_ca * num_bins).astype(jnp.int32),
                          num_bins - 1)
  errors = utils.softmax_cross_entropy(
      logits=logits,
      labels=jax.nn.one_hot(bin_index, num_bins, dtype=dtype))
  mask_ca = all_atom_mask[:, ca]
  loss = jnp.sum(errors * mask_ca) / (jnp.sum(mask_ca) + 1e-8)
  return {'loss': loss * utils.resolution_filter(batch, config, dtype)}
