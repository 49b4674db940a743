"""LayerStack: stacked parameters with independent per-layer draws, scanned."""
import haiku as hk
import jax
import jax.numpy as jnp
import numpy as np

from alphafold_jax.model.layers.layer_stack import layer_stack
from alphafold_jax.model.layers.linear import Linear
from alphafold_jax.model.layers.linear import TRUNCATED_NORMAL_STDDEV_FACTOR

_LAYERS = 6
_WIDTH = 64


def _forward(x, unroll=False):
  def block(h):
    h = Linear(_WIDTH, 'relu', name='relu_layer')(h)
    w = hk.get_parameter('glorot_w', (_WIDTH, _WIDTH), jnp.float32,
                         hk.initializers.VarianceScaling(1., 'fan_avg',
                                                         'uniform'))
    return jax.nn.relu(h) @ w
  return layer_stack(_LAYERS, block, x, unroll=unroll)


def _init():
  model = hk.transform(_forward)
  x = jnp.ones((3, _WIDTH))
  return model, x, model.init(jax.random.PRNGKey(0), x)


def test_every_parameter_is_stacked_with_independent_layers():
  _, _, params = _init()
  scope = '__layer_stack_no_state/relu_layer'
  weights = np.asarray(params[scope]['weights'])
  assert weights.shape == (_LAYERS, _WIDTH, _WIDTH)
  np.testing.assert_array_equal(params[scope]['bias'], 0.)
  glorot = np.asarray(params['__layer_stack_no_state']['glorot_w'])
  assert glorot.shape == (_LAYERS, _WIDTH, _WIDTH)
  for stacked in (weights, glorot):
    flat = stacked.reshape(_LAYERS, -1)
    correlation = np.corrcoef(flat)
    off_diagonal = correlation[~np.eye(_LAYERS, dtype=bool)]
    assert np.max(np.abs(off_diagonal)) < 0.1


def test_per_layer_distributions_follow_the_initialisers():
  _, _, params = _init()
  weights = np.asarray(params['__layer_stack_no_state/relu_layer']['weights'])
  # He init: truncated normal with stddev sqrt(2 / fan_in), cut at 2 sigma.
  stddev = np.sqrt(2. / _WIDTH)
  for layer in weights:
    np.testing.assert_allclose(np.std(layer), stddev, rtol=0.05)
    bound = 2 * stddev / TRUNCATED_NORMAL_STDDEV_FACTOR
    assert np.max(np.abs(layer)) <= bound * (1 + 1e-6)
  glorot = np.asarray(params['__layer_stack_no_state']['glorot_w'])
  limit = np.sqrt(3. / _WIDTH)  # uniform, fan_avg = WIDTH
  for layer in glorot:
    assert np.max(np.abs(layer)) <= limit
    np.testing.assert_allclose(np.std(layer), limit / np.sqrt(3.), rtol=0.05)


def test_scan_applies_each_layer_with_its_own_weights():
  model, x, params = _init()
  out = model.apply(params, None, x)
  h = x
  for i in range(_LAYERS):
    layer = params['__layer_stack_no_state/relu_layer']
    h = h @ layer['weights'][i] + layer['bias'][i]
    h = jax.nn.relu(h) @ params['__layer_stack_no_state']['glorot_w'][i]
  np.testing.assert_allclose(out, h, rtol=1e-5, atol=1e-5)


def test_unrolled_stack_equals_the_loop_and_has_no_loop():
  model, x, params = _init()
  unrolled = hk.transform(lambda h: _forward(h, unroll=True))
  np.testing.assert_allclose(unrolled.apply(params, None, x),
                             model.apply(params, None, x), rtol=1e-6)
  # Lowered, the loop is gone (the layers are straight-line code).
  def hlo(m):
    return jax.jit(m.apply).lower(params, None, x).as_text()
  assert 'while' in hlo(model)
  assert 'while' not in hlo(unrolled)
