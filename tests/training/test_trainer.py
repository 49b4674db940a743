"""The loop on a real protein: the loss falls, and a run killed between
checkpoints and resumed reaches the same state as one never interrupted."""
import shutil

import chex
import numpy as np
import pytest

from alphafold_jax.training import checkpoint as checkpoint_lib
from alphafold_jax.training import metrics as metrics_lib
from alphafold_jax.training import trainer

from tests.training.conftest import PROTEIN
from tests.training.conftest import tiny_config

NUM_STEPS = 30
CHECKPOINT_EVERY = 4
# Steps averaged at each end of the run to compare losses (crops and
# recycling counts vary from step to step).
WINDOW = 6


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


def test_loss_falls_and_a_resumed_run_matches(tmp_path):
  uninterrupted = tmp_path / 'uninterrupted'
  trainer.train(_config(NUM_STEPS), str(uninterrupted), progress_bar=False)
  records = metrics_lib.read_metrics(uninterrupted)
  losses = [r['loss'] for r in records]
  assert [r['step'] for r in records] == list(range(1, NUM_STEPS + 1))
  assert np.mean(losses[-WINDOW:]) < np.mean(losses[:WINDOW])

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


def test_the_config_sets_one_kind_of_data():
  config = tiny_config()
  with pytest.raises(ValueError, match='sets no data'):
    trainer.make_training_data(config)
  config.dataset.pdb_files = (str(PROTEIN),)
  config.dataset.pdb_data_dir = '/data/tfds'
  with pytest.raises(ValueError, match='both'):
    trainer.make_training_data(config)
