"""Each trunk module against the reference, one at a time, in float64."""
import jax
import jax.numpy as jnp
import pytest

from alphafold_jax.model.trunk.evoformer import EvoformerIteration
from alphafold_jax.model.trunk.msa_attention import MSAColumnAttention
from alphafold_jax.model.trunk.msa_attention import MSAColumnGlobalAttention
from alphafold_jax.model.trunk.msa_attention import MSARowAttentionWithPairBias
from alphafold_jax.model.trunk.outer_product_mean import OuterProductMean
from alphafold_jax.model.trunk.transition import Transition
from alphafold_jax.model.trunk.triangle import TriangleAttention
from alphafold_jax.model.trunk.triangle import TriangleMultiplication
from tests.model import golden_modules

CFG = golden_modules.small_config().model
EVO = CFG.embeddings_and_evoformer.evoformer
GC = CFG.global_config


def _modules():
  return {
      'msa_row_attention_with_pair_bias': lambda: MSARowAttentionWithPairBias(
          EVO.msa_row_attention_with_pair_bias, GC),
      'msa_column_attention': lambda: MSAColumnAttention(EVO.msa_column_attention, GC),
      'msa_column_global_attention': lambda: MSAColumnGlobalAttention(
          EVO.msa_column_attention, GC),
      'msa_transition': lambda: Transition(EVO.msa_transition, GC,
                                           name='msa_transition'),
      'pair_transition': lambda: Transition(EVO.pair_transition, GC,
                                            name='pair_transition'),
      'outer_product_mean': lambda: OuterProductMean(
          EVO.outer_product_mean, GC, CFG.embeddings_and_evoformer.pair_channel),
      **{name: (lambda name=name: TriangleMultiplication(EVO[name], GC, name=name))
         for name in ('triangle_multiplication_outgoing',
                      'triangle_multiplication_incoming')},
      **{name: (lambda name=name: TriangleAttention(EVO[name], GC, name=name))
         for name in ('triangle_attention_starting_node',
                      'triangle_attention_ending_node')},
  }


@pytest.mark.parametrize('name', sorted(_modules()))
@pytest.mark.parametrize('subbatch_size', [None, 3])
def test_module_matches_reference(name, subbatch_size):
  inputs, params, outputs = golden_modules.load_module_case(name)
  factory = _modules()[name]
  gc = GC.copy_and_resolve_references()
  gc.subbatch_size = subbatch_size

  def fn(**kw):
    module = factory()
    module.global_config = gc
    return module(*kw.values(), is_training=False)

  with jax.enable_x64(True):
    out = golden_modules.run_module(fn, inputs, params)
    assert out.dtype == jnp.float64
  assert golden_modules.relative_error(out, outputs['out']) < 1e-6


def test_evoformer_iteration_matches_reference():
  inputs, params, outputs = golden_modules.load_module_case('evoformer_iteration')

  def fn(msa_act, pair_act, msa_mask, pair_mask):
    return EvoformerIteration(EVO, GC, is_extra_msa=False)(
        {'msa': msa_act, 'pair': pair_act}, {'msa': msa_mask, 'pair': pair_mask},
        is_training=False)

  with jax.enable_x64(True):
    out = golden_modules.run_module(fn, inputs, params)
  assert golden_modules.relative_error(out['msa'], outputs['msa']) < 1e-6
  assert golden_modules.relative_error(out['pair'], outputs['pair']) < 1e-6
