"""Distogram loss (Suppl. section 1.9.8)."""
from __future__ import annotations

import jax
import jax.numpy as jnp

from alphafold_jax.losses import utils


def distogram_loss(value, batch, config) -> dict:
  """Cross entropy of the distogram against the true Cβ distance bins.

  Args:
    value: the distogram head's output: 'logits' [N_res, N_res, num_bins] and
      'bin_edges' [num_bins - 1] (Å).
    batch: 'pseudo_beta' [N_res, 3] (Cβ, Cα for glycine) and
      'pseudo_beta_mask' [N_res].
    config: the head config (num_bins).

  Returns:
    'loss' () and 'true_dist' [N_res, N_res] the true Cβ distances (Å).
  """
  logits = value['logits']
  if logits.ndim != 3:
    raise ValueError(f'logits must be [N_res, N_res, bins], got {logits.shape}')
  dtype = logits.dtype
  positions = jnp.asarray(batch['pseudo_beta'], dtype)
  mask = jnp.asarray(batch['pseudo_beta_mask'], dtype)

  sq_breaks = jnp.square(jnp.asarray(value['bin_edges'], dtype))
  dist2 = jnp.sum(jnp.square(positions[:, None, :] - positions[None, :, :]),
                  axis=-1, keepdims=True)
  true_bins = jnp.sum(dist2 > sq_breaks, axis=-1)
  errors = utils.softmax_cross_entropy(
      logits=logits,
      labels=jax.nn.one_hot(true_bins, config.num_bins, dtype=dtype))

  square_mask = mask[None, :] * mask[:, None]
  avg_error = (jnp.sum(errors * square_mask, axis=(-2, -1)) /
               (1e-6 + jnp.sum(square_mask, axis=(-2, -1))))
  return {'loss': avg_error, 'true_dist': jnp.sqrt(1e-6 + dist2[..., 0])}
