"""Trains AlphaFold2 (Suppl. 1.11) from a config file.

  # On the PDB and self-distillation sets (train/build_pdb_dataset.py and
  # train/build_distillation_dataset.py, each with its --data_dir), 75% of
  # the examples self-distillation:
  python train/train.py --config=configs/initial_training.py \
      --config.dataset.pdb_data_dir=/data/tfds \
      --config.dataset.distillation_data_dir=/data/tfds \
      [--config.dataset.distillation_fraction=0.75] --workdir=/tmp/run

  # A small run on structure files (single-sequence examples):
  python train/train.py --config=configs/tiny.py \
      --config.dataset.pdb_files="('tests/fixtures/data/3a4rA.pdb.gz',)" \
      --config.dataset.chains="('A',)" --workdir=/tmp/tiny

  # AlphaFold-Multimer on the complexes set (train/build_pdb_dataset.py
  # --complexes --data_dir=/data/tfds):
  python train/train.py --config=configs/multimer_tiny.py \
      --data_dir=/data/tfds --workdir=/tmp/multimer

  # Fine-tuning from released weights (the EMA starts from them too):
  python train/train.py --config=configs/finetuning.py \
      --init_params=params_model_1_ptm.npz --workdir=/tmp/finetune

  # Multi-host: the same command on every host, with
  #   --coordinator_address=host0:1234 --num_processes=N --process_id=i

Running again with the same --workdir resumes from its latest checkpoint
(the model, the optimiser and the data stream's position). The config is
saved as <workdir>/config.json, which run_alphafold.py --checkpoint=<workdir>
reads.
"""
import logging as std_logging

from absl import app
from absl import flags
from absl import logging
from ml_collections import config_flags

from alphafold_jax.training import sharding
from alphafold_jax.training import trainer

_CONFIG = config_flags.DEFINE_config_file(
    'config', None, 'A training config file (configs/*.py).',
    lock_config=True)
_WORKDIR = flags.DEFINE_string(
    'workdir', None, 'Checkpoints, metrics.jsonl and TensorBoard files.')
_DATA_DIR = flags.DEFINE_string(
    'data_dir', None,
    "The builders' --data_dir: sets config.dataset.complex_data_dir for a "
    'multimer config, else pdb_data_dir (and distillation_data_dir when a '
    'self-distillation set is built there).')
_INIT_PARAMS = flags.DEFINE_string(
    'init_params', None,
    'Released-format .npz to start from (fine-tuning).')
_COORDINATOR = flags.DEFINE_string(
    'coordinator_address', None,
    'host:port of process 0, for multi-host runs.')
_NUM_PROCESSES = flags.DEFINE_integer(
    'num_processes', None, 'Processes in a multi-host run.')
_PROCESS_ID = flags.DEFINE_integer(
    'process_id', None, 'This process in a multi-host run.')
_PROGRESS_BAR = flags.DEFINE_boolean(
    'progress_bar', True, 'Show a progress bar.')


def main(argv):
  del argv
  # Warnings (skipped steps) and resume notes reach the console, unless
  # --verbosity says otherwise (make demo: -1, warnings only).
  if not flags.FLAGS['verbosity'].present:
    std_logging.getLogger().setLevel(std_logging.INFO)
  sharding.initialize_distributed(_COORDINATOR.value, _NUM_PROCESSES.value,
                                  _PROCESS_ID.value)
  config = _CONFIG.value
  if _DATA_DIR.value:
    trainer.set_data_dir(config, _DATA_DIR.value)
  logging.info('Config:\n%s', config)
  trainer.train(config, _WORKDIR.value,
                init_params_path=_INIT_PARAMS.value,
                progress_bar=_PROGRESS_BAR.value)


if __name__ == '__main__':
  flags.mark_flags_as_required(['config', 'workdir'])
  app.run(main)
