"""MultimerModelRunner: a tiny random multimer model on the golden example."""
import numpy as np
import pytest

from alphafold_jax.inference import runner_multimer
from tests.inference import tiny_multimer


@pytest.fixture(scope='module')
def example(golden_dir):
  with np.load(golden_dir / 'multimer_small' / 'example.npz',
               allow_pickle=True) as data:
    return {k: data[k] for k in data.files}


@pytest.fixture(scope='module')
def runner_pair():
  config = runner_multimer.configure(tiny_multimer.tiny_config())
  params = tiny_multimer.random_params(config)
  return (runner_multimer.MultimerModelRunner(config, params,
                                              use_buckets=True),
          runner_multimer.MultimerModelRunner(config, params,
                                              use_buckets=False))


@pytest.fixture(scope='module')
def predictions(example, runner_pair):
  bucketed, unpadded = runner_pair
  batch = bucketed.process_features(example, random_seed=0)
  assert bucketed.padded_size(len(batch['aatype'])) > len(batch['aatype'])
  return (batch, bucketed.predict(batch, random_seed=3),
          unpadded.predict(batch, random_seed=3))


def _flat(tree, prefix=''):
  for k, v in tree.items():
    if isinstance(v, dict):
      yield from _flat(v, f'{prefix}{k}/')
    else:
      yield f'{prefix}{k}', v


def test_padding_to_a_bucket_leaves_every_output_unchanged(predictions):
  _, padded, unpadded = predictions
  padded, unpadded = dict(_flat(padded)), dict(_flat(unpadded))
  assert sorted(padded) == sorted(unpadded)
  for key, value in unpadded.items():
    assert np.shape(padded[key]) == np.shape(value), key
    np.testing.assert_allclose(padded[key], value, rtol=1e-4, atol=1e-4,
                               err_msg=key)


def test_outputs_and_confidences(predictions, example):
  batch, result, _ = predictions
  num_res = len(example['aatype'])
  assert result['structure_module']['final_atom_positions'].shape == (
      num_res, 37, 3)
  assert result['predicted_aligned_error'].shape == (num_res, num_res)
  assert 0 < result['iptm'] < 1 and 0 < result['ptm'] < 1
  np.testing.assert_allclose(
      result['ranking_confidence'],
      0.8 * result['iptm'] + 0.2 * result['ptm'], rtol=1e-6)
  assert 1 <= int(result['num_recycles']) <= tiny_multimer.NUM_RECYCLE
  assert batch['asym_id'].dtype == np.int32


def test_a_different_seed_draws_another_msa_sample(example, runner_pair,
                                                   predictions):
  _, result, _ = predictions
  runner = runner_pair[0]
  other = runner.predict(runner.process_features(example, 0), random_seed=4)
  assert not np.allclose(other['predicted_lddt']['logits'],
                         result['predicted_lddt']['logits'])


def test_recycling_overrides():
  config = runner_multimer.configure(tiny_multimer.tiny_config(), 5, 0.25)
  assert config.model.num_recycle == 5
  assert config.model.recycle_early_stop_tolerance == 0.25
  assert config.model.global_config.deterministic
  default = runner_multimer.configure(
      tiny_multimer.model_config('model_1_multimer_v3'))
  assert default.model.num_recycle == 20
  assert default.model.recycle_early_stop_tolerance == 0.5
  with pytest.raises(ValueError, match='num_recycle'):
    runner_multimer.configure(tiny_multimer.tiny_config(), -1)
