"""The training data stream: deterministic batches with a saveable position.

Batch p holds the global examples p*B .. p*B+B-1. Example j is structure
order_e[j mod n] of epoch e = j // n (a fresh permutation per epoch) and is
processed with a seed drawn from (seed, j), so the stream is a pure function
of (seed, position): saving the position with the checkpoint makes a resumed
run see exactly the batches an uninterrupted run would.
"""
from __future__ import annotations

from typing import Dict, List, Mapping, Optional, Sequence

import ml_collections
import numpy as np

from alphafold_jax.data import structure_features
from alphafold_jax.data.features import process_features

RawFeatures = Mapping[str, np.ndarray]


def load_structures(pdb_files: Sequence[str],
                    chains: Optional[Sequence[str]] = None
                    ) -> List[Dict[str, np.ndarray]]:
  """Single-sequence raw features of each structure file.

  Args:
    pdb_files: PDB or mmCIF files (optionally gzipped).
    chains: one chain id per file; '' or None takes the file's first chain.
  """
  chains = list(chains or [''] * len(pdb_files))
  if len(chains) != len(pdb_files):
    raise ValueError(f'{len(pdb_files)} structure files but {len(chains)} '
                     'chain ids.')
  return [structure_features.raw_features_from_protein(
      structure_features.read_structure(path, chain or None))
          for path, chain in zip(pdb_files, chains)]


class TrainingData:
  """Iterator of this process's share of each global batch.

  Every feature gets a leading [B_local] axis (B_local = global batch /
  process count) before the per-example axis of `process_features`.
  """

  def __init__(self, examples: Sequence[RawFeatures],
               config: ml_collections.ConfigDict, global_batch_size: int,
               seed: int, process_index: int = 0, process_count: int = 1):
    if not examples:
      raise ValueError('TrainingData needs at least one example.')
    if global_batch_size % process_count:
      raise ValueError(f'The global batch ({global_batch_size}) must divide '
                       f'among {process_count} processes.')
    self._examples = list(examples)
    self._config = config
    self._global_batch_size = global_batch_size
    self._local_batch_size = global_batch_size // process_count
    self._process_index = process_index
    self._seed = seed
    self.position = 0

  def get_state(self) -> Dict[str, int]:
    """What a checkpoint saves: the index of the next batch."""
    return {'position': int(self.position)}

  def set_state(self, state: Mapping[str, int]) -> None:
    self.position = int(state['position'])

  def example_index(self, j: int) -> int:
    """The structure global example j is drawn from."""
    num = len(self._examples)
    epoch, offset = divmod(j, num)
    order = np.random.default_rng([self._seed, epoch]).permutation(num)
    return int(order[offset])

  def example(self, j: int) -> Dict[str, np.ndarray]:
    """Global example j, processed (cropped, sampled) for training."""
    example_seed = int(np.random.SeedSequence(
        [self._seed, j]).generate_state(1)[0])
    return process_features(self._examples[self.example_index(j)],
                            self._config, mode='train',
                            random_seed=example_seed)

  def __iter__(self):
    return self

  def __next__(self) -> Dict[str, np.ndarray]:
    first = (self.position * self._global_batch_size +
             self._process_index * self._local_batch_size)
    members = [self.example(first + k) for k in range(self._local_batch_size)]
    self.position += 1
    return {key: np.stack([m[key] for m in members]) for key in members[0]}
