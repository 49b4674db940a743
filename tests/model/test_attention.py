"""The fused attention path (global_config.fused_attention,
jax.nn.dot_product_attention) against the plain one, on the CPU; the plain
path's head blocks (attention_core, head_block) against one block and a
textbook softmax."""
import haiku as hk
import jax
import jax.numpy as jnp
import ml_collections
import numpy as np
import pytest

from alphafold_jax.model.layers import attention as attention_lib
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


def _textbook_attention(q, k, v, bias, nonbatched_bias):
  """softmax(q k^T + biases) v, the weights normalised before the product."""
  logits = jnp.einsum('bqhc,bkhc->bhqk', q, k) + bias + nonbatched_bias[None]
  return jnp.einsum('bhqk,bkhc->bqhc', jax.nn.softmax(logits), v)


@pytest.mark.parametrize('per_head_bias', [False, True])
def test_head_blocks_equal_one_block_and_the_textbook_softmax(per_head_bias):
  """Every divisor of the heads gives the same values (float64), equal to
  the softmax normalised before the product (batch 1 has padded keys,
  batch 2 only padded keys)."""
  rng = np.random.default_rng(0)
  b, q_len, k_len, h, c = 3, 5, 6, 4, 2
  with jax.enable_x64(True):
    q, k = (jnp.asarray(rng.normal(size=(b, n, h, c)))
            for n in (q_len, k_len))
    v = jnp.asarray(rng.normal(size=(b, k_len, h, 3)))
    mask = np.ones((b, k_len))
    mask[1, 2:] = 0.
    mask[2, :] = 0.
    bias = 1e9 * (mask - 1.)[:, None, None, :]
    if per_head_bias:
      bias = bias + rng.normal(size=(b, h, q_len, k_len))
    bias = jnp.asarray(bias)
    nonbatched = jnp.asarray(rng.normal(size=(h, q_len, k_len)))
    expected = _textbook_attention(q, k, v, bias, nonbatched)
    for heads_per_step in (1, 2, 4):
      out = attention_lib.attention_core(q, k, v, bias, nonbatched,
                                         heads_per_step)
      assert out.shape == (b, q_len, h, 3) and out.dtype == jnp.float64
      np.testing.assert_allclose(out, expected, rtol=1e-12, atol=1e-12)


def test_head_block_keeps_the_logits_within_the_block_bytes(monkeypatch):
  q = jnp.zeros((4, 32, 8, 2), jnp.float32)
  k = jnp.zeros((4, 16, 8, 2), jnp.float32)
  per_head = 4 * 32 * 16 * 4  # B * Q * K * 4 bytes
  for block, heads in [(8 * per_head, 8), (100 * per_head, 8),
                       (7 * per_head, 4), (2 * per_head, 2),
                       (per_head + 1, 1), (per_head // 3, 1)]:
    monkeypatch.setattr(attention_lib, 'CPU_LOGITS_BLOCK_BYTES', block)
    assert attention_lib.head_block(q, k) == heads
  # No rows (an empty extra MSA): one step.
  assert attention_lib.head_block(q[:0], k[:0]) == 8


def test_attention_in_head_blocks_equals_one_block(monkeypatch):
  """The module, gated, with random weights: one head per step (a block
  size below one head's logits) against all heads at once."""
  rng = np.random.default_rng(1)
  q_data = jnp.asarray(rng.normal(size=(3, 6, 16)), jnp.float32)
  bias = jnp.asarray(1e9 * (rng.random((3, 1, 1, 6)) > 0.3) - 1e9,
                     jnp.float32)
  nonbatched = jnp.asarray(rng.normal(size=(4, 6, 6)), jnp.float32)
  config = ml_collections.ConfigDict(
      {'num_head': 4, 'key_dim': 16, 'value_dim': 16, 'gating': True})
  gc = _global_config(False)
  gc.zero_init = False
  fn = hk.transform(lambda q, b, nb: Attention(config, gc, 16)(q, q, b, nb))
  params = fn.init(jax.random.PRNGKey(0), q_data, bias, nonbatched)
  whole = fn.apply(params, None, q_data, bias, nonbatched)
  monkeypatch.setattr(attention_lib, 'CPU_LOGITS_BLOCK_BYTES', 1)
  blocked = fn.apply(params, None, q_data, bias, nonbatched)
  assert golden_modules.relative_error(blocked, whole) < _BOUNDS['float32']
  assert float(np.std(whole)) > 1e-2
