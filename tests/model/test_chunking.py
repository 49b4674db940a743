"""chunked_apply: a chunk at a time gives the one-call result, for chunks
that tile the axis and for a last chunk that does not fit."""
import haiku as hk
import jax
import numpy as np
import pytest

from alphafold_jax.model.layers.chunking import chunked_apply
from alphafold_jax.model.layers.linear import Linear


def _rowwise(chunk_size, in_place):
  """x [n, 3, 4], scale [n, 1, 1], shift [4] -> [n, 3, 4], row by row."""

  def fn(x, scale, shift):
    def f(x, scale, shift):
      return Linear(4, 'linear', name='proj')(x) * scale + shift
    return chunked_apply(f, chunk_size, [x, scale], [shift], in_place=in_place)

  return hk.transform(fn)


@pytest.mark.parametrize('in_place', [False, True])
@pytest.mark.parametrize('chunk_size', [1, 5, 4, 7])
def test_chunks_give_the_one_call_result(chunk_size, in_place):
  rng = np.random.default_rng(0)
  x = rng.normal(size=(10, 3, 4))
  scale = rng.normal(size=(10, 1, 1))
  shift = rng.normal(size=(4,))
  with jax.enable_x64(True):
    params = _rowwise(None, False).init(jax.random.PRNGKey(0), x, scale, shift)
    expected = _rowwise(None, False).apply(params, None, x, scale, shift)
    out = jax.jit(_rowwise(chunk_size, in_place).apply)(params, None, x, scale,
                                                         shift)
  assert out.shape == expected.shape and out.dtype == expected.dtype
  np.testing.assert_allclose(out, expected, rtol=1e-12, atol=1e-12)
