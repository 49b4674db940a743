"""Template embedding: pair stack per template, point-wise attention (Suppl. Alg. 16, 17)."""
import haiku as hk
import jax
import jax.numpy as jnp

from alphafold_jax.common import residue_constants
from alphafold_jax.geometry import Rigid3
from alphafold_jax.geometry import Rot3
from alphafold_jax.geometry import Vec3
from alphafold_jax.model.layers.attention import Attention
from alphafold_jax.model.layers.chunking import chunked_apply
from alphafold_jax.model.layers.chunking import inference_chunk
from alphafold_jax.model.layers.chunking import pair_row_chunk
from alphafold_jax.model.layers.chunking import scratch
from alphafold_jax.model.layers.dropout import add_update
from alphafold_jax.model.layers.layer_stack import layer_stack
from alphafold_jax.model.layers.linear import LayerNorm
from alphafold_jax.model.layers.linear import Linear
from alphafold_jax.model.layers import sharding
from alphafold_jax.model.trunk.dgram import dgram_from_positions
from alphafold_jax.model.trunk.transition import Transition
from alphafold_jax.model.trunk.triangle import TriangleAttention
from alphafold_jax.model.trunk.triangle import TriangleMultiplication


class TemplatePairStack(hk.Module):
  """Suppl. Alg. 16: `num_block` blocks of triangle updates on one template.

  pair_act [N, N, c_t], pair_mask [N, N] -> [N, N, c_t].
  """

  def __init__(self, config, global_config, name='template_pair_stack'):
    super().__init__(name=name)
    self.config = config
    self.global_config = global_config

  def __call__(self, pair_act, pair_mask, is_training):
    c = self.config
    gc = self.global_config
    if not c.num_block:
      return pair_act

    def block(act):
      for module in (
          TriangleAttention(c.triangle_attention_starting_node, gc,
                            name='triangle_attention_starting_node'),
          TriangleAttention(c.triangle_attention_ending_node, gc,
                            name='triangle_attention_ending_node'),
          TriangleMultiplication(c.triangle_multiplication_outgoing, gc,
                                 name='triangle_multiplication_outgoing'),
          TriangleMultiplication(c.triangle_multiplication_incoming, gc,
                                 name='triangle_multiplication_incoming'),
          Transition(c.pair_transition, gc, name='pair_transition')):
        act = sharding.shard(add_update(module, act, pair_mask, gc, is_training),
                             0, gc)
      return act

    if gc.use_remat:
      block = hk.remat(block)
    return layer_stack(c.num_block, block, pair_act,
                       unroll=gc.get('unroll_layer_stacks', False))


class SingleTemplateEmbedding(hk.Module):
  """Pair features of one template (Suppl. Alg. 2 lines 7-11), embedded and stacked.

  batch: template_aatype [N], template_all_atom_positions [N, 37, 3],
  template_all_atom_masks [N, 37], template_pseudo_beta [N, 3],
  template_pseudo_beta_mask [N] -> [N, N, c_t].
  """

  def __init__(self, config, global_config, name='single_template_embedding'):
    super().__init__(name=name)
    self.config = config
    self.global_config = global_config

  def __call__(self, query_embedding, batch, mask_2d, is_training):
    c = self.config
    dtype = query_embedding.dtype
    num_res = batch['template_aatype'].shape[0]
    num_channels = c.template_pair_stack.triangle_attention_ending_node.value_dim

    beta_mask = batch['template_pseudo_beta_mask']
    beta_mask_2d = (beta_mask[:, None] * beta_mask[None, :]).astype(dtype)
    dgram = dgram_from_positions(batch['template_pseudo_beta'],
                                 **c.dgram_features).astype(dtype)
    aatype = jax.nn.one_hot(batch['template_aatype'], 22, dtype=dtype)

    # Unit vectors between residues in each residue's backbone frame.
    n, ca, cc = (residue_constants.atom_order[a] for a in ('N', 'CA', 'C'))
    positions = batch['template_all_atom_positions']
    ca_pos = Vec3.from_array(positions[:, ca])
    # Backbone frames as in Alg. 21: x along CA->C, N in the xy-plane.
    frames = Rigid3(Rot3.from_two_vectors(Vec3.from_array(positions[:, cc]) - ca_pos,
                                          Vec3.from_array(positions[:, n]) - ca_pos),
                    ca_pos)
    local = frames[:, None].apply_inverse(frames.trans[None, :])
    masks = batch['template_all_atom_masks']
    backbone_mask = masks[:, n] * masks[:, ca] * masks[:, cc]
    backbone_mask_2d = backbone_mask[:, None] * backbone_mask[None, :]
    inv_distance = jax.lax.rsqrt(1e-6 + local.dot(local)) * backbone_mask_2d
    unit_vector = [(a * inv_distance)[..., None].astype(dtype)
                   for a in (local.x, local.y, local.z)]
    if not c.use_template_unit_vector:
      unit_vector = [jnp.zeros_like(u) for u in unit_vector]
    backbone_mask_2d = backbone_mask_2d.astype(dtype)

    act = jnp.concatenate(
        [dgram, beta_mask_2d[..., None],
         jnp.tile(aatype[None, :, :], [num_res, 1, 1]),
         jnp.tile(aatype[:, None, :], [1, num_res, 1]),
         *unit_vector, backbone_mask_2d[..., None]], axis=-1)
    act = sharding.shard(act * backbone_mask_2d[..., None], 0,
                         self.global_config)
    act = Linear(num_channels, 'relu', name='embedding2d')(act)
    act = TemplatePairStack(c.template_pair_stack, self.global_config)(
        act, mask_2d, is_training)
    return LayerNorm(name='output_layer_norm')(act)


class TemplateEmbedding(hk.Module):
  """Suppl. Alg. 17: the query pair attends to each template's pair embedding.

  query_embedding [N, N, c_z], template_batch with a leading template axis,
  mask_2d [N, N] -> update [N, N, c_z].
  """

  def __init__(self, config, global_config, name='template_embedding'):
    super().__init__(name=name)
    self.config = config
    self.global_config = global_config

  def __call__(self, query_embedding, template_batch, mask_2d, is_training):
    c = self.config
    num_res = query_embedding.shape[0]
    c_z = query_embedding.shape[-1]
    dtype = query_embedding.dtype
    template_mask = template_batch['template_mask'].astype(dtype)
    num_templates = template_mask.shape[0]
    num_channels = c.template_pair_stack.triangle_attention_ending_node.value_dim

    # One embedder, so the weights are shared across templates. The
    # templates go through it one at a time (a scan, as the reference's
    # sharded map does): only one template's pair stack activations
    # ([N, N, c_t] and its triangle intermediates) are alive at once.
    embedder = SingleTemplateEmbedding(c, self.global_config)
    gc = self.global_config
    attention = Attention(c.attention, gc, c_z)
    flat_query = sharding.shard(
        query_embedding.reshape(num_res * num_res, 1, c_z), 0, gc)
    embed = lambda b: embedder(query_embedding, b, mask_2d, is_training)
    chunk = inference_chunk(gc, is_training)
    if chunk and not hk.running_init():
      embedding = _attend_online(embed, attention, flat_query, template_batch,
                                 template_mask, num_channels,
                                 pair_row_chunk(chunk, num_res * num_res), gc)
    else:
      # Each embedding is written into its slot of the attention's keys
      # [N * N, templates, c_t] (the scan's carry, updated in place), so the
      # stacked embeddings are never transposed into a second copy.
      def embed_one(templates, args):
        b, t = args
        embedding = sharding.shard(
            embed(b).reshape(num_res * num_res, 1, num_channels), 0, gc)
        return jax.lax.dynamic_update_slice_in_dim(templates, embedding, t,
                                                   1), None

      # Residue sharding: the rows of the flattened pairs split as the pair's.
      flat_templates = sharding.shard(scratch(
          (num_res * num_res, num_templates, num_channels), dtype,
          query_embedding), 0, gc)
      flat_templates, _ = hk.scan(embed_one, flat_templates,
                                  (template_batch, jnp.arange(num_templates)))
      bias = 1e9 * (template_mask[None, None, None, :] - 1.)
      embedding = chunked_apply(attention, inference_chunk(c, is_training),
                                [flat_query, flat_templates], [bias],
                                in_place=True, shard_config=gc)
    embedding = sharding.shard(embedding.reshape(num_res, num_res, c_z), 0, gc)
    # No update (and no gradient) when there is no template.
    return embedding * (jnp.sum(template_mask) > 0.).astype(dtype)


def _attend_online(embed, attention, flat_query, template_batch, template_mask,
                   num_channels: int, rows: int, global_config):
  """The template pointwise attention (Alg. 17) at inference with chunking,
  taking each template's embedding as it is made (an online softmax).

  Every residue pair keeps a running state [H, c_v + 2] per head: the
  weighted sum of the values so far, the largest logit so far, and the
  softmax denominator relative to it. A new template's logit l rescales it
  by exp(max_old - max_new) and adds exp(l - max_new) times its value. So
  the templates' embeddings [N * N, templates, c_t] are never held together
  (at N = 2,048 in float32, 4 GiB), only the state, about one embedding's
  size; the result is the softmax-weighted mean of the plain path, up to
  rounding. The state is updated `rows` residue pairs at a time, in place;
  under residue sharding it is split along the residue pairs as the pair
  representation's rows are.

  embed: template batch of one template -> its embedding [N, N, c_t].
  flat_query [N * N, 1, c_z]; template_mask [templates].
  Returns the attention's output [N * N, c_z].
  """
  n, _, _ = flat_query.shape
  dtype = flat_query.dtype
  p = attention.params(flat_query,
                       jax.ShapeDtypeStruct((1, 1, num_channels), dtype))
  _, num_head, key_dim = p['query_w'].shape
  value_dim = p['value_w'].shape[-1]
  shard = lambda x: sharding.shard(x, 0, global_config)

  def update(state, values, query, bias, first):
    """state [r, H, c_v + 2], one template's embedding rows [r, c_t], the
    query rows [r, 1, c_z] -> the state with this template taken in. The
    queries are projected again for every template rather than held
    ([N * N, H, c_k], half the pair's size)."""
    q = jnp.einsum('ra,ahc->rhc', query[:, 0], p['query_w']) * key_dim**(-0.5)
    k = jnp.einsum('ra,ahc->rhc', values, p['key_w'])
    v = jnp.einsum('ra,ahc->rhc', values, p['value_w'])
    logit = jnp.sum(q * k, axis=-1) + bias
    # Before the first template: no values, a maximum of -inf, a zero sum.
    total = jnp.where(first, 0., state[..., :value_dim])
    largest = jnp.where(first, -jnp.inf, state[..., value_dim])
    norm = jnp.where(first, 0., state[..., value_dim + 1])
    new_largest = jnp.maximum(largest, logit)
    rescale = jnp.exp(largest - new_largest)
    weight = jnp.exp(logit - new_largest)
    total = total * rescale[..., None] + weight[..., None] * v
    norm = norm * rescale + weight
    return jnp.concatenate(
        [total, new_largest[..., None], norm[..., None]], axis=-1).astype(dtype)

  def take_template(state, args):
    b, t = args
    values = shard(embed(b).reshape(n, num_channels))
    bias = (1e9 * (template_mask[t] - 1.)).astype(dtype)
    return shard(chunked_apply(update, rows, [state, values, flat_query],
                               [bias, t == 0], in_place=True,
                               shard_config=global_config)), None

  state = shard(scratch((n, num_head, value_dim + 2), dtype, flat_query))
  state, _ = hk.scan(take_template, state,
                     (template_batch, jnp.arange(template_mask.shape[0])))

  def output(state, query):
    weighted_avg = state[..., :value_dim] / state[..., value_dim + 1:]
    return attention.output(p, query, weighted_avg[:, None])

  return chunked_apply(output, rows, [state, flat_query],
                       shard_config=global_config)
