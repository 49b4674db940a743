"""Triangle updates of the pair representation (Suppl. Alg. 11-14)."""
import haiku as hk
import jax
import jax.numpy as jnp

from alphafold_jax.model.layers.attention import Attention
from alphafold_jax.model.layers.chunking import chunked_apply
from alphafold_jax.model.layers.chunking import inference_chunk
from alphafold_jax.model.layers.chunking import PAIR_ROW_CHUNKS
from alphafold_jax.model.layers.chunking import pair_row_chunk
from alphafold_jax.model.layers.chunking import scratch
from alphafold_jax.model.layers import sharding
from alphafold_jax.model.layers.linear import LayerNorm
from alphafold_jax.model.layers.linear import Linear
from alphafold_jax.model.layers.linear import param_dtype
from alphafold_jax.model.trunk.msa_attention import mask_bias
from alphafold_jax.model.trunk.msa_attention import projected_bias


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
    c_z = pair_act.shape[-1]
    norm = LayerNorm(name='query_norm')
    # The bias comes from the normed activations; no separate norm here.
    weights = hk.get_parameter(
        'feat_2d_weights', (c_z, self.config.num_head), param_dtype(pair_act),
        hk.initializers.RandomNormal(stddev=1. / c_z**0.5))
    attn = Attention(self.config, gc, c_z)
    chunk = inference_chunk(gc, is_training)
    if chunk:
      # The rows are normed a chunk at a time, within the attention's loop
      # and again for the bias, so the normed pair is never held whole.
      nonbatched_bias = projected_bias(pair_act, norm, weights, chunk, gc)

      def attend(x, b, nb):
        x = norm(x)
        return attn(x, x, b, nb)
    else:
      pair_act = norm(pair_act)
      nonbatched_bias = sharding.replicate(jnp.einsum(
          'qkc,ch->hqk', pair_act, weights.astype(pair_act.dtype)), gc,
          computed_along=1)
      attend = lambda x, b, nb: attn(x, x, b, nb)
    out = chunked_apply(attend, chunk, [pair_act, bias], [nonbatched_bias],
                        in_place=True, shard_config=gc)
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
    chunk = inference_chunk(gc, is_training)
    if chunk and not hk.running_init():
      return self._in_chunks(pair_act, pair_mask, chunk)
    mask = pair_mask[..., None]
    input_norm, projections, gates, finish = self._modules(pair_act.shape[-1])
    act = input_norm(pair_act)
    left, right = (mask * projection(act) * jax.nn.sigmoid(gate(act))
                   for projection, gate in zip(projections, gates))
    if sharding.num_shards(gc) > 1:
      product = _sharded_product(c.equation, left, right, gc, is_training)
    else:
      product = jnp.einsum(c.equation, left, right)
    return finish(product, act)

  @hk.transparent
  def _modules(self, c_z):
    """The layer norm of the input; the left and right projections; their
    gates; and the function of (product, normed input) that gives the update
    (the centre layer norm, output projection and output gate)."""
    c_i = self.config.num_intermediate_channel
    input_norm = LayerNorm(name='layer_norm_input')
    projections = [Linear(c_i, name=f'{side}_projection')
                   for side in ('left', 'right')]
    gates = [Linear(c_i, 'zeros', bias_init=1., name=f'{side}_gate')
             for side in ('left', 'right')]
    center_norm = LayerNorm(name='center_layer_norm')
    output_projection = Linear(
        c_z, 'zeros' if self.global_config.zero_init else 'linear',
        name='output_projection')
    gating = Linear(c_z, 'zeros', bias_init=1., name='gating_linear')

    def finish(product, normed_input):
      return (output_projection(center_norm(product)) *
              jax.nn.sigmoid(gating(normed_input)))

    return input_norm, projections, gates, finish

  @hk.transparent
  def _in_chunks(self, pair_act, pair_mask, chunk):
    """The same update with at most two pair-sized arrays alive: the input
    and the product, which the update then overwrites a chunk of rows at a
    time. Under residue sharding both are split along their rows, and each
    channel chunk's product gathers its other operand (_sharded_product).

    The product is independent per channel, so it is built an eighth of
    the channels (PAIR_ROW_CHUNKS) at a time; each channel chunk's gated
    projections are computed from rows of the input normed anew (the normed
    input is never held whole), `rows` at a time.
    """
    n, _, c_z = pair_act.shape
    c_i = self.config.num_intermediate_channel
    dtype = pair_act.dtype
    input_norm, projections, gates, finish = self._modules(c_z)
    # [4, c_z, c_i] and [4, c_i]: left, right, left gate, right gate.
    weights, biases = (jnp.stack(p).astype(dtype) for p in zip(
        *[linear.params(pair_act) for linear in (*projections, *gates)]))
    channels = max(1, -(-c_i // PAIR_ROW_CHUNKS))
    rows = pair_row_chunk(chunk, n)

    def gated(pair_rows, mask_rows, w, b):
      """The gated left and right projections [2, rows, N, channels]."""
      act = input_norm(pair_rows)
      p = jnp.einsum('rnc,pcd->prnd', act, w) + b[:, None, None, :]
      return mask_rows[None, ..., None] * p[:2] * jax.nn.sigmoid(p[2:])

    gc = self.global_config
    shard = lambda x: sharding.shard(x, 0, gc)

    def add_channels(product, k):
      # As chunked_apply: a last chunk that does not fit ends at c_i.
      start = jnp.minimum(k * channels, c_i - channels)
      take = lambda x: jax.lax.dynamic_slice_in_dim(x, start, channels, -1)
      left_right = chunked_apply(
          lambda x, m: jnp.moveaxis(gated(x, m, take(weights), take(biases)),
                                    0, 1),
          rows, [pair_act, pair_mask], shard_config=gc)
      left, right = shard(left_right[:, 0]), shard(left_right[:, 1])
      if sharding.num_shards(gc) > 1:
        update = _sharded_product(self.config.equation, left, right, gc,
                                  is_training=False)
      else:
        update = jnp.einsum(self.config.equation, left, right)
      return shard(jax.lax.dynamic_update_slice_in_dim(product, update, start,
                                                       -1)), None

    product = shard(scratch((n, n, c_i), dtype, pair_act))
    product, _ = hk.scan(add_channels, product,
                         jnp.arange(-(-c_i // channels)))
    return chunked_apply(lambda p, x: finish(p, input_norm(x)), rows,
                         [product, pair_act], in_place=c_i == c_z,
                         shard_config=gc)
