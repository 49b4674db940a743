"""The demo model: configs/tiny.py trained on the bundled demo chain.

Used both for training (`train/train.py --config=demo/model_config.py`) and
for prediction (`run_alphafold.py --checkpoint_config=demo/model_config.py`).
"""
import importlib.util
import pathlib

ROOT = pathlib.Path(__file__).resolve().parents[1]
TRAINING_STRUCTURES = (str(ROOT / 'demo' / '2rbg_A.pdb'),)
TRAINING_CHAINS = ('A',)
# Enough steps on two CPU cores for the tiny model to learn this one fold.
NUM_STEPS = 300
CHECKPOINT_EVERY_STEPS = 50


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
  return config
