"""Parameter trees and configs of the ten AlphaFold-Multimer presets."""
import json
import pathlib

import ml_collections
import numpy as np
import pytest

from alphafold_jax.model import load_params
from alphafold_jax.model import model_config
from alphafold_jax.model.config_multimer import MULTIMER_PRESETS
from alphafold_jax.model.params import param_shapes

FIXTURES = pathlib.Path(__file__).parents[1] / 'fixtures'
MANIFESTS = FIXTURES / 'params_manifest_multimer'
GOLDEN = FIXTURES / 'golden' / 'multimer_small'


def _manifest(preset):
  # The released manifests are those of the v3 weights; v2 has the same tree.
  version = preset.replace('_multimer_v2', '_multimer_v3')
  manifest = json.loads((MANIFESTS / f'{version}.json').read_text())
  return {k: tuple(v) for k, v in manifest['params'].items()}, manifest['num_params']


@pytest.mark.parametrize('preset', MULTIMER_PRESETS)
def test_model_creates_exactly_the_released_tree(preset):
  expected, num_params = _manifest(preset)
  shapes = param_shapes(model_config(preset))
  assert sorted(set(expected) - set(shapes)) == []
  assert sorted(set(shapes) - set(expected)) == []
  assert {k: v for k, v in shapes.items() if v != expected[k]} == {}
  assert len(shapes) == 354
  assert sum(int(np.prod(s)) for s in shapes.values()) == num_params == 93_223_705


def _flat_keys(d, prefix=''):
  keys = set()
  for k, v in d.items():
    if isinstance(v, dict):
      keys |= _flat_keys(v, f'{prefix}{k}.')
    else:
      keys.add(prefix + k)
  return keys


def test_config_has_the_reference_schema():
  reference = json.loads((GOLDEN / 'config.json').read_text())
  ours = model_config('model_1_multimer_v2').to_dict()
  # v2.3's early stop, the training-only chain alignment and chain
  # centre-of-mass loss, and the fused-attention and unrolled-stack switches
  # (off by default), on top of the fixture's schema.
  com = 'model.heads.structure_module.chain_centre_mass.'
  assert _flat_keys(ours) - _flat_keys(reference) == {
      'model.recycle_early_stop_tolerance', 'model.align_chains',
      'model.global_config.fused_attention',
      'model.global_config.unroll_layer_stacks',
      com + 'clamp_distance',
      com + 'length_scale', com + 'weight'}
  assert _flat_keys(reference) - _flat_keys(ours) == set()


@pytest.mark.parametrize('preset,num_msa,num_extra_msa', [
    ('model_1_multimer_v3', 508, 2048), ('model_3_multimer_v3', 508, 2048),
    ('model_4_multimer_v3', 508, 1152), ('model_5_multimer_v3', 508, 1152),
    ('model_1_multimer_v2', 252, 1152), ('model_5_multimer_v2', 252, 1152)])
def test_msa_sizes_of_the_presets(preset, num_msa, num_extra_msa):
  cfg = model_config(preset)
  emb = cfg.model.embeddings_and_evoformer
  assert (emb.num_msa, emb.num_extra_msa) == (num_msa, num_extra_msa)
  assert cfg.model.num_recycle == 20
  assert cfg.model.recycle_early_stop_tolerance == 0.5
  assert cfg.model.global_config.multimer_mode


def test_golden_params_load_against_the_fixture_config():
  cfg = ml_collections.ConfigDict(json.loads((GOLDEN / 'config.json').read_text()))
  params = load_params(GOLDEN / 'params.npz', config=cfg)
  assert len([1 for v in params.values() for _ in v]) == 354


def test_file_named_after_a_multimer_preset_is_checked_against_it(tmp_path):
  with np.load(GOLDEN / 'params.npz') as data:
    flat = {k: data[k] for k in data.files}
  path = tmp_path / 'params_model_2_multimer_v3.npz'
  np.savez(path, **flat)  # small shapes: do not fit the full preset
  with pytest.raises(ValueError, match='wrong shape'):
    load_params(path)
