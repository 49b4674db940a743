"""The inference paths that keep pair-sized intermediates out of memory give
the plain path's result, and plan less memory than it.

With chunking on (`global_config.subbatch_size`) the triangle
multiplication builds its product a chunk of channels at a time from rows
normed anew, the template attention takes each template's embedding as it
is made (an online softmax) instead of stacking them all, and the distogram
and PAE heads make their logits a block of rows at a time. Each is checked
in float64 against the same module with chunking off, on sizes that the
chunks do not tile, and their compiled plans against the plain one's.
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


def _pair_head(head, subbatch_size, is_training=False):
  from alphafold_jax.model import heads  # pylint: disable=g-import-not-at-top
  module = {'distogram': heads.DistogramHead,
            'predicted_aligned_error': heads.PredictedAlignedErrorHead}[head]
  gc = _global_config(subbatch_size)
  config = CFG.heads[head]
  return hk.transform(lambda pair: module(config, gc)(
      {'pair': pair}, None, is_training)['logits'])


@pytest.mark.parametrize('head', ['distogram', 'predicted_aligned_error'])
def test_pair_heads_in_row_blocks_match_plain(head):
  """At inference with chunking the [N, N, bins] logits are made a block of
  rows at a time; the distogram's symmetric sum reads the same residues'
  columns. 13 rows in blocks of 2 (13 / 8 rounded up): the last block
  overlaps its predecessor."""
  rng = np.random.default_rng(1)
  pair = rng.normal(size=(13, 13, EVO.pair_channel))
  with jax.enable_x64(True):
    plain = _pair_head(head, None)
    params = plain.init(jax.random.PRNGKey(0), pair)
    # Non-zero weights ('zeros' init): random ones.
    params = jax.tree_util.tree_map(
        lambda p: jnp.asarray(rng.normal(size=p.shape)), params)
    expected = plain.apply(params, None, pair)
    out = jax.jit(_pair_head(head, 1).apply)(params, None, pair)
    # Training never chunks: the plain path.
    trained = jax.jit(_pair_head(head, 1, is_training=True).apply)(
        params, None, pair)
  assert out.shape == expected.shape == (13, 13, CFG.heads[head].num_bins)
  assert np.max(np.abs(np.asarray(expected))) > 1.
  np.testing.assert_allclose(out, expected, rtol=1e-12, atol=1e-12)
  np.testing.assert_array_equal(trained, expected)
  if head == 'distogram':
    np.testing.assert_allclose(out, np.swapaxes(out, 0, 1), rtol=1e-12)


def test_distogram_in_row_blocks_plans_less():
  """Beside its output, the plain head holds the half logits whole (a
  logits-sized temporary); in blocks of rows, only a block's (measured
  0.28 of the logits' size at 128 residues in blocks of 16)."""
  pair = np.zeros((128, 128, EVO.pair_channel), np.float32)
  logits_bytes = 128 * 128 * CFG.heads.distogram.num_bins * 4
  assert _temp_bytes(_pair_head('distogram', None), pair) >= logits_bytes
  assert _temp_bytes(_pair_head('distogram', 4), pair) < 0.5 * logits_bytes
