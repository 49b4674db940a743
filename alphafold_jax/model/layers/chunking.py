"""Evaluating a function over chunks of a leading axis to bound memory.

`global_config.subbatch_size` sets the chunk size at inference: the result
is the same as one call over the whole axis, computed a chunk at a time with
`hk.scan` so that only one chunk's intermediates live at once.
"""
from typing import Callable, Optional, Sequence

import haiku as hk
import jax
import jax.numpy as jnp


def chunked_apply(fn: Callable, chunk_size: Optional[int],
                  batched_args: Sequence[jax.Array],
                  nonbatched_args: Sequence = ()):
  """fn(*batched_args, *nonbatched_args), chunked along axis 0 of the first."""
  n = batched_args[0].shape[0]
  if not chunk_size or n <= chunk_size or hk.running_init():
    return fn(*batched_args, *nonbatched_args)
  num_chunks = -(-n // chunk_size)
  pad = num_chunks * chunk_size - n

  def split(x):
    x = jnp.pad(x, [(0, pad)] + [(0, 0)] * (x.ndim - 1))
    return x.reshape((num_chunks, chunk_size) + x.shape[1:])

  def body(carry, chunk):
    return carry, fn(*chunk, *nonbatched_args)

  _, out = hk.scan(body, None, [split(x) for x in batched_args])
  return jax.tree_util.tree_map(
      lambda y: y.reshape((num_chunks * chunk_size,) + y.shape[2:])[:n], out)


def inference_chunk(global_config, is_training: bool) -> Optional[int]:
  """The chunk size to use: `subbatch_size` at inference, none in training."""
  return None if is_training else global_config.subbatch_size
