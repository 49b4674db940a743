"""AlphaFold-Multimer's chain centre-of-mass loss (Evans et al. 2021, 2.5).

Early in training whole chains are predicted on top of each other; FAPE,
clamped, barely pushes them apart. This loss penalises every pair of chains
whose predicted Cα centres are closer than their true distance minus
`clamp_distance` Å, quadratically, and is zero otherwise: it only pushes
chains apart, never pulls them together.
"""
from __future__ import annotations

import jax
import jax.numpy as jnp

from alphafold_jax.common import residue_constants


def residue_chain_centres(positions: jax.Array, mask: jax.Array,
                          asym_id: jax.Array):
  """The masked mean of `positions` [N_res, 3] over each residue's chain.

  Computed residue by residue ([N_res, N_res] same-chain matrix) so that
  the number of chains need not be static. Returns the centres
  [N_res, 3], and [N_res, N_res] weights that give every pair of residues
  1 / (n_a n_b) for their chains' masked counts n_a, n_b (0 where masked):
  summed over a chain pair, 1.
  """
  same = (asym_id[:, None] == asym_id[None, :]).astype(positions.dtype)
  count = same @ mask
  centres = (same * mask[None, :]) @ positions / jnp.maximum(count, 1.)[:, None]
  per_residue = mask / jnp.maximum(count, 1.)
  return centres, per_residue[:, None] * per_residue[None, :]


def chain_centre_mass_loss(pred_atom37: jax.Array, batch, config
                           ) -> jax.Array:
  """Mean over ordered pairs of distinct chains of
  (min(0, |c_a - c_b|_pred - |c_a - c_b|_true + clamp) / scale)^2.

  Args:
    pred_atom37: [N_res, 37, 3] predicted atoms (Å).
    batch: 'all_atom_positions' [N_res, 37, 3], 'all_atom_mask' [N_res, 37]
      (the truth; only resolved Cα count), 'asym_id' [N_res].
    config: 'clamp_distance' (4 Å) and 'length_scale' (20 Å).

  Returns:
    () the loss; 0 for a single chain.
  """
  dtype = pred_atom37.dtype
  ca = residue_constants.atom_order['CA']
  mask = jnp.asarray(batch['all_atom_mask'], dtype)[:, ca]
  asym_id = jnp.asarray(batch['asym_id'])
  pred, weight = residue_chain_centres(pred_atom37[:, ca], mask, asym_id)
  true, _ = residue_chain_centres(
      jnp.asarray(batch['all_atom_positions'], dtype)[:, ca], mask, asym_id)

  def dists(c):
    return jnp.sqrt(1e-10 + jnp.sum(jnp.square(c[:, None] - c[None, :]),
                                    axis=-1))

  error = jnp.minimum(0., dists(pred) - dists(true) + config.clamp_distance)
  losses = jnp.square(error / config.length_scale)
  # Each pair of distinct chains weighs 1 in all.
  weight = weight * (asym_id[:, None] != asym_id[None, :]).astype(dtype)
  return jnp.sum(losses * weight) / (1e-6 + jnp.sum(weight))
