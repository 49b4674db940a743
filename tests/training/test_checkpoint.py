"""Orbax checkpoints: round trip, keep-last-N, atomicity, params for
inference, the saved config."""
import jax
import jax.numpy as jnp
import ml_collections
import numpy as np

from alphafold_jax.training import checkpoint as checkpoint_lib
from alphafold_jax.training import optimizer as optimizer_lib
from alphafold_jax.training import train_state


def _state(value):
  optimizer = optimizer_lib.make_optimizer(ml_collections.ConfigDict({
      'learning_rate': 1e-3, 'b1': 0.9, 'b2': 0.999, 'eps': 1e-6,
      'warmup_steps': 0, 'decay_every_steps': 10, 'decay_factor': 0.5}))
  # Haiku-style module paths hold slashes.
  params = {'alphafold/linear': {'w': jnp.full((2, 3), value)},
            'alphafold/norm': {'scale': jnp.arange(4.)}}
  state = train_state.create_train_state(params, optimizer,
                                         jax.random.PRNGKey(7))
  return state._replace(
      step=jnp.asarray(value, jnp.int32),
      ema_params=jax.tree_util.tree_map(lambda x: x * 0.5, params))


def _abstract(state):
  return jax.tree_util.tree_map(
      lambda x: jax.ShapeDtypeStruct(x.shape, x.dtype), state)


def test_round_trip_keeps_every_leaf_and_the_data_position(tmp_path):
  checkpointer = checkpoint_lib.Checkpointer(tmp_path)
  state = _state(3)
  checkpointer.save(3, state, {'position': 11})
  restored, data_state = checkpointer.restore(_abstract(state))
  checkpointer.close()
  assert data_state == {'position': 11}
  assert isinstance(restored, train_state.TrainState)
  for a, b in zip(jax.tree_util.tree_leaves(state),
                  jax.tree_util.tree_leaves(restored)):
    np.testing.assert_array_equal(np.asarray(a), np.asarray(b))


def test_saves_every_k_steps_and_keeps_the_last_n(tmp_path):
  checkpointer = checkpoint_lib.Checkpointer(tmp_path, every_steps=2, keep=2)
  saved = [checkpointer.maybe_save(s, _state(s), {'position': s})
           for s in range(1, 8)]
  assert saved == [False, True, False, True, False, True, False]
  assert checkpointer.all_steps() == [4, 6]
  checkpointer.close()


def test_an_unfinished_write_leaves_the_previous_checkpoint(tmp_path):
  checkpointer = checkpoint_lib.Checkpointer(tmp_path)
  checkpointer.save(2, _state(2), {'position': 2})
  checkpointer.close()
  # What a crash during the write of step 4 leaves: orbax's temporary
  # directory, never renamed to its final name.
  partial = checkpointer.directory / '4.orbax-checkpoint-tmp-1700000000'
  (partial / 'state').mkdir(parents=True)
  (partial / 'state' / 'garbage').write_bytes(b'\0' * 16)
  reopened = checkpoint_lib.Checkpointer(tmp_path)
  assert reopened.latest_step() == 2
  restored, data_state = reopened.restore(_abstract(_state(2)))
  assert int(restored.step) == 2 and data_state == {'position': 2}
  reopened.close()


def test_load_params_from_workdir_returns_ema_or_raw_params(tmp_path):
  checkpointer = checkpoint_lib.Checkpointer(tmp_path)
  checkpointer.save(1, _state(1), {'position': 1})
  checkpointer.save(5, _state(5), {'position': 5})
  checkpointer.close()
  ema = checkpoint_lib.load_params_from_workdir(tmp_path)
  raw = checkpoint_lib.load_params_from_workdir(tmp_path, step=1, ema=False)
  np.testing.assert_array_equal(ema['alphafold/linear']['w'], 2.5)
  np.testing.assert_array_equal(raw['alphafold/linear']['w'], 1.)
  assert isinstance(ema['alphafold/norm']['scale'], np.ndarray)


def test_config_round_trip(tmp_path):
  config = ml_collections.ConfigDict({
      'train': {'num_steps': 3, 'learning_rate': 1e-3, 'name': 'tiny'},
      'dataset': {'pdb_data_dir': '', 'pdb_files': ['a.pdb']},
      'model': {'num_recycle': None, 'deterministic': False}})
  checkpoint_lib.save_config(tmp_path, config)
  config.train.num_steps = 5
  # A later start replaces the saved config.
  checkpoint_lib.save_config(tmp_path, config)
  loaded = checkpoint_lib.load_config(tmp_path)
  assert loaded.to_dict() == config.to_dict()
  assert isinstance(loaded.train.learning_rate, float)
