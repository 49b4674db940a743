"""Parameter trees of the ten presets, and reading/writing released-format files."""
import json
import pathlib

import numpy as np
import pytest

from alphafold_jax.model import load_params
from alphafold_jax.model import model_config
from alphafold_jax.model import save_params
from alphafold_jax.model.config import MODEL_PRESETS
from alphafold_jax.model.params import param_shapes
from tests.model import golden_modules

MANIFESTS = pathlib.Path(__file__).parents[1] / 'fixtures' / 'params_manifest'


@pytest.mark.parametrize('preset', MODEL_PRESETS)
def test_model_creates_exactly_the_released_tree(preset):
  manifest = json.loads((MANIFESTS / f'{preset}.json').read_text())
  expected = {k: tuple(v) for k, v in manifest['params'].items()}
  shapes = param_shapes(model_config(preset))
  assert sorted(set(expected) - set(shapes)) == []
  assert sorted(set(shapes) - set(expected)) == []
  assert {k: v for k, v in shapes.items() if v != expected[k]} == {}
  assert sum(int(np.prod(s)) for s in shapes.values()) == manifest['num_params']


def test_unknown_preset_is_rejected():
  with pytest.raises(ValueError, match='model_6'):
    model_config('model_6')


@pytest.fixture(scope='module')
def golden_flat():
  data = np.load(golden_modules.GOLDEN / 'small' / 'params.npz')
  return {k: data[k] for k in data.files}


def test_save_then_load_round_trips(tmp_path, golden_flat):
  cfg = golden_modules.small_config()
  params = load_params(golden_modules.GOLDEN / 'small' / 'params.npz', config=cfg)
  path = tmp_path / 'params_small.npz'
  save_params(params, path)
  again = load_params(path, config=cfg)
  with np.load(path) as written:
    assert sorted(written.files) == sorted(golden_flat)
  for scope, values in params.items():
    for name, value in values.items():
      np.testing.assert_array_equal(again[scope][name], value)
  assert [p.name for p in tmp_path.iterdir()] == ['params_small.npz']


def test_mismatched_file_names_each_problem(tmp_path, golden_flat):
  flat = dict(golden_flat)
  missing = 'alphafold/alphafold_iteration/distogram_head/half_logits//bias'
  misshapen = 'alphafold/alphafold_iteration/masked_msa_head/logits//weights'
  del flat[missing]
  flat[misshapen] = np.zeros((3, 3), np.float32)
  flat['alphafold/alphafold_iteration/extra_head//weights'] = np.zeros(2)
  path = tmp_path / 'bad.npz'
  np.savez(path, **flat)
  with pytest.raises(ValueError) as err:
    load_params(path, config=golden_modules.small_config())
  message = str(err.value)
  assert str(path) in message
  assert missing in message and misshapen in message
  assert 'extra_head//weights' in message
  assert '1 missing' in message and '1 unexpected' in message


def test_file_named_after_a_preset_is_checked_against_it(tmp_path, golden_flat):
  path = tmp_path / 'params_model_1_ptm.npz'
  np.savez(path, **golden_flat)  # small shapes: do not fit the full preset
  with pytest.raises(ValueError, match='wrong shape'):
    load_params(path)


def test_corrupt_file_is_reported(tmp_path):
  path = tmp_path / 'params_model_3.npz'
  path.write_bytes(b'PK\x03\x04 truncated')
  with pytest.raises(ValueError, match='not a readable parameter file'):
    load_params(path)
