"""Triangle updates of the pair representation (Suppl. Alg. 11-14)."""
import haiku as hk
import jax
import jax.numpy as jnp

from alphafold_jax.model.layers.attention import Attention
from alphafold_jax.model.layers.chunking import chunked_apply
from alphafold_jax.model.layers.chunking import inference_chunk
from alphafold_jax.model.layers import sharding
from alphafold_jax.model.layers.linear import LayerNorm
from alphafold_jax.model.layers.linear import Linear
from alphafold_jax.model.layers.linear import param_dtype
from alphafold_jax.model.trunk.msa_attention import mask_bias


class TriangleAttention(hk.Module):
  """Suppl. Alg. 13 ('per_row', around the starting node) and 14 ('per_column').

  pair_act [N_res, N_res, c_z], pair_mask [N_res, N_res] -> update, same shape.
  """

  def __init__(self, config, global_config, name='triangle_attention'):
    super().__init__(name=name)
    self.config = config
    self.global_config = global_config

  def __call__(self, pair_act, pair_mask, is_training=False):
    assert pair_act.ndim == 3 and pair_mask.ndim == 2
    gc = self.global_config
    per_column = self.config.orientation == 'per_column'
    if per_column:
      # Under residue sharding the transpose moves the split to the
      # columns; the constraint moves it back to the rows (an all-to-all).
      pair_act = jnp.swapaxes(pair_act, -2, -3)
      pair_mask = jnp.swapaxes(pair_mask, -1, -2)
    pair_act = sharding.shard(pair_act, 0, gc)
    bias = sharding.shard(mask_bias(pair_mask), 0, gc)
    pair_act = LayerNorm(name='query_norm')(pair_act)
    # The bias comes from the normed activations; no separate norm here.
    c_z = pair_act.shape[-1]
    weights = hk.get_parameter(
        'feat_2d_weights', (c_z, self.config.num_head), param_dtype(pair_act),
        hk.initializers.RandomNormal(stddev=1. / c_z**0.5))
    nonbatched_bias = sharding.replicate(jnp.einsum(
        'qkc,ch->hqk', pair_act, weights.astype(pair_act.dtype)), gc,
        computed_along=1)
    attn = Attention(self.config, gc, c_z)
    out = chunked_apply(lambda x, b, nb: attn(x, x, b, nb),
                        inference_chunk(gc, is_training),
                        [pair_act, bias], [nonbatched_bias], in_place=True,
                        shard_config=gc)
    if per_column:
      out = jnp.swapaxes(out, -2, -3)
    return sharding.shard(out, 0, gc)


def _sharded_product(equation, left, right, global_config, is_training):
  """jnp.einsum(equation, left, right) under residue sharding.

  The output rows i are split, so the operand holding i is split along it
  and every device needs the other one whole. That one is gathered a chunk
  of channels at a time (the einsum is independent per channel), so only
  [chunk, N_res, N_res] of it is whole on a device at once rather than
  [N_res, N_res, c] and its transposed copy.
  """
  gc = global_config
  inputs, output = equation.split('->')
  # Channels first: they are the axis the chunks run along.
  specs = ['c' + s.replace('c', '') for s in inputs.split(',')]
  left, right = (sharding.shard(jnp.moveaxis(x, -1, 0), s.index('i'), gc)
                 if 'i' in s else jnp.moveaxis(x, -1, 0)
                 for x, s in zip((left, right), specs))
  equation_c = f'{specs[0]},{specs[1]}->c{output.replace("c", "")}'

  def product(l, r):
    l, r = (sharding.shard(x, s.index('i'), gc) if 'i' in s
            else sharding.replicate(x, gc) for x, s in zip((l, r), specs))
    return sharding.shard(jnp.einsum(equation_c, l, r), 1, gc)

  act = chunked_apply(product, inference_chunk(gc, is_training), [left, right])
  return sharding.shard(jnp.moveaxis(act, 0, -1), 0, gc)


class TriangleMultiplication(hk.Module):
  """Suppl. Alg. 11 (outgoing edges) and 12 (incoming edges).

  The config's `equation` ('ikc,jkc->ijc' outgoing, 'kjc,kic->ijc' incoming)
  contracts the gated left and right projections over the third node.
  pair_act [N_res, N_res, c_z], pair_mask [N_res, N_res] -> update.
  """

  def __init__(self, config, global_config, name='triangle_multiplication'):
    super().__init__(name=name)
    self.config = config
    self.global_config = global_config

  def __call__(self, pair_act, pair_mask, is_training=False):
    assert pair_act.ndim == 3 and pair_mask.ndim == 2
    c = self.config
    gc = self.global_config
    c_z = pair_act.shape[-1]
    mask = pair_mask[..., None]
    act = LayerNorm(name='layer_norm_input')(pair_act)
    input_act = act
    left = mask * Linear(c.num_intermediate_channel, name='left_projection')(act)
    right = mask * Linear(c.num_intermediate_channel, name='right_projection')(act)
    left = left * jax.nn.sigmoid(Linear(c.num_intermediate_channel, 'zeros',
                                        bias_init=1., name='left_gate')(act))
    right = right * jax.nn.sigmoid(Linear(c.num_intermediate_channel, 'zeros',
                                          bias_init=1., name='right_gate')(act))
    if sharding.num_shards(gc) > 1:
      act = _sharded_product(c.equation, left, right, gc, is_training)
    else:
      act = jnp.einsum(c.equation, left, right)
    act = LayerNorm(name='center_layer_norm')(act)
    final_init = 'zeros' if gc.zero_init else 'linear'
    act = Linear(c_z, final_init, name='output_projection')(act)
    gate = jax.nn.sigmoid(Linear(c_z, 'zeros', bias_init=1.,
                                 name='gating_linear')(input_act))
    return act * gate
