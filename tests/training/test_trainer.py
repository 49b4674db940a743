"""The loop on a real protein: the loss falls, and a run killed between
checkpoints and resumed reaches the same state as one never interrupted;
--init_params starts a run and is ignored by a resumed one."""
import re
import shutil

import chex
import jax
import numpy as np
import pytest

from alphafold_jax.model import params as params_lib
from alphafold_jax.training import checkpoint as checkpoint_lib
from alphafold_jax.training import metrics as metrics_lib
from alphafold_jax.training import optimizer as optimizer_lib
from alphafold_jax.training import trainer

from tests.training.conftest import PROTEIN
from tests.training.conftest import tiny_config

NUM_STEPS = 30
CHECKPOINT_EVERY = 4
# Steps averaged at each end of the run to compare losses (crops and
# recycling counts vary from step to step).
WINDOW = 6
# How far the last window's mean must improve on the first's (3A4R chain A,
# tiny preset, float32 and bfloat16 alike: loss 12.3 -> 7.9, lDDT-Cα
# 0.03 -> 0.11).
LOSS_FALLS = 0.8
LDDT_RISES = 0.04


def _config(num_steps):
  config = tiny_config(num_steps=num_steps, batch_size=2,
                       checkpoint_every_steps=CHECKPOINT_EVERY,
                       keep_checkpoints=NUM_STEPS)
  config.dataset.pdb_files = (str(PROTEIN),)
  config.dataset.chains = ('A',)
  return config


def _restore(workdir, step):
  checkpointer = checkpoint_lib.Checkpointer(workdir)
  state, data_state = checkpointer.restore(None, step=step)
  checkpointer.close()
  return state, data_state


def _assert_it_learns(workdir):
  """Every step of the run in workdir logged and none skipped; the mean
  loss of its last WINDOW steps is below LOSS_FALLS times that of its
  first, and their mean lDDT-Cα above the first's by LDDT_RISES."""
  records = metrics_lib.read_metrics(workdir)
  assert [r['step'] for r in records] == list(range(1, NUM_STEPS + 1))
  assert not any(r['skipped'] for r in records)
  first, last = records[:WINDOW], records[-WINDOW:]
  mean = lambda rs, key: np.mean([r[key] for r in rs])
  assert mean(last, 'loss') < LOSS_FALLS * mean(first, 'loss')
  assert mean(last, 'lddt_ca') > mean(first, 'lddt_ca') + LDDT_RISES


def test_loss_falls_and_a_resumed_run_matches(tmp_path):
  uninterrupted = tmp_path / 'uninterrupted'
  trainer.train(_config(NUM_STEPS), str(uninterrupted), progress_bar=False)
  _assert_it_learns(uninterrupted)

  # A run killed after step 10: its last checkpoint is step 8.
  killed = tmp_path / 'killed'
  trainer.train(_config(10), str(killed), progress_bar=False)
  shutil.rmtree(killed / checkpoint_lib.CHECKPOINT_DIR / '10')
  resume_step = 3 * CHECKPOINT_EVERY
  trainer.train(_config(resume_step), str(killed), progress_bar=False)

  expected, expected_data = _restore(uninterrupted, resume_step)
  resumed, resumed_data = _restore(killed, resume_step)
  assert resumed_data == expected_data == {'position': resume_step}
  chex.assert_trees_all_equal(resumed, expected)


def test_tiny_preset_fits_in_bfloat16(tmp_path):
  """bfloat16 training (bfloat16 trunk, float32 parameters, structure
  module and losses) learns as float32 does with every step's loss and
  gradient finite (none skipped), and the state stays float32
  (test_train_step.py checks which parts compute in which dtype)."""
  config = _config(NUM_STEPS)
  config.model.global_config.bfloat16 = True
  state = trainer.train(config, str(tmp_path), progress_bar=False)
  _assert_it_learns(tmp_path)
  for field in ('params', 'opt_state', 'ema_params'):
    floats = {x.dtype for x in jax.tree_util.tree_leaves(
        getattr(state, field)) if np.issubdtype(x.dtype, np.floating)}
    assert floats == {np.dtype(np.float32)}, field


def test_the_config_sets_one_kind_of_data():
  config = tiny_config()
  with pytest.raises(ValueError, match='sets no data'):
    trainer.make_training_data(config)
  config.dataset.pdb_files = (str(PROTEIN),)
  config.dataset.pdb_data_dir = '/data/tfds'
  with pytest.raises(ValueError, match='both'):
    trainer.make_training_data(config)


def _params_file(path, config, seed):
  """A released-format file of random weights shaped for `config`'s net."""
  rng = np.random.default_rng(seed)
  flat = {k: rng.standard_normal(s).astype(np.float32)
          for k, s in params_lib.param_shapes(config).items()}
  np.savez(path, **flat)
  return flat


def _flat(params):
  return {k: np.asarray(v)
          for k, v in params_lib.haiku_to_flat(jax.device_get(params)).items()}


def test_init_params_are_checked_and_ignored_once_a_checkpoint_exists(
    tmp_path):
  """--init_params: the state starts from the file (EMA too); a file that
  does not fit the network is refused, naming the array; a workdir that
  already holds a checkpoint resumes from it and never reads the file."""
  config = _config(1)
  data = trainer.make_training_data(config)
  optimizer = optimizer_lib.make_optimizer(config.optimizer)
  released = _params_file(tmp_path / 'released.npz', config, seed=0)
  state = trainer.initial_state(config, data.example(0), optimizer,
                                jax.random.PRNGKey(0),
                                str(tmp_path / 'released.npz'))
  chex.assert_trees_all_equal(_flat(state.params), released)
  chex.assert_trees_all_equal(_flat(state.ema_params), released)

  key = sorted(released)[0]
  wrong = dict(released, **{key: released[key][..., :1]})
  np.savez(tmp_path / 'wrong.npz', **wrong)
  with pytest.raises(ValueError, match='wrong shape: ' + re.escape(key)):
    trainer.initial_state(config, data.example(0), optimizer,
                          jax.random.PRNGKey(0), str(tmp_path / 'wrong.npz'))

  # A run that has taken its one step: resuming it takes none.
  workdir = tmp_path / 'run'
  checkpointer = checkpoint_lib.Checkpointer(workdir)
  checkpointer.save(1, state._replace(step=jax.numpy.asarray(1)),
                    data.get_state())
  checkpointer.close()
  other = _params_file(tmp_path / 'other.npz', config, seed=1)
  resumed = trainer.train(config, str(workdir),
                          init_params_path=str(tmp_path / 'other.npz'),
                          progress_bar=False)
  assert int(resumed.step) == 1
  chex.assert_trees_all_equal(_flat(resumed.params), released)
  assert not np.array_equal(other[key], released[key])
