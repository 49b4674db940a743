"""The training stream: deterministic, resumable, split among processes."""
import numpy as np
import pytest

from alphafold_jax.training import data as data_lib

from tests.training.conftest import tiny_config


def _assert_batches_equal(a, b):
  assert set(a) == set(b)
  for key in a:
    np.testing.assert_array_equal(a[key], b[key], err_msg=key)


@pytest.fixture(scope='module')
def config():
  return tiny_config()


def test_batches_are_shaped_for_training(examples, config):
  batch = next(data_lib.TrainingData(examples, config, 2, seed=0))
  num_iterations = config.model.num_recycle + 1
  assert batch['aatype'].shape == (2, num_iterations, config.data.train.crop_size)
  assert batch['num_iter_recycling'].shape == (2, num_iterations)
  assert 'backbone_affine_tensor' in batch and 'use_clamped_fape' in batch


def test_restored_position_continues_the_same_stream(examples, config):
  stream = data_lib.TrainingData(examples, config, 2, seed=3)
  batches = [next(stream) for _ in range(3)]
  assert stream.get_state() == {'position': 3}
  resumed = data_lib.TrainingData(examples, config, 2, seed=3)
  resumed.set_state({'position': 2})
  _assert_batches_equal(next(resumed), batches[2])
  # Different batches differ (new crops, recycling counts, MSA masks).
  assert not np.array_equal(batches[0]['bert_mask'], batches[1]['bert_mask'])


def test_process_shares_make_up_the_global_batch(examples, config):
  whole = next(data_lib.TrainingData(examples, config, 4, seed=1))
  shares = [next(data_lib.TrainingData(examples, config, 4, seed=1,
                                       process_index=i, process_count=2))
            for i in range(2)]
  _assert_batches_equal(
      whole, {k: np.concatenate([s[k] for s in shares]) for k in whole})


def test_each_epoch_visits_every_structure_once(config):
  stream = data_lib.TrainingData([{}] * 5, config, 1, seed=0)
  for epoch in range(3):
    seen = sorted(stream.example_index(epoch * 5 + k) for k in range(5))
    assert seen == list(range(5))


def test_chain_ids_must_match_the_files():
  with pytest.raises(ValueError, match='chain ids'):
    data_lib.load_structures(['a.pdb', 'b.pdb'], ['A'])
