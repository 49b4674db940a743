"""AlphaFold-Multimer against the reference on the multimer_small golden case
(two chains of 44 and 9 residues, templates, one recycle): every output in
float64 within 1e-6, and in float32 within 5e-2, with the fixture's key."""
import json
import pathlib

import haiku as hk
import jax
import ml_collections
import numpy as np
import pytest

from alphafold_jax.model import AlphaFoldMultimer
from alphafold_jax.model.params import flat_to_haiku

GOLDEN = pathlib.Path(__file__).parents[1] / 'fixtures' / 'golden' / 'multimer_small'


def _flatten(tree, prefix=''):
  out = {}
  for k, v in tree.items():
    if isinstance(v, dict):
      out.update(_flatten(v, f'{prefix}{k}/'))
    else:
      out[prefix + k] = np.asarray(v)
  return out


def _cast(data, dtype):
  return {k: (data[k].astype(dtype) if np.issubdtype(data[k].dtype, np.floating)
              else data[k]) for k in data.files}


def run_golden(dtype):
  """The model on the fixture's example with its params and key PRNGKey(1)."""
  cfg = ml_collections.ConfigDict(json.loads((GOLDEN / 'config.json').read_text()))
  with np.load(GOLDEN / 'example.npz') as example, \
       np.load(GOLDEN / 'params.npz') as params:
    batch = _cast(example, dtype)
    params = flat_to_haiku(_cast(params, dtype))
  forward = hk.transform(lambda b: AlphaFoldMultimer(cfg.model)(
      b, is_training=False, return_representations=True))
  out = jax.jit(forward.apply)(params, jax.random.PRNGKey(1), batch)
  return _flatten(out)


def relative_error(ours, reference):
  return float(np.max(np.abs(ours - reference)) / max(1., np.max(np.abs(reference))))


@pytest.fixture(scope='module')
def outputs64():
  with jax.enable_x64(True):
    return run_golden(np.float64)


@pytest.fixture(scope='module')
def outputs32():
  return run_golden(np.float32)


def _compare(outputs, reference_file, tolerance):
  with np.load(GOLDEN / reference_file) as data:
    reference = {k: data[k] for k in data.files}
  assert sorted(k for k in reference if k not in outputs) == []
  assert {k: outputs[k].shape for k in reference if outputs[k].shape != reference[k].shape} == {}
  errors = {k: relative_error(outputs[k], reference[k]) for k in reference}
  assert {k: e for k, e in errors.items() if not e < tolerance} == {}
  return reference


def test_every_output_matches_reference_in_float64(outputs64):
  reference = _compare(outputs64, 'outputs64.npz', 1e-6)
  assert 'representations/msa' in reference and 'predicted_aligned_error/logits' in reference
  assert outputs64['num_recycles'] == 1


def test_every_output_matches_reference_in_float32(outputs32):
  _compare(outputs32, 'outputs.npz', 5e-2)


def test_float64_run_is_float64(outputs64):
  assert outputs64['representations/pair'].dtype == np.float64
  assert outputs64['structure_module/final_atom_positions'].dtype == np.float64

