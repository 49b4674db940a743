"""Small numerical pieces shared by the losses.

The epsilons here are the reference implementation's; changing them moves the
losses by more than the 1e-6 parity bound on the golden fixtures.
"""
from __future__ import annotations

import collections.abc
import numbers

import jax
import jax.numpy as jnp


def softmax_cross_entropy(logits: jax.Array, labels: jax.Array) -> jax.Array:
  """Cross entropy of (soft) one-hot `labels` [..., C] against `logits` [..., C]."""
  return -jnp.sum(labels * jax.nn.log_softmax(logits), axis=-1)


def sigmoid_cross_entropy(logits: jax.Array, labels: jax.Array) -> jax.Array:
  """Elementwise binary cross entropy.

  log(1 - sigmoid(x)) is written as log_sigmoid(-x), which stays finite for
  large |x|.
  """
  log_p = jax.nn.log_sigmoid(logits)
  log_not_p = jax.nn.log_sigmoid(-logits)
  return -labels * log_p - (1. - labels) * log_not_p


def mask_mean(mask: jax.Array, value: jax.Array, axis=None,
              eps: float = 1e-10) -> jax.Array:
  """Mean of `value` over the entries where `mask` is set.

  `mask` has the rank of `value`; an axis of size 1 in `mask` broadcasts and
  counts every entry of `value` along it.
  """
  if len(mask.shape) != len(value.shape):
    raise ValueError(f'mask rank {mask.shape} != value rank {value.shape}')
  if isinstance(axis, numbers.Integral):
    axis = [axis]
  elif axis is None:
    axis = list(range(len(mask.shape)))
  if not isinstance(axis, collections.abc.Iterable):
    raise ValueError('axis must be an int, an iterable or None')
  broadcast_factor = 1.
  for a in axis:
    if mask.shape[a] == 1:
      broadcast_factor *= value.shape[a]
    elif mask.shape[a] != value.shape[a]:
      raise ValueError(f'mask {mask.shape} does not match value {value.shape}')
  axis = tuple(axis)
  return (jnp.sum(mask * value, axis=axis) /
          (jnp.sum(mask, axis=axis) * broadcast_factor + eps))


def resolution_filter(batch, config, dtype) -> jax.Array:
  """1 if the example's resolution lies in the config's range, else 0.

  NMR and distillation examples carry resolution 0 and so are filtered out
  of the confidence-head losses (Suppl. section 1.9.6 / 1.9.10).
  """
  if not config.filter_by_resolution:
    return jnp.ones((), dtype)
  resolution = jnp.asarray(batch['resolution'])
  keep = ((resolution >= config.min_resolution) &
          (resolution <= config.max_resolution))
  return keep.astype(dtype)

