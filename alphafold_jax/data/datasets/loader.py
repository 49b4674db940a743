"""The training stream: the PDB and self-distillation sets mixed, sampled,
transformed and batched with grain (Suppl. 1.2.4-1.2.8, 1.3).

Global example j is a pure function of (seed, j):
  * its set: self-distillation with probability `distillation_fraction`
    (Suppl. 1.2.4: 75%), else PDB;
  * its record: drawn from that set in proportion to the records'
    `sampling_weight` (the acceptance probabilities of Suppl. 1.2.5: length
    and inverse cluster size). Drawing independently in proportion to the
    weights is, in distribution, the supplement's loop over a shuffled set
    with stochastic acceptance, and it needs no epoch bookkeeping;
  * its features: `process_features(raw, config, mode='train')` seeded by
    (seed, j), i.e. a fresh crop, MSA sample and recycling count each visit
    (for the complexes set, data.multimer.training.training_example, also
    seeded by (seed, j)).
Global batch p holds examples p*B .. p*B+B-1; process h of P takes every
P-th of them (its B/P share of every global batch), so hosts never read
the same example. The grain iterator's state ({'next_index': batch}) is
what a checkpoint saves; restoring it resumes the stream exactly.

  data = TrainingStream(StreamSources.from_data_dir('/data/tfds'), config,
                        global_batch_size=128, seed=0)
  batch = next(data)          # features with a leading [B_local] axis
  state = data.get_state()    # save with the checkpoint
"""
from __future__ import annotations

import dataclasses
import sys
from typing import Any, Callable, Dict, Mapping, Optional

import grain
import jax
import ml_collections
import numpy as np

from alphafold_jax.data.datasets import records
from alphafold_jax.data.datasets import sources as sources_lib
from alphafold_jax.data.features import process_features

# Suppl. 1.2.4: 75% of training examples come from the self-distillation set.
DISTILLATION_FRACTION = 0.75
# Independent random streams derived from the seed.
_DRAW_STREAM = 0
_PROCESS_STREAM = 1
# Grain read threads and batches prefetched ahead of the training step.
NUM_THREADS = 2
PREFETCH_BATCHES = 2
# The stream is endless: example indices run up to this bound.
_NUM_EXAMPLES = sys.maxsize


@dataclasses.dataclass(frozen=True)
class StreamSources:
  """The two sets' random-access record sources (`sources.open_dataset`)
  and their [N] sampling weights (None: read from the records). Either set
  may be None, and then every example comes from the other."""
  pdb: Optional[Any] = None
  distillation: Optional[Any] = None
  pdb_weights: Optional[np.ndarray] = None
  distillation_weights: Optional[np.ndarray] = None

  @classmethod
  def from_data_dir(
      cls, data_dir: str, pdb: Optional[str] = sources_lib.PDB_DATASET,
      distillation: Optional[str] = sources_lib.DISTILLATION_DATASET
  ) -> 'StreamSources':
    """The named datasets built under data_dir (None leaves one out)."""
    return cls._open({'pdb': (data_dir, pdb),
                      'distillation': (data_dir, distillation)})

  @classmethod
  def from_data_dirs(cls, pdb_data_dir: Optional[str] = None,
                     distillation_data_dir: Optional[str] = None
                     ) -> 'StreamSources':
    """The PDB set built under pdb_data_dir and the self-distillation set
    under distillation_data_dir (each builder's --data_dir; one folder may
    hold both); None or '' leaves a set out."""
    return cls._open({
        'pdb': (pdb_data_dir, sources_lib.PDB_DATASET),
        'distillation': (distillation_data_dir,
                         sources_lib.DISTILLATION_DATASET)})

  @classmethod
  def _open(cls, datasets) -> 'StreamSources':
    """{'pdb' or 'distillation': (data_dir, name)}, unset ones left out."""
    opened = {}
    for key, (data_dir, name) in datasets.items():
      if data_dir and name:
        opened[key] = sources_lib.open_dataset(data_dir, name)
        opened[key + '_weights'] = sources_lib.read_sampling_weights(
            data_dir, name)
    return cls(**opened)


def _cumulative_weights(source, weights: Optional[np.ndarray]
                        ) -> np.ndarray:
  """[N] cumulative sampling weights, normalised to end at 1."""
  if weights is None:
    weights = [float(source[i]['sampling_weight'])
               for i in range(len(source))]
  weights = np.asarray(weights, np.float64)
  if len(weights) != len(source):
    raise ValueError(f'{len(weights)} sampling weights for {len(source)} '
                     'records.')
  if not len(weights) or np.any(weights < 0) or weights.sum() <= 0:
    raise ValueError('a dataset needs at least one record with a positive '
                     'sampling weight.')
  cumulative = np.cumsum(weights)
  return cumulative / cumulative[-1]


class ExampleDraw:
  """Global example index -> (set name, record index); pure in (seed, j)."""

  def __init__(self, sources: StreamSources, seed: int,
               distillation_fraction: float = DISTILLATION_FRACTION):
    if not 0. <= distillation_fraction <= 1.:
      raise ValueError('distillation_fraction must be in [0, 1], got '
                       f'{distillation_fraction}.')
    if sources.pdb is None and sources.distillation is None:
      raise ValueError('the stream needs at least one dataset.')
    if sources.pdb is None:
      distillation_fraction = 1.
    elif sources.distillation is None:
      distillation_fraction = 0.
    self.distillation_fraction = distillation_fraction
    self._seed = seed
    self._cumulative = {
        name: _cumulative_weights(source, weights)
        for name, source, weights in (
            ('pdb', sources.pdb, sources.pdb_weights),
            ('distillation', sources.distillation,
             sources.distillation_weights))
        if source is not None}

  def __call__(self, j: int):
    rng = np.random.default_rng([self._seed, _DRAW_STREAM, j])
    name = ('distillation' if rng.random() < self.distillation_fraction
            else 'pdb')
    cumulative = self._cumulative[name]
    index = int(np.searchsorted(cumulative, rng.random(), side='right'))
    return name, min(index, len(cumulative) - 1)


def example_seed(seed: int, j: int) -> int:
  """The process_features seed of global example j."""
  return int(np.random.SeedSequence(
      [seed, _PROCESS_STREAM, j]).generate_state(1)[0])


def monomer_example(record: Mapping[str, Any],
                    config: ml_collections.ConfigDict, seed: int
                    ) -> Dict[str, np.ndarray]:
  """A chain record (PDB or self-distillation) -> its training example."""
  return process_features(records.to_raw_features(record), config,
                          mode='train', random_seed=seed)


# (record, config, seed) -> the processed training example.
MakeExample = Callable[[Mapping[str, Any], ml_collections.ConfigDict, int],
                       Dict[str, np.ndarray]]


class _TrainExample:
  """Global example index -> the processed training example."""

  def __init__(self, sources: StreamSources, draw: ExampleDraw,
               config: ml_collections.ConfigDict, seed: int,
               make_example: MakeExample = monomer_example):
    self._sources = {'pdb': sources.pdb, 'distillation': sources.distillation}
    self._draw = draw
    self._config = config
    self._seed = seed
    self._make_example = make_example

  def __call__(self, j: int) -> Dict[str, np.ndarray]:
    name, index = self._draw(j)
    return self._make_example(self._sources[name][index], self._config,
                              example_seed(self._seed, j))


def make_dataset(sources: StreamSources, config: ml_collections.ConfigDict,
                 global_batch_size: int, seed: int,
                 distillation_fraction: float = DISTILLATION_FRACTION,
                 process_index: Optional[int] = None,
                 process_count: Optional[int] = None,
                 make_example: MakeExample = monomer_example
                 ) -> grain.MapDataset:
  """The endless grain dataset of this process's batches.

  Args:
    sources: the two sets.
    config: the training config (`config.data` drives process_features).
    global_batch_size: B, examples per step over all processes.
    seed: seed of every draw and transform.
    distillation_fraction: share of self-distillation examples.
    process_index, process_count: this host and the number of hosts;
      jax.process_index() / jax.process_count() when None.
    make_example: (record, config, seed) -> example; process_features of
      the record's raw features by default, or e.g.
      data.multimer.training.training_example for complexes.

  Returns:
    MapDataset whose element p is this host's part of global batch p:
    process_features outputs with a leading [B / process_count] axis.
  """
  index = jax.process_index() if process_index is None else process_index
  count = jax.process_count() if process_count is None else process_count
  if global_batch_size % count:
    raise ValueError(f'The global batch ({global_batch_size}) must divide '
                     f'among {count} processes.')
  draw = ExampleDraw(sources, seed, distillation_fraction)
  examples = grain.MapDataset.range(_NUM_EXAMPLES)[index::count]
  return examples.map(_TrainExample(sources, draw, config, seed,
                                    make_example)).batch(
      global_batch_size // count, drop_remainder=True)


class TrainingStream:
  """The loader with the training loop's data interface: iteration over
  local batches, `example(j)` for shapes, and get_state / set_state for the
  checkpoint (alphafold_jax.training.checkpoint saves the dict as JSON).
  """

  def __init__(self, sources: StreamSources,
               config: ml_collections.ConfigDict, global_batch_size: int,
               seed: int, distillation_fraction: float = DISTILLATION_FRACTION,
               process_index: Optional[int] = None,
               process_count: Optional[int] = None,
               num_threads: int = NUM_THREADS,
               prefetch_batches: int = PREFETCH_BATCHES,
               make_example: MakeExample = monomer_example):
    self.draw = ExampleDraw(sources, seed, distillation_fraction)
    self._example = _TrainExample(sources, self.draw, config, seed,
                                  make_example)
    self._dataset = make_dataset(sources, config, global_batch_size, seed,
                                 distillation_fraction, process_index,
                                 process_count, make_example)
    self._iterator = iter(self._dataset.to_iter_dataset(grain.ReadOptions(
        num_threads=num_threads, prefetch_buffer_size=prefetch_batches)))

  @property
  def position(self) -> int:
    """The index of the next global batch."""
    return int(self.get_state()['next_index'])

  def example(self, j: int) -> Dict[str, np.ndarray]:
    """Global example j, processed (no batch axis); does not advance."""
    return self._example(j)

  def get_state(self) -> Dict[str, Any]:
    return dict(self._iterator.get_state())

  def set_state(self, state: Mapping[str, Any]) -> None:
    self._iterator.set_state(dict(state))

  def __iter__(self):
    return self

  def __next__(self) -> Dict[str, np.ndarray]:
    return next(self._iterator)
