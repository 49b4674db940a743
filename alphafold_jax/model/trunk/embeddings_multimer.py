"""Input embeddings, MSA sampling, recycling, templates, extra-MSA stack
and Evoformer of AlphaFold-Multimer (Evans et al. 2021, sections 2.2-2.4;
the monomer's Suppl. Alg. 2 lines 5-17 otherwise)."""
import haiku as hk
import jax
import jax.numpy as jnp

from alphafold_jax.common import all_atom
from alphafold_jax.model.layers.linear import LayerNorm
from alphafold_jax.model.layers.linear import Linear
from alphafold_jax.model.trunk import msa_sampling
from alphafold_jax.model.trunk.dgram import dgram_from_positions
from alphafold_jax.model.trunk.embeddings import evoformer_stack
from alphafold_jax.model.trunk.evoformer import EvoformerIteration
from alphafold_jax.model.trunk.template_multimer import TemplateEmbedding
from alphafold_jax.model.trunk.template_multimer import template_embedding_1d


def relative_features(batch, config, dtype):
  """Relative position within a chain, same-entity flag and relative chain
  index within an entity (Evans et al. 2021, section 2.2), one-hot.

  batch: residue_index, asym_id, entity_id, sym_id [N] -> [N, N, 2 r + 2 + 1
  + 2 s + 2] with r = max_relative_idx, s = max_relative_chain (or
  [N, N, 2 r + 1] without use_chain_relative).
  """
  c = config
  pos = batch['residue_index']
  asym_id = batch['asym_id']
  same_chain = asym_id[:, None] == asym_id[None, :]
  offset = jnp.clip(pos[:, None] - pos[None, :] + c.max_relative_idx,
                    0, 2 * c.max_relative_idx)
  if not c.use_chain_relative:
    return jax.nn.one_hot(offset, 2 * c.max_relative_idx + 1, dtype=dtype)
  # Another chain is one more class.
  offset = jnp.where(same_chain, offset, 2 * c.max_relative_idx + 1)
  rel_pos = jax.nn.one_hot(offset, 2 * c.max_relative_idx + 2, dtype=dtype)
  entity_id = batch['entity_id']
  same_entity = entity_id[:, None] == entity_id[None, :]
  sym_id = batch['sym_id']
  rel_chain = jnp.clip(sym_id[:, None] - sym_id[None, :] + c.max_relative_chain,
                       0, 2 * c.max_relative_chain)
  # sym_id may come as floats holding integers.
  rel_chain = jnp.where(same_entity, rel_chain,
                        2 * c.max_relative_chain + 1).astype(jnp.int32)
  return jnp.concatenate([
      rel_pos, same_entity.astype(dtype)[..., None],
      jax.nn.one_hot(rel_chain, 2 * c.max_relative_chain + 2, dtype=dtype)],
      axis=-1)


class EmbeddingsAndEvoformer(hk.Module):
  """Example features -> single [N, c_s], pair [N, N, c_z], msa [S_c, N, c_m].

  batch: aatype [N], residue_index [N], asym_id, entity_id, sym_id [N],
  seq_mask [N], msa, deletion_matrix, msa_mask, bert_mask [S, N],
  cluster_bias_mask [S], template_aatype [T, N],
  template_all_atom_positions [T, N, 37, 3], template_all_atom_mask
  [T, N, 37], and the recycled prev_pos [N, 37, 3], prev_msa_first_row
  [N, c_m], prev_pair [N, N, c_z]. `key` drives the MSA sampling.
  Also returns the sampled cluster centres' true_msa and bert_mask
  [S_c, N], the masked-MSA loss's targets.
  """

  def __init__(self, config, global_config, name='evoformer'):
    super().__init__(name=name)
    self.config = config
    self.global_config = global_config

  def _relative_encoding(self, batch, dtype):
    """The relative features, embedded (a method, so that its scope is the
    reference's `~_relative_encoding`)."""
    c = self.config
    features = relative_features(batch, c, dtype)
    return Linear(c.pair_channel, name='position_activations')(features)

  def __call__(self, batch, is_training, key):
    c = self.config
    gc = self.global_config
    dtype = batch['msa_mask'].dtype
    batch = dict(batch)
    batch['msa_profile'] = msa_sampling.make_msa_profile(batch)

    target_feat = jax.nn.one_hot(batch['aatype'], 21, dtype=dtype)
    preprocess_1d = Linear(c.msa_channel, name='preprocess_1d')(target_feat)

    _, sample_key, mask_key = jax.random.split(key, 3)
    batch = msa_sampling.sample_msa(sample_key, batch, c.num_msa)
    batch = msa_sampling.make_masked_msa(batch, mask_key, c.masked_msa)
    batch['cluster_profile'], batch['cluster_deletion_mean'] = (
        msa_sampling.nearest_neighbor_clusters(batch))
    msa_feat = msa_sampling.create_msa_feat(batch).astype(dtype)
    msa_act = (preprocess_1d[None] +
               Linear(c.msa_channel, name='preprocess_msa')(msa_feat))
    pair_act = (Linear(c.pair_channel, name='left_single')(target_feat)[:, None] +
                Linear(c.pair_channel, name='right_single')(target_feat)[None])
    seq_mask = batch['seq_mask'].astype(dtype)
    mask_2d = seq_mask[:, None] * seq_mask[None, :]

    # Recycling embedder (Suppl. Alg. 32).
    if c.recycle_pos:
      prev_beta = all_atom.pseudo_beta(batch['aatype'], batch['prev_pos'])
      dgram = dgram_from_positions(prev_beta, **c.prev_pos).astype(dtype)
      pair_act = pair_act + Linear(c.pair_channel, name='prev_pos_linear')(dgram)
    if c.recycle_features:
      msa_act = msa_act.at[0].add(LayerNorm(name='prev_msa_first_row_norm')(
          batch['prev_msa_first_row'].astype(dtype)))
      pair_act = pair_act + LayerNorm(name='prev_pair_norm')(
          batch['prev_pair'].astype(dtype))

    if c.max_relative_idx:
      pair_act = pair_act + self._relative_encoding(batch, dtype)

    if c.template.enabled:
      template_batch = {k: batch[k] for k in (
          'template_aatype', 'template_all_atom_positions', 'template_all_atom_mask')}
      # Templates are per chain: no template pair features across chains.
      multichain_mask = batch['asym_id'][:, None] == batch['asym_id'][None, :]
      pair_act = pair_act + TemplateEmbedding(c.template, gc)(
          pair_act, template_batch, mask_2d, multichain_mask, is_training)

    # Extra-MSA stack (Suppl. Alg. 18).
    extra_feat, extra_mask = msa_sampling.create_extra_msa_feature(batch, c.num_extra_msa)
    extra_act = Linear(c.extra_msa_channel, name='extra_msa_activations')(
        extra_feat.astype(dtype))
    _, pair_act = evoformer_stack(
        EvoformerIteration(c.evoformer, gc, is_extra_msa=True, name='extra_msa_stack'),
        c.extra_msa_stack_num_block, extra_act, pair_act,
        extra_mask.astype(dtype), mask_2d, gc, is_training)

    num_msa = msa_act.shape[0]
    msa_mask = batch['msa_mask'].astype(dtype)
    if c.template.enabled:
      template_act, template_mask = template_embedding_1d(batch, c.msa_channel)
      msa_act = jnp.concatenate([msa_act, template_act.astype(dtype)], axis=0)
      msa_mask = jnp.concatenate([msa_mask, template_mask.astype(dtype)], axis=0)

    msa_act, pair_act = evoformer_stack(
        EvoformerIteration(c.evoformer, gc, is_extra_msa=False),
        c.evoformer_num_block, msa_act, pair_act, msa_mask, mask_2d, gc, is_training)

    return {
        'single': Linear(c.seq_channel, name='single_activations')(msa_act[0]),
        'pair': pair_act,
        # The template rows are not MSA rows for the masked-MSA head.
        'msa': msa_act[:num_msa],
        'msa_first_row': msa_act[0],
        # The sampled MSA's targets, for the masked-MSA loss.
        'true_msa': batch['true_msa'],
        'bert_mask': batch['bert_mask'],
    }
