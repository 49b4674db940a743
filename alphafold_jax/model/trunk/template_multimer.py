"""Template embedding of AlphaFold-Multimer (Evans et al. 2021, section 2.4;
the monomer's Suppl. Alg. 16-17 with the changes below).

Differences from the monomer: each template's pair features (distogram,
masks, residue types, backbone unit vectors and the normed query pair) go
through one linear layer per feature; pair features are kept only within a
chain (templates are searched per chain); the pair stack runs its triangle
multiplications first; and templates are averaged rather than attended to.
The template rows added to the MSA carry chi angles only (no backbone
torsions), and their mask is that of chi1.
"""
import haiku as hk
import jax
import jax.numpy as jnp

from alphafold_jax.common import all_atom
from alphafold_jax.common import residue_constants
from alphafold_jax.geometry import Rigid3
from alphafold_jax.geometry import Rot3
from alphafold_jax.geometry import Vec3
from alphafold_jax.model.layers.chunking import scratch
from alphafold_jax.model.layers.dropout import add_update
from alphafold_jax.model.layers.layer_stack import layer_stack
from alphafold_jax.model.layers.linear import LayerNorm
from alphafold_jax.model.layers.linear import Linear
from alphafold_jax.model.trunk.dgram import dgram_from_positions
from alphafold_jax.model.trunk.transition import Transition
from alphafold_jax.model.trunk.triangle import TriangleAttention
from alphafold_jax.model.trunk.triangle import TriangleMultiplication

_NORM_EPSILON = 1e-6


def normalized(v: Vec3, epsilon: float = _NORM_EPSILON) -> Vec3:
  """v / max(|v|, epsilon): zero vectors stay zero."""
  return v / jnp.sqrt(jnp.maximum(v.dot(v), epsilon**2))


def backbone_frames(positions: Vec3, mask, epsilon: float = _NORM_EPSILON):
  """Frames from N, CA, C (Suppl. Alg. 21): origin CA, x along CA->C, N in
  the xy-plane. positions Vec3 [N, 37], mask [N, 37] -> Rigid3 [N], mask [N]."""
  n, ca, c = (residue_constants.atom_order[a] for a in ('N', 'CA', 'C'))
  e0 = normalized(positions[:, c] - positions[:, ca], epsilon)
  e1 = positions[:, n] - positions[:, ca]
  e1 = normalized(e1 - e0 * e1.dot(e0), epsilon)
  e2 = e0.cross(e1)
  rot = Rot3(e0.x, e1.x, e2.x, e0.y, e1.y, e2.y, e0.z, e1.z, e2.z)
  return Rigid3(rot, positions[:, ca]), mask[:, n] * mask[:, ca] * mask[:, c]


def dihedral_angle(a: Vec3, b: Vec3, c: Vec3, d: Vec3, epsilon=_NORM_EPSILON):
  """The torsion angle of a-b-c-d in radians."""
  v1, v2, v3 = a - b, b - c, d - c
  c1, c2 = v1.cross(v2), v3.cross(v2)
  c3 = c2.cross(c1)
  v2_norm = jnp.sqrt(jnp.maximum(v2.dot(v2), epsilon**2))
  return jnp.arctan2(c3.dot(v2), v2_norm * c1.dot(c2))


def chi_angles(positions: Vec3, mask, aatype):
  """Chi angles [N, 4] of one structure and their mask [N, 4] (all four
  atoms present and the residue has the chi). aatype beyond the table
  (gap) counts as unknown."""
  table = jnp.asarray(residue_constants.chi_atom_indices)
  aatype = jnp.clip(aatype, 0, table.shape[0] - 1)
  atom_indices = table[aatype]  # [N, 4, 4]
  gather = jax.vmap(lambda x, i: x[i])
  a, b, c, d = (positions.map(lambda x, k=k: gather(x, atom_indices[..., k]))
                for k in range(4))
  angles = dihedral_angle(a, b, c, d)
  chi_mask_table = jnp.concatenate([
      jnp.asarray(residue_constants.chi_angles_mask, jnp.float32),
      jnp.zeros((1, 4), jnp.float32)])
  atoms_present = jnp.prod(gather(mask, atom_indices), axis=-1)
  return angles, chi_mask_table[aatype] * atoms_present.astype(jnp.float32)


def template_embedding_1d(batch, num_channel: int):
  """Template rows for the MSA: residue type and chi angles, embedded.

  batch: template_aatype [T, N], template_all_atom_positions [T, N, 37, 3],
  template_all_atom_mask [T, N, 37] -> activations [T, N, c_m], mask [T, N].
  """
  aatype = batch['template_aatype']
  angles, mask = jax.vmap(chi_angles)(
      Vec3.from_array(batch['template_all_atom_positions']),
      batch['template_all_atom_mask'], aatype)
  features = jnp.concatenate([
      jax.nn.one_hot(aatype, 22, dtype=angles.dtype),
      jnp.sin(angles) * mask, jnp.cos(angles) * mask, mask], axis=-1)
  act = Linear(num_channel, 'relu', name='template_single_embedding')(features)
  act = Linear(num_channel, 'relu', name='template_projection')(jax.nn.relu(act))
  return act, mask[:, :, 0]


class TemplateEmbeddingIteration(hk.Module):
  """One block of the multimer template pair stack: triangle multiplications
  (outgoing, incoming), triangle attentions (starting, ending), transition.

  act [N, N, c_t], pair_mask [N, N] -> [N, N, c_t].
  """

  def __init__(self, config, global_config, name='template_embedding_iteration'):
    super().__init__(name=name)
    self.config = config
    self.global_config = global_config

  def __call__(self, act, pair_mask, is_training):
    c = self.config
    gc = self.global_config
    for module in (
        TriangleMultiplication(c.triangle_multiplication_outgoing, gc,
                               name='triangle_multiplication_outgoing'),
        TriangleMultiplication(c.triangle_multiplication_incoming, gc,
                               name='triangle_multiplication_incoming'),
        TriangleAttention(c.triangle_attention_starting_node, gc,
                          name='triangle_attention_starting_node'),
        TriangleAttention(c.triangle_attention_ending_node, gc,
                          name='triangle_attention_ending_node'),
        Transition(c.pair_transition, gc, name='pair_transition')):
      act = add_update(module, act, pair_mask, gc, is_training)
    return act


class SingleTemplateEmbedding(hk.Module):
  """Pair embedding of one template, [N, N, c_t].

  query_embedding [N, N, c_z]; template_aatype [N],
  template_all_atom_positions [N, 37, 3], template_all_atom_mask [N, 37];
  padding_mask_2d [N, N]; multichain_mask_2d [N, N] (1 within a chain).
  """

  def __init__(self, config, global_config, name='single_template_embedding'):
    super().__init__(name=name)
    self.config = config
    self.global_config = global_config

  def __call__(self, query_embedding, template_aatype, template_all_atom_positions,
               template_all_atom_mask, padding_mask_2d, multichain_mask_2d,
               is_training):
    c = self.config
    gc = self.global_config
    dtype = query_embedding.dtype
    multichain_mask_2d = multichain_mask_2d.astype(dtype)

    beta, beta_mask = all_atom.pseudo_beta(template_aatype, template_all_atom_positions,
                                           template_all_atom_mask)
    beta_mask_2d = beta_mask[:, None] * beta_mask[None, :] * multichain_mask_2d
    dgram = dgram_from_positions(beta, **c.dgram_features) * beta_mask_2d[..., None]
    aatype = jax.nn.one_hot(template_aatype, 22, dtype=dtype)

    # Direction to every other residue in each residue's backbone frame.
    positions = Vec3.from_array(template_all_atom_positions)
    frames, backbone_mask = backbone_frames(positions, template_all_atom_mask)
    local = frames[:, None].inverse().apply(frames.trans[None, :])
    unit_vector = normalized(local)
    backbone_mask_2d = (backbone_mask[:, None] * backbone_mask[None, :] *
                        multichain_mask_2d)
    unit_vector = [u * backbone_mask_2d
                   for u in (unit_vector.x, unit_vector.y, unit_vector.z)]

    query = LayerNorm(name='query_embedding_norm')(query_embedding)
    # (feature, number of its axes the linear layer reads)
    features = [(dgram, 1), (beta_mask_2d, 0), (aatype[None, :, :], 1),
                (aatype[:, None, :], 1), *[(u, 0) for u in unit_vector],
                (backbone_mask_2d, 0), (query, 1)]
    act = 0.
    for i, (x, num_input_dims) in enumerate(features):
      act = act + Linear(c.num_channels, 'relu', num_input_dims=num_input_dims,
                         name=f'template_pair_embedding_{i}')(x.astype(dtype))

    iteration = TemplateEmbeddingIteration(c.template_pair_stack, gc)

    def block(act):
      return iteration(act, padding_mask_2d, is_training)

    if gc.use_remat:
      block = hk.remat(block)
    act = layer_stack(c.template_pair_stack.num_block, block, act,
                      unroll=gc.get('unroll_layer_stacks', False))
    return LayerNorm(name='output_layer_norm')(act)


class TemplateEmbedding(hk.Module):
  """Mean of the templates' pair embeddings, projected to the pair update.

  query_embedding [N, N, c_z], template_batch with a leading template axis
  T -> update [N, N, c_z]. The mean is over all T slots (padding included),
  as in the released model.
  """

  def __init__(self, config, global_config, name='template_embedding'):
    super().__init__(name=name)
    self.config = config
    self.global_config = global_config

  def __call__(self, query_embedding, template_batch, padding_mask_2d,
               multichain_mask_2d, is_training):
    c = self.config
    num_templates = template_batch['template_aatype'].shape[0]
    num_res, _, c_z = query_embedding.shape
    embedder = SingleTemplateEmbedding(c, self.global_config)

    def add_template(total, args):
      t, template = args
      embedding = embedder(query_embedding, *template, padding_mask_2d,
                           multichain_mask_2d, is_training)
      return jnp.where(t == 0, embedding, total + embedding), None

    templates = (template_batch['template_aatype'],
                 template_batch['template_all_atom_positions'],
                 template_batch['template_all_atom_mask'])
    # The first template sets the sum: it starts from `scratch`, not from a
    # constant zero that XLA would keep alive around the recycling loop.
    total = scratch((num_res, num_res, c.num_channels), query_embedding.dtype,
                    query_embedding)
    total, _ = hk.scan(add_template, total,
                       (jnp.arange(num_templates), templates))
    embedding = jax.nn.relu(total / num_templates)
    return Linear(c_z, 'relu', name='output_linear')(embedding)
