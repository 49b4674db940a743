"""Experimentally-resolved loss (Suppl. section 1.9.10)."""
from __future__ import annotations

import jax.numpy as jnp

from alphafold_jax.losses import utils


def experimentally_resolved_loss(value, batch, config) -> dict:
  """Binary cross entropy of 'atom is resolved' for every existing atom.

  Args:
    value: the head's output: 'logits' [N_res, 37].
    batch: 'all_atom_mask' [N_res, 37] (resolved atoms; OXT may be resolved
      though not in atom37_atom_exists), 'atom37_atom_exists' [N_res, 37],
      'resolution' ().
    config: the head config (filter_by_resolution, min/max_resolution).

  Returns:
    'loss' (), zero outside the resolution range.
  """
  logits = value['logits']
  if logits.ndim != 2:
    raise ValueError(f'logits must be [N_res, 37], got {logits.shape}')
  dtype = logits.dtype
  atom_exists = jnp.asarray(batch['atom37_atom_exists'], dtype)
  all_atom_mask = jnp.asarray(batch['all_atom_mask'], dtype)
  xent = utils.sigmoid_cross_entropy(logits=logits, labels=all_atom_mask)
  loss = jnp.sum(xent * atom_exists) / (1e-8 + jnp.sum(atom_exists))
  return {'loss': loss * utils.resolution_filter(batch, config, dtype)}
