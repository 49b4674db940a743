"""Input embeddings, recycling, templates, extra-MSA stack and the Evoformer
stack (Suppl. Alg. 2 lines 5-17, Alg. 3-5, 32)."""
import haiku as hk
import jax
import jax.numpy as jnp

from alphafold_jax.common import all_atom
from alphafold_jax.model.layers.layer_stack import layer_stack
from alphafold_jax.model.layers.linear import LayerNorm
from alphafold_jax.model.layers.linear import Linear
from alphafold_jax.model.layers import sharding
from alphafold_jax.model.trunk.dgram import dgram_from_positions
from alphafold_jax.model.trunk.evoformer import EvoformerIteration
from alphafold_jax.model.trunk.template import TemplateEmbedding


def _extra_msa_features(batch):
  """[N_extra, N_res, 25]: one-hot residue (23), has-deletion, deletion value."""
  return jnp.concatenate([
      jax.nn.one_hot(batch['extra_msa'], 23, dtype=batch['extra_has_deletion'].dtype),
      batch['extra_has_deletion'][..., None],
      batch['extra_deletion_value'][..., None]], axis=-1)


def _template_single_features(batch, dtype, placeholder_for_undefined: bool):
  """Template aatype and torsion angles as extra MSA rows (Suppl. 1.7.1).

  Returns features [N_templ, N_res, 57] and the row mask [N_templ, N_res].
  """
  aatype = batch['template_aatype']
  torsions = all_atom.atom37_to_torsion_angles(
      aatype, batch['template_all_atom_positions'],
      batch['template_all_atom_masks'],
      placeholder_for_undefined=placeholder_for_undefined)
  num_templ, num_res = aatype.shape
  features = jnp.concatenate([
      jax.nn.one_hot(aatype, 22, dtype=dtype),
      torsions['torsion_angles_sin_cos'].reshape(num_templ, num_res, 14).astype(dtype),
      torsions['alt_torsion_angles_sin_cos'].reshape(num_templ, num_res, 14).astype(dtype),
      torsions['torsion_angles_mask'].astype(dtype)], axis=-1)
  # A template row is present where its backbone is: where psi (torsion 2,
  # from N, CA, C and O) is defined.
  return features, torsions['torsion_angles_mask'][..., 2].astype(dtype)


def evoformer_stack(iteration, num_block, msa_act, pair_act, msa_mask, pair_mask,
           global_config, is_training):
  """`num_block` Evoformer blocks with their own weights, scanned so that
  compile time does not grow with depth (and rematerialised on request)."""
  masks = {'msa': msa_mask, 'pair': pair_mask}

  def block(act):
    out = iteration({'msa': act[0], 'pair': act[1]}, masks, is_training)
    return out['msa'], out['pair']

  if global_config.use_remat:
    block = hk.remat(block)
  return layer_stack(num_block, block, (msa_act, pair_act),
                     unroll=global_config.get('unroll_layer_stacks', False))


class EmbeddingsAndEvoformer(hk.Module):
  """Batch features -> single [N, c_s], pair [N, N, c_z], msa [N_seq, N, c_m]."""

  def __init__(self, config, global_config, name='evoformer'):
    super().__init__(name=name)
    self.config = config
    self.global_config = global_config

  def __call__(self, batch, is_training):
    c = self.config
    gc = self.global_config
    dtype = batch['msa_feat'].dtype

    # Input embedder (Alg. 3).
    target_feat = batch['target_feat'].astype(dtype)
    msa_act = (Linear(c.msa_channel, name='preprocess_1d')(target_feat)[None] +
               Linear(c.msa_channel, name='preprocess_msa')(batch['msa_feat']))
    pair_act = (Linear(c.pair_channel, name='left_single')(target_feat)[:, None] +
                Linear(c.pair_channel, name='right_single')(target_feat)[None])
    # Residue sharding (layers/sharding.py): pair rows and MSA columns split.
    pair = lambda x: sharding.shard(x, 0, gc)
    msa = lambda x: sharding.shard(x, 1, gc)
    msa_act, pair_act = msa(msa_act), pair(pair_act)
    seq_mask = batch['seq_mask'].astype(dtype)
    mask_2d = pair(seq_mask[:, None] * seq_mask[None, :])

    # Recycling embedder (Alg. 32).
    if c.recycle_pos:
      prev_beta = all_atom.pseudo_beta(batch['aatype'], batch['prev_pos'])
      dgram = dgram_from_positions(prev_beta, **c.prev_pos).astype(dtype)
      pair_act = pair_act + Linear(c.pair_channel, name='prev_pos_linear')(dgram)
    if c.recycle_features:
      prev_first_row = LayerNorm(name='prev_msa_first_row_norm')(
          batch['prev_msa_first_row'].astype(dtype))
      msa_act = msa_act.at[0].add(prev_first_row)
      pair_act = pair_act + LayerNorm(name='prev_pair_norm')(
          pair(batch['prev_pair'].astype(dtype)))

    # Relative positions (Alg. 4, 5).
    if c.max_relative_feature:
      pos = batch['residue_index']
      offset = jnp.clip(pos[:, None] - pos[None, :] + c.max_relative_feature,
                        0, 2 * c.max_relative_feature)
      rel_pos = jax.nn.one_hot(offset, 2 * c.max_relative_feature + 1, dtype=dtype)
      pair_act = pair_act + Linear(c.pair_channel, name='pair_activiations')(rel_pos)

    if c.template.enabled:
      template_batch = {k: v for k, v in batch.items() if k.startswith('template_')}
      pair_act = pair(pair_act + TemplateEmbedding(c.template, gc)(
          pair_act, template_batch, mask_2d, is_training))

    # Extra-MSA stack (Alg. 18).
    extra_act = msa(Linear(c.extra_msa_channel, name='extra_msa_activations')(
        _extra_msa_features(batch).astype(dtype)))
    _, pair_act = evoformer_stack(
        EvoformerIteration(c.evoformer, gc, is_extra_msa=True, name='extra_msa_stack'),
        c.extra_msa_stack_num_block, extra_act, pair_act,
        msa(batch['extra_msa_mask'].astype(dtype)), mask_2d, gc, is_training)

    msa_mask = batch['msa_mask'].astype(dtype)
    if c.template.enabled and c.template.embed_torsion_angles:
      # As the reference: undefined torsions (e.g. phi of the first residue)
      # get a placeholder only when the model is not zero-initialised.
      features, row_mask = _template_single_features(batch, dtype,
                                                     not gc.zero_init)
      act = Linear(c.msa_channel, 'relu', name='template_single_embedding')(features)
      act = Linear(c.msa_channel, 'relu', name='template_projection')(jax.nn.relu(act))
      msa_act = msa(jnp.concatenate([msa_act, act], axis=0))
      msa_mask = jnp.concatenate([msa_mask, row_mask], axis=0)

    msa_act, pair_act = evoformer_stack(
        EvoformerIteration(c.evoformer, gc, is_extra_msa=False),
        c.evoformer_num_block, msa_act, pair_act, msa_mask, mask_2d, gc, is_training)

    num_seq = batch['msa_feat'].shape[0]
    return {
        'single': Linear(c.seq_channel, name='single_activations')(msa_act[0]),
        'pair': pair(pair_act),
        'msa': msa_act[:num_seq],
        'msa_first_row': msa_act[0],
    }
