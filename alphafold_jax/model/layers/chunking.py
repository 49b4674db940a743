"""Evaluating a function over chunks of a leading axis to bound memory.

`global_config.subbatch_size` sets the chunk size at inference: the result
is the same as one call over the whole axis, computed a chunk at a time with
`hk.scan` so that only one chunk's intermediates live at once.

Under residue sharding (layers/sharding.py) the chunked axis is the one
split over the devices: each device then runs its own rows a chunk at a
time (the axis is viewed as [devices, rows per device] and the loop walks
the second, unsplit axis), so a chunk is `chunk_size` rows per device.
"""
from typing import Callable, Optional, Sequence

import haiku as hk
import jax
import jax.numpy as jnp

from alphafold_jax.model.layers import sharding


def chunked_apply(fn: Callable, chunk_size: Optional[int],
                  batched_args: Sequence[jax.Array],
                  nonbatched_args: Sequence = (), in_place: bool = False,
                  shard_config=None):
  """fn(*batched_args, *nonbatched_args), chunked along axis 0 of the first.

  in_place: fn returns one array of the first batched argument's shape and
  dtype whose rows depend only on the same rows of the batched arguments.
  The result then takes the first argument's place a chunk at a time (a
  scan carry, which XLA updates in place) rather than filling a buffer of
  its own that the program would allocate up front.
  shard_config: the global_config when axis 0 of the batched arguments is
  the axis to split over the devices when its `shard_residues` is on (a
  residue axis, or the sequences of the MSA row attention).
  """
  n = batched_args[0].shape[0]
  shards = 1 if shard_config is None else sharding.num_shards(shard_config)
  if shards > 1:
    return _over_shards(fn, chunk_size, shards, shard_config, batched_args,
                        nonbatched_args, in_place)
  if not chunk_size or n <= chunk_size or hk.running_init():
    return fn(*batched_args, *nonbatched_args)
  num_chunks = -(-n // chunk_size)
  if in_place:
    return _in_place(fn, chunk_size, num_chunks, batched_args, nonbatched_args)
  return _into_result(fn, chunk_size, num_chunks, batched_args,
                      nonbatched_args)


def _into_result(fn, chunk_size, num_chunks, batched_args, nonbatched_args):
  """Each chunk written into the result, a scan carry made by `scratch`.

  Not the scan's stacked outputs: XLA starts those from a constant, which
  it moves out of the enclosing loops and keeps alive for their whole
  length. Chunks that do not tile the axis need no padded copy of the
  inputs: the last chunk ends at row n, overlapping its predecessor (whose
  rows it recomputes alike).
  """
  n = batched_args[0].shape[0]
  take = lambda x, start: jax.lax.dynamic_slice_in_dim(x, start, chunk_size)
  shapes = hk.eval_shape(
      lambda: fn(*[take(x, 0) for x in batched_args], *nonbatched_args))
  out = jax.tree_util.tree_map(
      lambda s: scratch((n,) + s.shape[1:], s.dtype, batched_args[0]), shapes)

  def body(out, k):
    start = jnp.minimum(k * chunk_size, n - chunk_size)
    update = fn(*[take(x, start) for x in batched_args], *nonbatched_args)
    return jax.tree_util.tree_map(
        lambda o, u: jax.lax.dynamic_update_slice_in_dim(o, u, start, 0),
        out, update), None

  out, _ = hk.scan(body, out, jnp.arange(num_chunks))
  return out


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


def _over_shards(fn, chunk_size, shards, global_config, batched_args,
                 nonbatched_args, in_place):
  """chunked_apply with axis 0 split over `shards` devices."""
  n = batched_args[0].shape[0]
  rows = -(-n // shards)  # per device; the last device's are padded
  if not chunk_size or rows <= chunk_size or hk.running_init():
    return sharding.shard(
        fn(*[sharding.shard(x, 0, global_config) for x in batched_args],
           *nonbatched_args), 0, global_config)

  def by_device(x):
    """[n, ...] -> [shards, rows, ...], device d holding x[d * rows:]."""
    x = jnp.pad(x, [(0, shards * rows - n)] + [(0, 0)] * (x.ndim - 1))
    return sharding.shard(x.reshape((shards, rows) + x.shape[1:]), 0,
                          global_config)

  def apply(chunk):
    """fn on [shards, size, ...] chunks, as one batch of shards * size rows."""
    size = chunk[0].shape[1]
    flat = [sharding.shard(x.reshape((shards * size,) + x.shape[2:]), 0,
                           global_config) for x in chunk]
    out = fn(*flat, *nonbatched_args)
    return sharding.shard(out.reshape((shards, size) + out.shape[1:]), 0,
                          global_config)

  args = [by_device(x) for x in batched_args]
  # As _in_place: the last chunk overlaps its predecessor when the chunks do
  # not tile the rows, and then reads the unchanged first argument.
  tiles = rows % chunk_size == 0
  take = lambda x, start: jax.lax.dynamic_slice_in_dim(x, start, chunk_size, 1)
  if in_place:
    out = args[0]
  else:
    shape = hk.eval_shape(lambda: apply([take(x, 0) for x in args]))
    out = sharding.shard(
        scratch((shards, rows) + shape.shape[2:], shape.dtype, args[0]), 0,
        global_config)

  def body(out, k):
    start = jnp.minimum(k * chunk_size, rows - chunk_size)
    first = out if in_place and tiles else args[0]
    update = apply([take(x, start) for x in [first] + args[1:]])
    return jax.lax.dynamic_update_slice_in_dim(out, update, start, 1), None

  out, _ = hk.scan(body, out, jnp.arange(-(-rows // chunk_size)))
  out = out.reshape((shards * rows,) + out.shape[2:])[:n]
  return sharding.shard(out, 0, global_config)


def scratch(shape, dtype, like: jax.Array) -> jax.Array:
  """An array to be overwritten whole, of any values.

  Made from an element of `like` rather than as a constant: XLA moves a
  constant out of the loops around it (the layer stack, the recycling) and
  keeps it alive for their whole length, next to the loop's own copy.
  """
  return jnp.broadcast_to(like.reshape(-1)[0].astype(dtype), shape)


# Modules that need pair-sized intermediates only row by row (the triangle
# multiplications, the pair bias of the MSA row attention) take at least
# 1/PAIR_ROW_CHUNKS of the rows at a time at inference, so that their loops
# stay short while their intermediates stay an eighth of the pair's size.
PAIR_ROW_CHUNKS = 8


def pair_row_chunk(chunk_size: Optional[int], num_rows: int) -> Optional[int]:
  """Rows at a time for a row-wise pass over a pair-sized array, or None
  (all at once) when there is no chunking."""
  if not chunk_size:
    return None
  return max(chunk_size, -(-num_rows // PAIR_ROW_CHUNKS))


def inference_chunk(global_config, is_training: bool) -> Optional[int]:
  """The chunk size to use: `subbatch_size` at inference, none in training."""
  return None if is_training else global_config.subbatch_size
