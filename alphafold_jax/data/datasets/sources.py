"""Opening a built dataset for reading: a random-access ArrayRecord source.

TFDS's `builder_from_directory` reads the dataset's own metadata
(dataset_info.json, features.json), so reading needs neither the builder
class nor its inputs, and no TensorFlow.
"""
from __future__ import annotations

import json
import os

import numpy as np
import tensorflow_datasets as tfds

from alphafold_jax.common import atomic

# The datasets' names (their folders under a data_dir).
PDB_DATASET = 'pdb_chains'
DISTILLATION_DATASET = 'self_distillation'
COMPLEX_DATASET = 'pdb_complexes'
# Version of the datasets' record layouts.
DATASET_VERSION = '1.0.0'
SPLIT = 'train'
FILE_FORMAT = 'array_record'
INDEX_FILE = 'index.json'


def dataset_dir(data_dir, name: str, version: str = DATASET_VERSION) -> str:
  """Where a dataset's files and build report are: data_dir/name/version."""
  return os.path.join(os.fspath(data_dir), name, version)


def open_dataset(data_dir, name: str, split: str = SPLIT,
                 version: str = DATASET_VERSION):
  """The random-access source of a built dataset (len() and [i], records
  as dicts of numpy arrays and bytes).

  Raises:
    FileNotFoundError: no complete build there.
  """
  folder = dataset_dir(data_dir, name, version)
  if not os.path.exists(os.path.join(folder, 'dataset_info.json')):
    raise FileNotFoundError(f'no built dataset in {folder}')
  return tfds.builder_from_directory(folder).as_data_source(split=split)


def write_index(data_dir, name: str, split: str = SPLIT) -> str:
  """Writes index.json beside a built dataset: the record names and
  sampling weights in the source's order, so that a loader can set up its
  sampler without reading (and decoding) every record.
  """
  source = open_dataset(data_dir, name, split)
  names, weights = [], []
  for i in range(len(source)):
    record = source[i]
    names.append(record['name'].decode())
    weights.append(float(record['sampling_weight']))
  path = os.path.join(dataset_dir(data_dir, name), INDEX_FILE)
  atomic.write_json(path, {'split': split, 'names': names,
                           'sampling_weight': weights})
  return path


def read_sampling_weights(data_dir, name: str) -> np.ndarray:
  """[N] sampling weights in source order (from index.json).

  Raises:
    FileNotFoundError: the dataset has no index.
  """
  with open(os.path.join(dataset_dir(data_dir, name), INDEX_FILE)) as f:
    return np.asarray(json.load(f)['sampling_weight'], np.float64)
