"""train/train.py on the built PDB and self-distillation sets, killed
(SIGKILL) between two checkpoints and run again: it ends with the
parameters, and the data stream's position, of a run never interrupted."""
import os
import pathlib
import signal
import subprocess
import sys
import time

import chex

from alphafold_jax.data.datasets import loader
from alphafold_jax.training import checkpoint as checkpoint_lib
from alphafold_jax.training import metrics as metrics_lib
from alphafold_jax.training import trainer

ROOT = pathlib.Path(__file__).parents[3]
# Long enough that the killed run is still training after its first
# checkpoint (a step takes a fraction of a second).
NUM_STEPS = 40
CHECKPOINT_EVERY = 5
DISTILLATION_FRACTION = 0.5
POLL_SECONDS = 0.02
RUN_TIMEOUT_S = 900
# The tiny preset made smaller still: the runs are about compilation time.
SIZE_OVERRIDES = (
    '--config.data.train.crop_size=16',
    '--config.model.embeddings_and_evoformer.evoformer_num_block=1',
    '--config.model.heads.structure_module.num_layer=1',
)


def _command(workdir, pdb_data_dir, distillation_data_dir):
  return [sys.executable, str(ROOT / 'train' / 'train.py'),
          f'--config={ROOT / "configs" / "tiny.py"}',
          f'--config.dataset.pdb_data_dir={pdb_data_dir}',
          f'--config.dataset.distillation_data_dir={distillation_data_dir}',
          f'--config.dataset.distillation_fraction={DISTILLATION_FRACTION}',
          f'--config.train.num_steps={NUM_STEPS}',
          f'--config.train.checkpoint_every_steps={CHECKPOINT_EVERY}',
          *SIZE_OVERRIDES, f'--workdir={workdir}', '--noprogress_bar']


def _env(tmp_path):
  # The three runs compile the same programs: the persistent compilation
  # cache lets the second and third load them (a third of the run time on
  # two CPU cores).
  cache = os.environ.get('JAX_COMPILATION_CACHE_DIR',
                         str(tmp_path / 'compilation_cache'))
  return dict(os.environ, PYTHONPATH=str(ROOT),
              JAX_COMPILATION_CACHE_DIR=cache,
              JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS='0')


def _run(command, env, log):
  with open(log, 'w') as f:
    result = subprocess.run(command, cwd=ROOT, env=env, stdout=f,
                            stderr=subprocess.STDOUT, timeout=RUN_TIMEOUT_S,
                            check=False)
  assert result.returncode == 0, log.read_text()[-3000:]


def _checkpoint_steps(workdir):
  """Completed checkpoints (orbax renames a step's folder when done)."""
  directory = workdir / checkpoint_lib.CHECKPOINT_DIR
  if not directory.is_dir():
    return []
  return sorted(int(p.name) for p in directory.iterdir() if p.name.isdigit())


def _last_logged_step(workdir):
  try:
    records = metrics_lib.read_metrics(workdir)
  except (FileNotFoundError, ValueError):  # not yet written, or mid-line
    return 0
  return records[-1]['step'] if records else 0


def _restore(workdir, step):
  checkpointer = checkpoint_lib.Checkpointer(workdir)
  state, data_state = checkpointer.restore(None, step=step)
  checkpointer.close()
  return state, data_state


def test_the_config_selects_the_built_sets(pdb_data_dir,
                                          distillation_data_dir,
                                          tiny_config):
  config = tiny_config.copy_and_resolve_references()
  config.dataset.pdb_data_dir = pdb_data_dir
  config.dataset.distillation_data_dir = distillation_data_dir
  config.dataset.distillation_fraction = DISTILLATION_FRACTION
  stream = trainer.make_training_data(config)
  assert isinstance(stream, loader.TrainingStream)
  assert stream.draw.distillation_fraction == DISTILLATION_FRACTION
  config.dataset.distillation_data_dir = ''
  assert trainer.make_training_data(config).draw.distillation_fraction == 0.


def test_a_killed_run_resumes_as_if_never_stopped(pdb_data_dir,
                                                 distillation_data_dir,
                                                 tmp_path):
  env = _env(tmp_path)
  uninterrupted = tmp_path / 'uninterrupted'
  _run(_command(uninterrupted, pdb_data_dir, distillation_data_dir), env,
       tmp_path / 'uninterrupted.log')

  killed = tmp_path / 'killed'
  command = _command(killed, pdb_data_dir, distillation_data_dir)
  log = tmp_path / 'killed.log'
  with open(log, 'w') as f:
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=f,
                               stderr=subprocess.STDOUT)
  try:
    deadline = time.monotonic() + RUN_TIMEOUT_S
    # Killed once it has trained past a checkpoint: those steps are lost.
    while not (_checkpoint_steps(killed) and
               _last_logged_step(killed) > max(_checkpoint_steps(killed))):
      assert process.poll() is None, log.read_text()[-3000:]
      assert time.monotonic() < deadline
      time.sleep(POLL_SECONDS)
    process.send_signal(signal.SIGKILL)
    process.wait()
  finally:
    if process.poll() is None:  # an assertion above failed
      process.kill()
      process.wait()
  assert process.returncode == -signal.SIGKILL
  restart = max(_checkpoint_steps(killed))
  assert restart < _last_logged_step(killed) < NUM_STEPS
  _run(command, env, tmp_path / 'resumed.log')

  assert f'Resumed from step {restart} ' in (
      tmp_path / 'resumed.log').read_text()
  expected, expected_data = _restore(uninterrupted, NUM_STEPS)
  resumed, resumed_data = _restore(killed, NUM_STEPS)
  assert resumed_data == expected_data == {'next_index': NUM_STEPS}
  # Same batches through the same compiled step: bit for bit.
  chex.assert_trees_all_equal(resumed, expected)
  steps = [r['step'] for r in metrics_lib.read_metrics(killed)]
  assert steps[-1] == NUM_STEPS and set(steps) == set(range(1, NUM_STEPS + 1))
  saved = checkpoint_lib.load_config(killed)
  assert saved.dataset.pdb_data_dir == pdb_data_dir
  assert saved.dataset.distillation_fraction == DISTILLATION_FRACTION
