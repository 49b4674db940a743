"""The fused attention path (global_config.fused_attention,
jax.nn.dot_product_attention) against the plain one, on the CPU."""
import haiku as hk
import jax
import jax.numpy as jnp
import ml_collections
import numpy as np
import pytest

from alphafold_jax.model.layers.attention import Attention
from alphafold_jax.model.trunk.msa_attention import MSAColumnAttention
from alphafold_jax.model.trunk.msa_attention import MSARowAttentionWithPairBias
from alphafold_jax.model.trunk.triangle import TriangleAttention
from tests.model import golden_modules

CFG = golden_modules.small_config().model
EVO = CFG.embeddings_and_evoformer.evoformer

_MODULES = {
    'msa_row_attention_with_pair_bias': MSARowAttentionWithPairBias,
    'msa_column_attention': MSAColumnAttention,
    'triangle_attention_starting_node': TriangleAttention,
    'triangle_attention_ending_node': TriangleAttention,
}
# A few float32 roundings (the sums are taken in another order; measured
# up to 6e-8). XLA's dot_product_attention takes its softmax in float32
# whatever the inputs' dtype, so float64 agrees to float32's epsilon
# (measured 2e-8), not float64's.
_BOUNDS = {'float32': 4e-7, 'float64': 1.2e-7}


def _global_config(fused: bool):
  gc = CFG.global_config.copy_and_resolve_references()
  gc.fused_attention = fused
  gc.subbatch_size = None
  return gc


def _cast(tree, dtype):
  return jax.tree_util.tree_map(lambda x: jnp.asarray(x, dtype), tree)


@pytest.fixture
def fused_calls(monkeypatch):
  """Counts the calls of jax.nn.dot_product_attention: the fused path ran."""
  calls = []
  original = jax.nn.dot_product_attention

  def counted(*args, **kwargs):
    calls.append(kwargs.get('implementation'))
    return original(*args, **kwargs)

  monkeypatch.setattr(jax.nn, 'dot_product_attention', counted)
  return calls


@pytest.mark.parametrize('dtype', sorted(_BOUNDS))
@pytest.mark.parametrize('name', sorted(_MODULES))
def test_fused_equals_plain_on_trunk_attention(name, dtype, fused_calls):
  """Row attention with its pair bias, column attention and both triangle
  attentions, on the golden fixtures' inputs and parameters (masks with
  padded keys): the same output either way."""
  inputs, params, _ = golden_modules.load_module_case(name)

  def output(fused):
    def fn(**kw):
      module = _MODULES[name](EVO[name], _global_config(fused), name=name)
      return module(*kw.values(), is_training=False)
    return hk.transform(fn).apply(_cast(params, dtype), None,
                                  **_cast(inputs, dtype))

  with jax.enable_x64(dtype == 'float64'):
    plain = output(False)
    assert not fused_calls
    fused = output(True)
    assert fused_calls == ['xla']
    assert fused.dtype == plain.dtype == jnp.dtype(dtype)
  assert golden_modules.relative_error(fused, plain) < _BOUNDS[dtype]
  # Not a trivial agreement: the module's output is not its output bias.
  assert float(np.std(plain)) > 1e-2


def test_fused_equals_plain_on_one_query_per_batch(fused_calls):
  """The template stack's pointwise attention shape (one query, a few keys,
  a key-padding bias shared by the batch), gated, random weights."""
  rng = np.random.default_rng(0)
  q_data = jnp.asarray(rng.normal(size=(7, 1, 16)), jnp.float32)
  m_data = jnp.asarray(rng.normal(size=(7, 3, 8)), jnp.float32)
  bias = jnp.asarray(1e9 * (np.array([1., 1., 0.]) - 1.), jnp.float32)
  bias = bias[None, None, None, :]
  config = ml_collections.ConfigDict(
      {'num_head': 4, 'key_dim': 16, 'value_dim': 16, 'gating': True})

  def output(fused):
    gc = _global_config(fused)
    gc.zero_init = False
    return hk.transform(lambda q, m, b: Attention(config, gc, 16)(q, m, b))

  plain_fn, fused_fn = output(False), output(True)
  params = plain_fn.init(jax.random.PRNGKey(0), q_data, m_data, bias)
  # A gate that is not uniformly open, so its path matters too.
  params = jax.tree_util.tree_map(
      lambda x: x + 0.3 * jax.random.normal(jax.random.PRNGKey(1), x.shape),
      params)
  plain = plain_fn.apply(params, None, q_data, m_data, bias)
  fused = fused_fn.apply(params, None, q_data, m_data, bias)
  assert fused_calls == ['xla']
  assert golden_modules.relative_error(fused, plain) < _BOUNDS['float32']
  assert float(np.std(plain)) > 1e-2
