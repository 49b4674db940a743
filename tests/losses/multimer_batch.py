"""A training example of the multimer_small golden complex (chains of 44 and
9 residues): the fixture's features with the experimental structure of
truth.npz (PDB 1BD2) and its ground truth of data/supervised.py, computed
chain by chain and concatenated."""
import json
import pathlib

import ml_collections
import numpy as np

from alphafold_jax.data import supervised
from alphafold_jax.model.config_multimer import CONFIG_MULTIMER

GOLDEN = (pathlib.Path(__file__).parents[1] / 'fixtures' / 'golden' /
          'multimer_small')


def complex_ground_truth(aatype, all_atom_positions, all_atom_mask, asym_id):
  """Supervised features of each chain (asym_id), concatenated."""
  per_chain = []
  for chain in np.unique(asym_id):
    sel = asym_id == chain
    per_chain.append(supervised.make_supervised_features(
        aatype[sel], all_atom_positions[sel], all_atom_mask[sel]))
  truth = {k: np.concatenate([c[k] for c in per_chain])
           for k in per_chain[0]}
  truth.update(supervised.make_atom14_masks(aatype))
  return truth


def load_example():
  """The fixture's example with its ground truth, float32, resolution 2.5 Å."""
  with np.load(GOLDEN / 'example.npz') as data:
    batch = {k: data[k] for k in data.files}
  with np.load(GOLDEN / 'truth.npz') as data:
    batch.update({k: data[k] for k in data.files})
  batch = {k: (v.astype(np.float32) if np.issubdtype(v.dtype, np.floating)
               else v) for k, v in batch.items()}
  batch.update(complex_ground_truth(
      batch['aatype'], batch['all_atom_positions'], batch['all_atom_mask'],
      batch['asym_id']))
  batch['resolution'] = np.float32(2.5)
  return batch


def training_config():
  """The fixture's (small) model config with the training-only loss
  entries of the multimer config."""
  cfg = ml_collections.ConfigDict(
      json.loads((GOLDEN / 'config.json').read_text()))
  sm = cfg.model.heads.structure_module
  sm.chain_centre_mass = CONFIG_MULTIMER.model.heads.structure_module.chain_centre_mass
  return cfg
