"""The learning rate schedule and Adam of Suppl. 1.11.3."""
import jax.numpy as jnp
import ml_collections
import numpy as np

from alphafold_jax.training import config as config_lib
from alphafold_jax.training import optimizer as optimizer_lib

PEAK = 1e-3


def _config(warmup_steps=config_lib.WARMUP_STEPS):
  return ml_collections.ConfigDict({
      'learning_rate': PEAK, 'b1': config_lib.ADAM_B1,
      'b2': config_lib.ADAM_B2, 'eps': config_lib.ADAM_EPS,
      'warmup_steps': warmup_steps,
      'decay_every_steps': config_lib.DECAY_EVERY_STEPS,
      'decay_factor': config_lib.DECAY_FACTOR})


def test_schedule_warms_up_linearly_then_decays_stepwise():
  lr = optimizer_lib.learning_rate_schedule(_config())
  np.testing.assert_allclose(lr(0), PEAK / 1000, rtol=1e-6)
  np.testing.assert_allclose(lr(499), PEAK / 2, rtol=1e-6)
  np.testing.assert_allclose(lr(999), PEAK, rtol=1e-6)
  np.testing.assert_allclose(lr(49999), PEAK, rtol=1e-6)
  np.testing.assert_allclose(lr(50000), PEAK * 0.95, rtol=1e-6)
  np.testing.assert_allclose(lr(120000), PEAK * 0.95**2, rtol=1e-6)


def test_schedule_without_warmup_starts_at_peak():
  lr = optimizer_lib.learning_rate_schedule(_config(warmup_steps=0))
  np.testing.assert_allclose(lr(0), PEAK, rtol=1e-6)


def test_first_adam_step_moves_each_weight_by_the_learning_rate():
  config = _config(warmup_steps=0)
  optimizer = optimizer_lib.make_optimizer(config)
  params = {'w': jnp.zeros(3)}
  state = optimizer.init(params)
  grads = {'w': jnp.array([2., -0.5, 1e-3])}
  updates, state = optimizer.update(grads, state, params)
  # Bias-corrected first Adam step: -lr * g / (|g| + eps).
  expected = -PEAK * grads['w'] / (jnp.abs(grads['w']) + config.eps)
  np.testing.assert_allclose(updates['w'], expected, rtol=1e-5)
  assert int(optimizer_lib.applied_updates(state)) == 1
