"""Outer product mean: MSA -> pair communication (Suppl. Alg. 10)."""
import haiku as hk
import jax
import jax.numpy as jnp

from alphafold_jax.model.layers.chunking import chunked_apply
from alphafold_jax.model.layers.chunking import inference_chunk
from alphafold_jax.model.layers.chunking import PAIR_ROW_CHUNKS
from alphafold_jax.model.layers.chunking import scratch
from alphafold_jax.model.layers import sharding
from alphafold_jax.model.layers.linear import LayerNorm
from alphafold_jax.model.layers.linear import Linear
from alphafold_jax.model.layers.linear import param_dtype


class OuterProductMean(hk.Module):
  """msa_act [N_seq, N_res, c_m], msa_mask [N_seq, N_res] -> [N_res, N_res, c_z]."""

  def __init__(self, config, global_config, num_output_channel: int,
               name='outer_product_mean'):
    super().__init__(name=name)
    self.config = config
    self.global_config = global_config
    self.num_output_channel = num_output_channel

  def __call__(self, act, mask, is_training=False):
    assert act.ndim == 3 and mask.ndim == 2
    c = self.config
    mask = mask[..., None]
    act = LayerNorm(name='layer_norm_input')(act)
    left = mask * Linear(c.num_outer_channel, name='left_projection')(act)
    right = mask * Linear(c.num_outer_channel, name='right_projection')(act)
    init = (hk.initializers.Constant(0.) if self.global_config.zero_init
            else hk.initializers.VarianceScaling(2., 'fan_in', 'truncated_normal'))
    pdtype = param_dtype(act)
    output_w = hk.get_parameter(
        'output_w', (c.num_outer_channel, c.num_outer_channel,
                     self.num_output_channel), pdtype, init).astype(act.dtype)
    output_b = hk.get_parameter('output_b', (self.num_output_channel,), pdtype,
                                hk.initializers.Constant(0.)).astype(act.dtype)

    def project(left_rows, right):
      # out[i, j] = sum_s,c,e left[s, i, c] right[s, j, e] W[c, e, :]: the
      # summed outer products, projected, one block of rows i at a time.
      outer = jnp.einsum('ics,jes->ijce', left_rows, right)
      return jnp.einsum('ijce,cef->ijf', outer, output_w) + output_b

    gc = self.global_config
    chunk = inference_chunk(gc, is_training)
    # Both sides with the sequences last ([N_res, c, N_seq]), the layout of
    # a matrix product over them, transposed once here rather than in every
    # chunk. Residue sharding: rows i split like the MSA's residues; every
    # device needs the right side's every row j.
    left = sharding.shard(jnp.transpose(left, (1, 2, 0)), 0, gc)
    right = jnp.transpose(right, (1, 2, 0))
    if sharding.num_shards(gc) > 1 and chunk:
      out = _by_gathered_rows(project, left, right, chunk, gc)
    else:
      out = chunked_apply(project, chunk, [left],
                          [sharding.replicate(right, gc)], shard_config=gc)
    # Mean over the sequences present at both positions.
    norm = sharding.shard(jnp.einsum('sia,sja->ija', mask, mask), 0, gc)
    return out / (1e-3 + norm)


def _by_gathered_rows(project, left, right, chunk, global_config):
  """project(left rows, right rows) for all pairs of rows, with the residues
  split over the devices: the right side is gathered an eighth of its rows
  (PAIR_ROW_CHUNKS) at a time, not whole, and each block is written into the
  result's columns.

  left and right [N, c, N_seq], left split along N -> [N, N, c_z].
  """
  n = right.shape[0]
  size = -(-n // PAIR_ROW_CHUNKS)
  # A last block that does not fit ends at row n, overlapping the one
  # before (whose rows it computes alike).
  starts = sorted({min(b * size, n - size) for b in range(-(-n // size))})
  out = None
  for start in starts:
    rows = sharding.replicate(right[start:start + size], global_config)
    block = chunked_apply(project, chunk, [left], [rows],
                          shard_config=global_config)
    if out is None:
      out = sharding.shard(
          scratch((n, n) + block.shape[2:], block.dtype, block), 0,
          global_config)
    out = sharding.shard(
        jax.lax.dynamic_update_slice_in_dim(out, block, start, 1), 0,
        global_config)
  return out
