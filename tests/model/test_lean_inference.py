"""The inference paths that keep pair-sized intermediates out of memory give
the plain path's result, and plan less memory than it.

With chunking on (`global_config.subbatch_size`) the triangle
multiplication builds its product a chunk of channels at a time from rows
normed anew, and the template attention takes each template's embedding as
it is made (an online softmax) instead of stacking them all. Both are
checked in float64 against the same module with chunking off, on sizes that
the chunks do not tile, and their compiled plans against the plain one's.
"""
import haiku as hk
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from alphafold_jax.model.trunk.template import TemplateEmbedding
from alphafold_jax.model.trunk.triangle import TriangleMultiplication
from tests.model import golden_modules

CFG = golden_modules.small_config().model
EVO = CFG.embeddings_and_evoformer


def _global_config(subbatch_size):
  gc = CFG.global_config.copy_and_resolve_references()
  gc.subbatch_size = subbatch_size
  gc.zero_init = False  # non-zero output projections, so the outputs differ
  return gc


def _triangle(equation, channels, subbatch_size):
  config = EVO.evoformer.triangle_multiplication_outgoing.copy_and_resolve_references()
  config.equation = equation
  config.num_intermediate_channel = channels
  gc = _global_config(subbatch_size)
  return hk.transform(lambda pair, mask: TriangleMultiplication(
      config, gc, name='triangle_multiplication')(pair, mask))


def _pair_inputs(num_res, channels, dtype):
  rng = np.random.default_rng(0)
  pair = rng.normal(size=(num_res, num_res, channels)).astype(dtype)
  mask = (rng.uniform(size=(num_res, num_res)) > 0.2).astype(dtype)
  return pair, mask


@pytest.mark.parametrize('equation', ['ikc,jkc->ijc', 'kjc,kic->ijc'])
@pytest.mark.parametrize('subbatch_size', [1, 3])
def test_triangle_multiplication_in_chunks_matches_plain(equation,
                                                         subbatch_size):
  # 13 rows in chunks of 2 (13 / 8 rounded up) or 3; 12 channels in chunks
  # of 2: neither tiles evenly into the loops' last chunk.
  pair, mask = _pair_inputs(13, 6, np.float64)
  with jax.enable_x64(True):
    plain = _triangle(equation, 12, None)
    params = plain.init(jax.random.PRNGKey(0), pair, mask)
    expected = plain.apply(params, None, pair, mask)
    out = jax.jit(_triangle(equation, 12, subbatch_size).apply)(
        params, None, pair, mask)
  assert out.shape == expected.shape and out.dtype == expected.dtype
  assert float(jnp.max(jnp.abs(expected))) > 1e-2
  np.testing.assert_allclose(out, expected, rtol=1e-11, atol=1e-11)


def _temp_bytes(transformed, *args) -> int:
  params = jax.eval_shape(transformed.init, jax.random.PRNGKey(0), *args)
  compiled = jax.jit(transformed.apply).lower(params, None, *args).compile()
  return compiled.memory_analysis().temp_size_in_bytes


def test_triangle_multiplication_in_chunks_plans_less():
  """The plain module holds the normed input, both gated projections and
  the product whole (pair-sized each); in chunks only the product is."""
  pair, mask = _pair_inputs(128, 64, np.float32)
  pair_bytes = pair.nbytes
  plain = _temp_bytes(_triangle('ikc,jkc->ijc', 64, None), pair, mask)
  chunked = _temp_bytes(_triangle('ikc,jkc->ijc', 64, 4), pair, mask)
  assert plain > 3 * pair_bytes
  assert chunked < 2 * pair_bytes
  assert chunked < 0.5 * plain


def _template_inputs(num_res, num_templates, dtype, template_mask):
  rng = np.random.default_rng(1)
  c_z = EVO.pair_channel
  positions = rng.normal(scale=5., size=(num_templates, num_res, 37, 3))
  return (rng.normal(size=(num_res, num_res, c_z)).astype(dtype), {
      'template_aatype': rng.integers(0, 21, size=(num_templates, num_res)),
      'template_all_atom_positions': positions.astype(dtype),
      'template_all_atom_masks': (
          rng.uniform(size=(num_templates, num_res, 37)) > 0.1).astype(dtype),
      'template_pseudo_beta': positions[:, :, 1].astype(dtype),
      'template_pseudo_beta_mask': (
          rng.uniform(size=(num_templates, num_res)) > 0.1).astype(dtype),
      'template_mask': np.asarray(template_mask, dtype),
  }, (rng.uniform(size=(num_res, num_res)) > 0.1).astype(dtype))


def _templates(subbatch_size):
  gc = _global_config(subbatch_size)
  config = EVO.template.copy_and_resolve_references()
  return hk.transform(lambda query, batch, mask: TemplateEmbedding(
      config, gc)(query, batch, mask, is_training=False))


@pytest.mark.parametrize('template_mask', [[1., 0., 1.], [0., 1., 1.],
                                           [0., 0., 0.]])
def test_template_attention_online_matches_plain(template_mask):
  """Over the templates as they come (an online softmax), a masked
  template among them or first; with none, no update."""
  query, batch, mask = _template_inputs(11, 3, np.float64, template_mask)
  with jax.enable_x64(True):
    plain = _templates(None)
    params = plain.init(jax.random.PRNGKey(0), query, batch, mask)
    expected = plain.apply(params, None, query, batch, mask)
    out = jax.jit(_templates(3).apply)(params, None, query, batch, mask)
  assert out.shape == expected.shape and out.dtype == expected.dtype
  if any(template_mask):
    assert float(jnp.max(jnp.abs(expected))) > 1e-2
  else:
    assert not np.any(np.asarray(out))
  np.testing.assert_allclose(out, expected, rtol=1e-11, atol=1e-11)


def test_template_attention_online_plans_less():
  """The plain attention holds every template's embedding [N * N, 4, c_t];
  the online one a running state about one embedding's size."""
  query, batch, mask = _template_inputs(96, 4, np.float32, [1.] * 4)
  num_channels = EVO.template.template_pair_stack.triangle_attention_ending_node.value_dim
  all_embeddings = 96 * 96 * 4 * num_channels * 4
  plain = _temp_bytes(_templates(None), query, batch, mask)
  online = _temp_bytes(_templates(4), query, batch, mask)
  assert plain > all_embeddings
  assert online < plain - 0.5 * all_embeddings
