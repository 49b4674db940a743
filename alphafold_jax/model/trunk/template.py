"""Template embedding: pair stack per template, point-wise attention (Suppl. Alg. 16, 17)."""
import haiku as hk
import jax
import jax.numpy as jnp

from alphafold_jax.common import all_atom
from alphafold_jax.common import residue_constants
from alphafold_jax.geometry import Rigid3
from alphafold_jax.geometry import Rot3
from alphafold_jax.geometry import Vec3
from alphafold_jax.model.layers.attention import Attention
from alphafold_jax.model.layers.chunking import chunked_apply
from alphafold_jax.model.layers.chunking import inference_chunk
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

    def embed_one(carry, b):
      return carry, embedder(query_embedding, b, mask_2d, is_training)

    _, template_pair = hk.scan(embed_one, None, template_batch)

    gc = self.global_config
    # Residue sharding: the rows of the flattened pairs split as the pair's.
    flat_query = sharding.shard(
        query_embedding.reshape(num_res * num_res, 1, c_z), 0, gc)
    flat_templates = sharding.shard(
        jnp.transpose(template_pair, [1, 2, 0, 3]).reshape(
            num_res * num_res, num_templates, num_channels), 0, gc)
    bias = 1e9 * (template_mask[None, None, None, :] - 1.)
    attention = Attention(c.attention, gc, c_z)
    embedding = chunked_apply(attention, inference_chunk(c, is_training),
                              [flat_query, flat_templates], [bias], in_place=True,
                              shard_config=gc)
    embedding = sharding.shard(embedding.reshape(num_res, num_res, c_z), 0, gc)
    # No update (and no gradient) when there is no template.
    return embedding * (jnp.sum(template_mask) > 0.).astype(dtype)
