"""The demo model: configs/tiny.py trained on the bundled demo chain.

Trained by `train/train.py --config=demo/model_config.py`, which saves it
in the workdir for `run_alphafold.py --checkpoint=<workdir>`.
"""
import importlib.util
import pathlib

ROOT = pathlib.Path(__file__).resolve().parents[1]
TRAINING_STRUCTURES = (str(ROOT / 'demo' / '2rbg_A.pdb'),)
TRAINING_CHAINS = ('A',)
# What two CPU cores train in a few minutes; far too few to learn the fold
# (the demo shows the pipeline, not accuracy).
NUM_STEPS = 150
CHECKPOINT_EVERY_STEPS = 50
# The EMA of Suppl. 1.11.7 (decay 0.999) averages over ~1000 steps, more than
# this run has; a short average keeps what the run learned.
EMA_DECAY = 0.9
# Crops hold the whole chain (96 residues), so that the model sees in
# training what it predicts; dropout is off. The demo model memorises one
# chain; it does not generalise.
CROP_SIZE = 96


def _tiny_config():
  spec = importlib.util.spec_from_file_location('tiny_config',
                                                ROOT / 'configs' / 'tiny.py')
  module = importlib.util.module_from_spec(spec)
  spec.loader.exec_module(module)
  return module.get_config()


def get_config():
  config = _tiny_config()
  config.dataset.pdb_files = list(TRAINING_STRUCTURES)
  config.dataset.chains = list(TRAINING_CHAINS)
  config.train.num_steps = NUM_STEPS
  config.train.checkpoint_every_steps = CHECKPOINT_EVERY_STEPS
  config.optimizer.ema_decay = EMA_DECAY
  config.data.train.crop_size = CROP_SIZE
  config.model.global_config.deterministic = True
  return config
