"""The grain training stream: mixing, weighted sampling, sharding, saved
state and determinism."""
import collections
import sys

import numpy as np
import pytest

from alphafold_jax.data.datasets import loader
from alphafold_jax.data.datasets import sources

SEED = 7
BATCH = 2
NUM_DRAWS = 4000


@pytest.fixture(scope='module')
def config(tiny_config):
  return tiny_config


@pytest.fixture(scope='module')
def stream_sources(pdb_data_dir):
  # The PDB set stands in for both sets here; the real mixture is trained
  # on in test_distillation_builder.
  pdb = sources.open_dataset(pdb_data_dir, sources.PDB_DATASET)
  weights = sources.read_sampling_weights(pdb_data_dir, sources.PDB_DATASET)
  return loader.StreamSources(pdb=pdb, distillation=pdb, pdb_weights=weights,
                              distillation_weights=weights)


class _FakeSource:
  def __init__(self, weights):
    self._weights = weights

  def __len__(self):
    return len(self._weights)

  def __getitem__(self, i):
    return {'sampling_weight': np.float32(self._weights[i])}


def test_mixture_fraction_and_weighted_draws():
  pdb_weights = [1., 0.5, 0.25, 0.]
  draw = loader.ExampleDraw(loader.StreamSources(
      pdb=_FakeSource(pdb_weights), distillation=_FakeSource([1., 1.])),
                            seed=SEED)
  counts = collections.Counter(draw(j) for j in range(NUM_DRAWS))
  distillation = sum(v for (name, _), v in counts.items()
                     if name == 'distillation')
  assert abs(distillation / NUM_DRAWS - 0.75) < 0.03
  pdb = np.array([counts[('pdb', i)] for i in range(4)], float)
  np.testing.assert_allclose(pdb / pdb.sum(), np.array(pdb_weights) / 1.75,
                             atol=0.04)
  assert counts[('pdb', 3)] == 0
  only_pdb = loader.ExampleDraw(loader.StreamSources(
      pdb=_FakeSource(pdb_weights)), seed=SEED)
  assert {only_pdb(j)[0] for j in range(100)} == {'pdb'}


def test_same_seed_same_order_other_seed_other_order(stream_sources):
  first = loader.ExampleDraw(stream_sources, seed=SEED)
  again = loader.ExampleDraw(stream_sources, seed=SEED)
  other = loader.ExampleDraw(stream_sources, seed=SEED + 1)
  order = [first(j) for j in range(50)]
  assert order == [again(j) for j in range(50)]
  assert order != [other(j) for j in range(50)]


def _assert_batches_equal(a, b):
  assert a.keys() == b.keys()
  for key in a:
    np.testing.assert_array_equal(a[key], b[key], err_msg=key)


def test_batches_are_deterministic_and_resume_from_saved_state(
    stream_sources, config):
  make = lambda: loader.TrainingStream(stream_sources, config, BATCH, SEED,
                                       process_index=0, process_count=1)
  stream = make()
  first = [next(stream) for _ in range(2)]
  state = stream.get_state()
  assert state == {'next_index': 2} and stream.position == 2
  third = next(stream)
  assert third['aatype'].shape[:2] == (BATCH, 2)  # [B, recycling copies]
  assert third['is_distillation'].shape[0] == BATCH

  again = make()
  _assert_batches_equal(first[0], next(again))
  resumed = make()
  resumed.set_state(state)
  _assert_batches_equal(third, next(resumed))


def test_hosts_share_each_global_batch(stream_sources, config):
  whole = next(loader.TrainingStream(stream_sources, config, BATCH, SEED,
                                     process_index=0, process_count=1))
  parts = [next(loader.TrainingStream(stream_sources, config, BATCH, SEED,
                                      process_index=h, process_count=2))
           for h in range(2)]
  for key in whole:
    np.testing.assert_array_equal(
        whole[key], np.concatenate([p[key] for p in parts]), err_msg=key)
  with pytest.raises(ValueError, match='divide'):
    loader.make_dataset(stream_sources, config, 3, SEED, process_index=0,
                        process_count=2)


def test_reading_needs_no_tensorflow(stream_sources, config):
  next(loader.TrainingStream(stream_sources, config, BATCH, SEED,
                             process_index=0, process_count=1))
  assert 'tensorflow' not in sys.modules


def test_sources_from_a_data_dir(pdb_data_dir):
  opened = loader.StreamSources.from_data_dir(pdb_data_dir, distillation=None)
  assert opened.distillation is None
  assert len(opened.pdb_weights) == len(opened.pdb) == 3
  draw = loader.ExampleDraw(opened, seed=SEED)
  assert draw.distillation_fraction == 0.
  with pytest.raises(FileNotFoundError):
    loader.StreamSources.from_data_dir(pdb_data_dir)  # No distillation set.
