"""Attention over the MSA representation (Suppl. Alg. 7, 8 and 19)."""
from typing import Optional

import haiku as hk
import jax.numpy as jnp
import numpy as np

from alphafold_jax.model.layers.attention import Attention
from alphafold_jax.model.layers.attention import GlobalAttention
from alphafold_jax.model.layers.chunking import chunked_apply
from alphafold_jax.model.layers.chunking import inference_chunk
from alphafold_jax.model.layers.chunking import pair_row_chunk
from alphafold_jax.model.layers import sharding
from alphafold_jax.model.layers.linear import LayerNorm
from alphafold_jax.model.layers.linear import param_dtype


def mask_bias(mask):
  """[B, K] mask -> [B, 1, 1, K] additive attention bias (0 or -1e9)."""
  return (1e9 * (mask - 1.))[:, None, None, :].astype(mask.dtype)


def pair_bias(pair_act, num_head: int, name_prefix: str = 'feat_2d',
              chunk_size: Optional[int] = None, global_config=None):
  """Per-head bias [H, N, N] projected from the layer-normed pair representation.

  chunk_size, global_config: see `projected_bias`.
  """
  c_z = pair_act.shape[-1]
  weights = hk.get_parameter(
      f'{name_prefix}_weights', (c_z, num_head), param_dtype(pair_act),
      hk.initializers.RandomNormal(stddev=1. / np.sqrt(c_z)))
  return projected_bias(pair_act, LayerNorm(name=f'{name_prefix}_norm'),
                        weights, chunk_size, global_config)


def projected_bias(pair_act, norm, weights, chunk_size: Optional[int],
                   global_config=None):
  """einsum('qkc,ch->hqk', norm(pair_act), weights): [H, N, N].

  With a chunk_size (inference) the rows are normed and projected a few at a
  time (layers/chunking.py: pair_row_chunk), so the normed pair is never
  whole. global_config: when its residue sharding is on, the rows are split
  over the devices (each projects its own) and the bias is then gathered
  whole on every device.
  """
  weights = weights.astype(pair_act.dtype)
  rows = chunked_apply(
      lambda x: jnp.einsum('qkc,ch->qhk', norm(x), weights),
      pair_row_chunk(chunk_size, pair_act.shape[0]), [pair_act],
      shard_config=global_config)
  bias = jnp.swapaxes(rows, 0, 1)
  if global_config is None:
    return bias
  return sharding.replicate(bias, global_config, computed_along=1)


class MSARowAttentionWithPairBias(hk.Module):
  """Suppl. Alg. 7: row-wise gated self-attention biased by the pair rep.

  msa_act [N_seq, N_res, c_m], msa_mask [N_seq, N_res],
  pair_act [N_res, N_res, c_z] -> update [N_seq, N_res, c_m].
  """

  def __init__(self, config, global_config,
               name='msa_row_attention_with_pair_bias'):
    super().__init__(name=name)
    self.config = config
    self.global_config = global_config

  def __call__(self, msa_act, msa_mask, pair_act, is_training=False):
    assert msa_act.ndim == 3 and msa_mask.ndim == 2 and pair_act.ndim == 3
    gc = self.global_config
    # Residue sharding: a row needs all its residues, so the rows
    # (sequences) are split instead, and every device takes the whole bias.
    bias = sharding.shard(mask_bias(msa_mask), 0, gc)
    msa_act = sharding.shard(LayerNorm(name='query_norm')(msa_act), 0, gc)
    nonbatched_bias = pair_bias(pair_act, self.config.num_head,
                                chunk_size=inference_chunk(gc, is_training),
                                global_config=gc)
    attn = Attention(self.config, gc, msa_act.shape[-1])
    return chunked_apply(lambda x, b, nb: attn(x, x, b, nb),
                         inference_chunk(gc, is_training),
                         [msa_act, bias], [nonbatched_bias], in_place=True,
                         shard_config=gc)


class MSAColumnAttention(hk.Module):
  """Suppl. Alg. 8: column-wise gated self-attention.

  msa_act [N_seq, N_res, c_m], msa_mask [N_seq, N_res] -> [N_seq, N_res, c_m].
  """

  def __init__(self, config, global_config, name='msa_column_attention'):
    super().__init__(name=name)
    self.config = config
    self.global_config = global_config

  def __call__(self, msa_act, msa_mask, is_training=False):
    assert msa_act.ndim == 3 and msa_mask.ndim == 2
    gc = self.global_config
    msa_act = sharding.shard(jnp.swapaxes(msa_act, -2, -3), 0, gc)
    msa_mask = jnp.swapaxes(msa_mask, -1, -2)
    bias = sharding.shard(mask_bias(msa_mask), 0, gc)
    msa_act = LayerNorm(name='query_norm')(msa_act)
    attn = Attention(self.config, gc, msa_act.shape[-1])
    out = chunked_apply(lambda x, b: attn(x, x, b),
                        inference_chunk(gc, is_training),
                        [msa_act, bias], in_place=True, shard_config=gc)
    return jnp.swapaxes(out, -2, -3)


class MSAColumnGlobalAttention(hk.Module):
  """Suppl. Alg. 19: column-wise global attention of the extra-MSA stack.

  msa_act [N_extra, N_res, c_e], msa_mask [N_extra, N_res] -> same shape.
  """

  def __init__(self, config, global_config,
               name='msa_column_global_attention'):
    super().__init__(name=name)
    self.config = config
    self.global_config = global_config

  def __call__(self, msa_act, msa_mask, is_training=False):
    assert msa_act.ndim == 3 and msa_mask.ndim == 2
    gc = self.global_config
    msa_act = sharding.shard(jnp.swapaxes(msa_act, -2, -3), 0, gc)
    msa_mask = sharding.shard(jnp.swapaxes(msa_mask, -1, -2)[..., None], 0, gc)
    msa_act = LayerNorm(name='query_norm')(msa_act)
    attn = GlobalAttention(self.config, gc, msa_act.shape[-1])
    out = chunked_apply(lambda x, m: attn(x, x, m),
                        inference_chunk(gc, is_training),
                        [msa_act, msa_mask], in_place=True, shard_config=gc)
    return jnp.swapaxes(out, -2, -3)
