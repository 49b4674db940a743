"""The demo model: configs/tiny.py trained on the bundled demo chain.

Trained by `train/train.py --config=demo/model_config.py`, which saves it
in the workdir for `run_alphafold.py --checkpoint=<workdir>`.
"""
import importlib.util
import pathlib

ROOT = pathlib.Path(__file__).resolve().parents[1]
TRAINING_STRUCTURES = (str(ROOT / 'demo' / '2rbg_A.pdb'),)
TRAINING_CHAINS = ('A',)
# Enough steps to memorise the chain closely: a loose fit differs from
# machine to machine (float rounding differs) and relaxation then
# rearranges rather than refines it. With the tiny preset as it is, five
# fresh clones (one core each with XLA's default, AVX2 and SSE4.2 code, and
# one on two cores) reached training lDDT-Ca 0.66-0.77 at step 600, and their
# predictions 83.2-89.4 unrelaxed, 92.0-95.7 relaxed (README, "Demo"); the
# whole demo took 7.4 minutes on two quiet cores, about 12 on one.
NUM_STEPS = 600
# A checkpoint costs about 3 s: the demo saves halfway and at the end.
CHECKPOINT_EVERY_STEPS = 300
# No violation loss (the tiny preset's weight 0): switched on at weight 1
# (fine-tuning's) at step 700 of a run of this config, it undid the fit
# (lDDT-Ca 0.69 -> 0.46 within 25 steps, FAPE 0.46 -> 0.79) while every
# residue still had a violation: at this fit its gradient outweighs the rest.
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
  # One example a step: the chain is the only example there is.
  config.train.batch_size = 1
  config.train.checkpoint_every_steps = CHECKPOINT_EVERY_STEPS
  config.optimizer.ema_decay = EMA_DECAY
  config.data.train.crop_size = CROP_SIZE
  config.model.global_config.deterministic = True
  return config
