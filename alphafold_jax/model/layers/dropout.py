"""Dropout, optionally shared along rows or columns (Suppl. 1.11.6)."""
from typing import Optional

import haiku as hk
import jax


def dropout(x, rate: float, is_training: bool, broadcast_dim: Optional[int] = None):
  """Inverted dropout of `x`; the mask is shared along `broadcast_dim`.

  Draws from `hk.next_rng_key()`, that is from the key given to `apply`.
  """
  if not is_training or rate == 0.:
    return x
  shape = list(x.shape)
  if broadcast_dim is not None:
    shape[broadcast_dim] = 1
  keep_rate = 1. - rate
  keep = jax.random.bernoulli(hk.next_rng_key(), keep_rate, shape)
  return x * keep.astype(x.dtype) / keep_rate


def residual_dropout(module_config, global_config, residual, is_training: bool):
  """Dropout of a block's residual update as the Evoformer applies it.

  Row-wise modules (`orientation == 'per_row'`) share the mask across the
  first axis, column-wise ones across the second (Alg. 6, 'DropoutRowwise' /
  'DropoutColumnwise').
  """
  rate = 0. if global_config.deterministic else module_config.dropout_rate
  broadcast_dim = None
  if module_config.shared_dropout:
    broadcast_dim = 0 if module_config.orientation == 'per_row' else 1
  return dropout(residual, rate, is_training, broadcast_dim)


def add_update(module, act, mask, global_config, is_training, **kwargs):
  """act + dropout(module(act, mask)): one residual sub-block of the Evoformer
  (Alg. 6) or of the template pair stack (Alg. 16)."""
  update = module(act, mask, is_training=is_training, **kwargs)
  return act + residual_dropout(module.config, global_config, update, is_training)
