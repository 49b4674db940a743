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
                  nonbatched_args: Sequence = (), in_place: bool = False):
  """fn(*batched_args, *nonbatched_args), chunked along axis 0 of the first.

  in_place: fn returns one array of the first batched argument's shape and
  dtype whose rows depend only on the same rows of the batched arguments.
  The result then takes the first argument's place a chunk at a time (a
  scan carry, which XLA updates in place) rather than filling a buffer of
  its own that the program would allocate up front.
  """
  n = batched_args[0].shape[0]
  if not chunk_size or n <= chunk_size or hk.running_init():
    return fn(*batched_args, *nonbatched_args)
  num_chunks = -(-n // chunk_size)
  if in_place:
    return _in_place(fn, chunk_size, num_chunks, batched_args, nonbatched_args)
  pad = num_chunks * chunk_size - n

  def split(x):
    x = jnp.pad(x, [(0, pad)] + [(0, 0)] * (x.ndim - 1))
    return x.reshape((num_chunks, chunk_size) + x.shape[1:])

  def body(carry, chunk):
    return carry, fn(*chunk, *nonbatched_args)

  _, out = hk.scan(body, None, [split(x) for x in batched_args])
  return jax.tree_util.tree_map(
      lambda y: y.reshape((num_chunks * chunk_size,) + y.shape[2:])[:n], out)


def _in_place(fn, chunk_size, num_chunks, batched_args, nonbatched_args):
  first, rest = batched_args[0], batched_args[1:]
  n = first.shape[0]
  # When the chunks tile the axis, each chunk's rows are read from the carry
  # before they are overwritten. Otherwise the last chunk is moved back to
  # end at row n (overlapping its predecessor, whose rows it recomputes
  # alike) and reads the unchanged input, so XLA keeps a copy of it.
  tiles = n % chunk_size == 0

  def body(out, k):
    start = jnp.minimum(k * chunk_size, n - chunk_size)
    take = lambda x: jax.lax.dynamic_slice_in_dim(x, start, chunk_size)
    update = fn(take(out if tiles else first), *map(take, rest), *nonbatched_args)
    return jax.lax.dynamic_update_slice_in_dim(out, update, start, 0), None

  out, _ = hk.scan(body, first, jnp.arange(num_chunks))
  return out


def inference_chunk(global_config, is_training: bool) -> Optional[int]:
  """The chunk size to use: `subbatch_size` at inference, none in training."""
  return None if is_training else global_config.subbatch_size
