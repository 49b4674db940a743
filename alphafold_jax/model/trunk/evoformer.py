"""One Evoformer block (Suppl. Alg. 6) and its use in the extra-MSA stack (Alg. 18)."""
import haiku as hk

from alphafold_jax.model.layers.dropout import add_update
from alphafold_jax.model.layers.dropout import residual_dropout
from alphafold_jax.model.layers import sharding
from alphafold_jax.model.trunk.msa_attention import MSAColumnAttention
from alphafold_jax.model.trunk.msa_attention import MSAColumnGlobalAttention
from alphafold_jax.model.trunk.msa_attention import MSARowAttentionWithPairBias
from alphafold_jax.model.trunk.outer_product_mean import OuterProductMean
from alphafold_jax.model.trunk.transition import Transition
from alphafold_jax.model.trunk.triangle import TriangleAttention
from alphafold_jax.model.trunk.triangle import TriangleMultiplication


class EvoformerIteration(hk.Module):
  """Updates (msa [N_seq, N_res, c_m], pair [N_res, N_res, c_z]) once.

  With `is_extra_msa` the column attention is global (Alg. 18-19).
  Each sub-block adds its dropped-out update to the representation. Under
  residue sharding (layers/sharding.py) both representations are split
  along residues between the sub-blocks: the pair along its rows, the MSA
  along its columns.
  """

  def __init__(self, config, global_config, is_extra_msa: bool,
               name='evoformer_iteration'):
    super().__init__(name=name)
    self.config = config
    self.global_config = global_config
    self.is_extra_msa = is_extra_msa

  def __call__(self, activations, masks, is_training=False):
    c = self.config
    gc = self.global_config
    msa = lambda x: sharding.shard(x, 1, gc)
    pair = lambda x: sharding.shard(x, 0, gc)
    msa_act, pair_act = msa(activations['msa']), pair(activations['pair'])
    msa_mask, pair_mask = msa(masks['msa']), pair(masks['pair'])

    def add(module, act, mask, **kwargs):
      return add_update(module, act, mask, gc, is_training, **kwargs)

    def add_outer_product_mean(pair_act, msa_act):
      update = OuterProductMean(c.outer_product_mean, gc, pair_act.shape[-1])(
          msa_act, msa_mask, is_training)
      return pair(pair_act + residual_dropout(c.outer_product_mean, gc, update,
                                              is_training))

    if c.outer_product_mean.first:
      pair_act = add_outer_product_mean(pair_act, msa_act)

    msa_act = msa(add(
        MSARowAttentionWithPairBias(c.msa_row_attention_with_pair_bias, gc),
        msa_act, msa_mask, pair_act=pair_act))
    if self.is_extra_msa:
      column = MSAColumnGlobalAttention(c.msa_column_attention, gc)
    else:
      column = MSAColumnAttention(c.msa_column_attention, gc)
    msa_act = msa(add(column, msa_act, msa_mask))
    msa_act = msa(add(Transition(c.msa_transition, gc, name='msa_transition',
                                 residue_axis=1), msa_act, msa_mask))

    if not c.outer_product_mean.first:
      pair_act = add_outer_product_mean(pair_act, msa_act)

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
      pair_act = pair(add(module, pair_act, pair_mask))
    return {'msa': msa_act, 'pair': pair_act}
