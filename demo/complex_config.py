"""The demo's complex model: configs/multimer_tiny.py trained on the bundled
complex, demo/3pwp_DE.pdb (two 50-residue windows of 3PWP's T-cell receptor
constant domains; demo/make_complex.py says how it was cut).

Trained by `train/train.py --config=demo/complex_config.py`, which saves it
in the workdir for `run_alphafold.py --model_preset=multimer
--checkpoint=<workdir>`. The file's two chains are one single-sequence
complex (trainer.complex_file_record); the crop holds it whole, dropout is
off: the model memorises one complex, it does not generalise.
"""
import pathlib

from alphafold_jax.training.config import load_config_file

ROOT = pathlib.Path(__file__).resolve().parents[1]
TRAINING_COMPLEX = str(ROOT / 'demo' / '3pwp_DE.pdb')
# Steps: what fits the demo's time (README, "Demo"); the fit is partial.
NUM_STEPS = 450
# A checkpoint costs about 3 s: the demo saves at the end only.
CHECKPOINT_EVERY_STEPS = 450
# As demo/model_config.py: a short average keeps what a short run learned.
EMA_DECAY = 0.9
CROP_SIZE = 100


def get_config():
  config = load_config_file(ROOT / 'configs' / 'multimer_tiny.py')
  config.dataset.pdb_files = [TRAINING_COMPLEX]
  config.dataset.chains = ['']
  config.train.num_steps = NUM_STEPS
  config.train.batch_size = 1
  config.train.checkpoint_every_steps = CHECKPOINT_EVERY_STEPS
  config.optimizer.ema_decay = EMA_DECAY
  config.data.train.crop_size = CROP_SIZE
  config.model.global_config.deterministic = True
  return config
