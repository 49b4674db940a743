"""The TrainState pytree and the parameter EMA (Suppl. 1.11.7)."""
import jax
import jax.numpy as jnp
import ml_collections
import numpy as np

from alphafold_jax.training import optimizer as optimizer_lib
from alphafold_jax.training import train_state


def _optimizer():
  return optimizer_lib.make_optimizer(ml_collections.ConfigDict({
      'learning_rate': 1e-3, 'b1': 0.9, 'b2': 0.999, 'eps': 1e-6,
      'warmup_steps': 0, 'decay_every_steps': 10, 'decay_factor': 0.5}))


def test_create_train_state_starts_ema_from_params():
  params = {'layer': {'w': np.ones((2, 3), np.float32)}}
  state = train_state.create_train_state(params, _optimizer(),
                                         jax.random.PRNGKey(0))
  assert int(state.step) == 0 and int(state.num_skipped) == 0
  np.testing.assert_array_equal(state.ema_params['layer']['w'],
                                params['layer']['w'])
  # A pytree: every leaf is an array (what orbax saves).
  assert all(isinstance(x, jax.Array)
             for x in jax.tree_util.tree_leaves(state))


def test_ema_update_moves_a_thousandth_of_the_way():
  ema = {'w': jnp.zeros(3)}
  params = {'w': jnp.full(3, 2.)}
  new = train_state.ema_update(ema, params, 0.999)
  np.testing.assert_allclose(new['w'], 0.002, rtol=1e-5)
  np.testing.assert_array_equal(ema['w'], 0.)  # inputs untouched
