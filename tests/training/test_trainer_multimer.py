"""AlphaFold-Multimer training on the complexes set built by
train/build_pdb_dataset.py --complexes (1YJP's symmetry dimer and the 1BD2
heteromer): configs/multimer_tiny.py with the set of --data_dir trains two
steps with the trainer's metrics, and a run that lost its step-2
checkpoint resumes from step 1 and ends in the same state.

The model's loss calls the host (chain permutation alignment), and JAX does
not keep such programs in its persistent compilation cache: a second
process would compile the step again. So the runs share one process and
one compiled step.
"""
import logging
import os
import pathlib
import shutil
import subprocess
import sys

import chex
import numpy as np
import pytest

from alphafold_jax.data.datasets import build_report
from alphafold_jax.data.datasets import sources
from alphafold_jax.training import checkpoint as checkpoint_lib
from alphafold_jax.training import metrics as metrics_lib
from alphafold_jax.training import trainer
from alphafold_jax.training.config import load_config_file
from tests.data.datasets import complex_inputs

ROOT = pathlib.Path(__file__).parents[2]
NUM_STEPS = 2
RUN_TIMEOUT_S = 300
# The tiny multimer made smaller still: the run is about compilation.
OVERRIDES = {
    'data.train.crop_size': 16,
    'model.num_recycle': 0,
    'model.embeddings_and_evoformer.evoformer_num_block': 1,
    'model.heads.structure_module.num_layer': 1,
    'model.embeddings_and_evoformer.template.enabled': False,
    'train.batch_size': 1,
    'train.num_steps': NUM_STEPS,
    'train.checkpoint_every_steps': 1,
    'train.log_every_steps': 1,
}


def _run(command, log):
  env = dict(os.environ, PYTHONPATH=str(ROOT))
  with open(log, 'w') as f:
    result = subprocess.run(command, cwd=ROOT, env=env, stdout=f,
                            stderr=subprocess.STDOUT, timeout=RUN_TIMEOUT_S,
                            check=False)
  assert result.returncode == 0, pathlib.Path(log).read_text()[-3000:]


@pytest.fixture(scope='module')
def complex_data_dir(tmp_path_factory):
  root = tmp_path_factory.mktemp('complexes')
  structure_dir, alignment_dir = complex_inputs.make_inputs(
      root, ('1YJP.cif.gz', '1BD2.cif.gz'))
  data_dir = root / 'tfds'
  _run([sys.executable, str(ROOT / 'train' / 'build_pdb_dataset.py'),
        '--complexes', '--max_chains=5', '--min_length=5',
        f'--structure_dir={structure_dir}',
        f'--alignment_dir={alignment_dir}', f'--data_dir={data_dir}'],
       root / 'build.log')
  report = build_report.read(sources.dataset_dir(data_dir,
                                                 sources.COMPLEX_DATASET))
  assert report['kept'] == ['1bd2', '1yjp']
  return str(data_dir)


def _config(data_dir):
  config = load_config_file(ROOT / 'configs' / 'multimer_tiny.py')
  config.update_from_flattened_dict(OVERRIDES)
  trainer.set_data_dir(config, data_dir)
  return config


@pytest.fixture
def one_compiled_step(monkeypatch):
  """trainer.jit_train_step compiling once per config in this test."""
  compiled = {}
  real = trainer.jit_train_step

  def cached(config, optimizer, mesh):
    key = config.to_json()
    if key not in compiled:
      compiled[key] = real(config, optimizer, mesh)
    return compiled[key]

  monkeypatch.setattr(trainer, 'jit_train_step', cached)
  return compiled


def _restore(workdir, step):
  checkpointer = checkpoint_lib.Checkpointer(workdir)
  state, data_state = checkpointer.restore(None, step=step)
  checkpointer.close()
  return state, data_state


def test_trains_on_complexes_and_resumes_exactly(complex_data_dir,
                                                 one_compiled_step,
                                                 tmp_path, caplog):
  uninterrupted = tmp_path / 'uninterrupted'
  trainer.train(_config(complex_data_dir), str(uninterrupted),
                progress_bar=False)
  records = metrics_lib.read_metrics(uninterrupted)
  assert [r['step'] for r in records] == [1, 2]
  for record in records:
    assert record['skipped'] == 0
    for key in ('loss', 'lddt_ca', 'intra_chain_fape', 'interface_fape',
                'chain_centre_mass_loss', 'masked_msa_loss', 'grad_norm',
                'learning_rate', 'step_time'):
      assert np.isfinite(record[key]), key
  saved = checkpoint_lib.load_config(uninterrupted)
  assert saved.dataset.complex_data_dir == complex_data_dir

  # Stopped after step 1: its step-2 checkpoint never written.
  resumed = tmp_path / 'resumed'
  shutil.copytree(uninterrupted, resumed)
  shutil.rmtree(resumed / checkpoint_lib.CHECKPOINT_DIR / str(NUM_STEPS))
  with caplog.at_level(logging.INFO):
    trainer.train(_config(complex_data_dir), str(resumed),
                  progress_bar=False)
  assert 'Resumed from step 1 ' in caplog.text
  assert len(one_compiled_step) == 1
  expected, expected_data = _restore(uninterrupted, NUM_STEPS)
  state, data_state = _restore(resumed, NUM_STEPS)
  assert data_state == expected_data == {'next_index': NUM_STEPS}
  # Same examples through the same compiled step: bit for bit.
  chex.assert_trees_all_equal(state, expected)


def test_data_dir_points_each_config_at_its_sets(tmp_path):
  multimer = load_config_file(ROOT / 'configs' / 'multimer_tiny.py')
  with pytest.raises(ValueError, match='complex_data_dir'):
    trainer.make_training_data(multimer)
  trainer.set_data_dir(multimer, str(tmp_path))
  assert multimer.dataset.complex_data_dir == str(tmp_path)
  assert not multimer.dataset.pdb_data_dir
  monomer = load_config_file(ROOT / 'configs' / 'tiny.py')
  trainer.set_data_dir(monomer, str(tmp_path))
  assert monomer.dataset.pdb_data_dir == str(tmp_path)
  assert not monomer.dataset.distillation_data_dir
  os.makedirs(sources.dataset_dir(str(tmp_path),
                                  sources.DISTILLATION_DATASET))
  trainer.set_data_dir(monomer, str(tmp_path))
  assert monomer.dataset.distillation_data_dir == str(tmp_path)
