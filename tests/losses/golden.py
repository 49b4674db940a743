"""Golden-fixture helpers for the loss tests (float64)."""
import json

import ml_collections
import numpy as np

from alphafold_jax.geometry import Rigid3
from alphafold_jax.geometry import Rot3
from alphafold_jax.geometry import Vec3

# The losses used the last recycling iteration's features.
LAST_ITERATION = 1


def _float64(x):
  x = np.asarray(x)
  return x.astype(np.float64) if np.issubdtype(x.dtype, np.floating) else x


def sidechains_from_flat(flat, prefix='structure_module/sidechains/'):
  """Rebuilds {'frames': Rigid3, 'atom_pos': Vec3, ...} from the flat keys."""
  rot = Rot3(*(flat[f'{prefix}frames/0/{k}'] for k in range(9)))
  trans = Vec3(*(flat[f'{prefix}frames/1/{k}'] for k in range(3)))
  return {
      'frames': Rigid3(rot, trans),
      'atom_pos': Vec3(*(flat[f'{prefix}atom_pos/{k}'] for k in range(3))),
      'angles_sin_cos': flat[prefix + 'angles_sin_cos'],
      'unnormalized_angles_sin_cos': flat[prefix + 'unnormalized_angles_sin_cos'],
  }


# What the loss functions add to a head's output: left out of the outputs fed
# to them, so that the tests see only what the losses compute themselves.
_LOSS_DERIVED = ('loss', 'true_dist', 'fape', 'sidechain_fape', 'chi_loss',
                 'angle_norm_loss', 'metrics/', 'violations/', 'renamed_',
                 'alt_naming_is_better')


def nest_outputs(flat):
  """The model's nested output dict (heads' forward outputs only)."""
  out = {}
  for key, v in flat.items():
    if '/' not in key or key.startswith('structure_module/sidechains/'):
      continue
    head, rest = key.split('/', 1)
    if rest.startswith(_LOSS_DERIVED):
      continue
    head, rest = key.split('/', 1)
    out.setdefault(head, {})[rest] = v
  out['structure_module']['sidechains'] = sidechains_from_flat(flat)
  return out


def load(small_dir):
  """(config, batch, flat_ref, outputs): batch[LAST_ITERATION], all float64."""
  with open(small_dir / 'config.json') as f:
    config = ml_collections.ConfigDict(json.load(f))
  with np.load(small_dir / 'batch.npz') as b:
    batch = {k: _float64(b[k][LAST_ITERATION]) for k in b.files}
  with np.load(small_dir / 'outputs64.npz') as o:
    flat = {k: _float64(o[k]) for k in o.files}
  return config, batch, flat, nest_outputs(flat)


def rel_err(x, ref):
  """max |x - ref| / max(1, max |ref|), the fixtures' measure."""
  x, ref = np.asarray(x, np.float64), np.asarray(ref, np.float64)
  assert x.shape == ref.shape, (x.shape, ref.shape)
  return float(np.max(np.abs(x - ref), initial=0.) /
               max(1., float(np.max(np.abs(ref), initial=0.))))


def flatten(tree, prefix=''):
  """Nested dict -> {'prefix/a/b': leaf}."""
  flat = {}
  for k, v in tree.items():
    if isinstance(v, dict):
      flat.update(flatten(v, f'{prefix}{k}/'))
    else:
      flat[prefix + k] = v
  return flat


def assert_matches(result, ref_flat, prefix, tol=1e-6):
  """Every leaf of `result` matches ref_flat[prefix + key]; returns errors."""
  errors = {}
  for key, value in flatten(result, prefix).items():
    assert key in ref_flat, f'{key} not in the golden outputs'
    errors[key] = rel_err(value, ref_flat[key])
  bad = {k: e for k, e in errors.items() if not e <= tol}
  assert not bad, bad
  return errors
