"""Opening a built dataset for reading: a random-access ArrayRecord source.

TFDS's `builder_from_directory` reads the dataset's own metadata
(dataset_info.json, features.json), so reading needs neither the builder
class nor its inputs, and no TensorFlow.
"""
from __future__ import annotations

import os

import tensorflow_datasets as tfds

# Version of both datasets' record layout.
DATASET_VERSION = '1.0.0'
SPLIT = 'train'
FILE_FORMAT = 'array_record'


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
