"""Fixtures of the training tests: the tiny preset on a real protein.

Compiled programs are cached on disk (jax's persistent compilation cache)
so that the tests that build the same train step compile it once.
"""
import os
import pathlib

import jax
import pytest

from alphafold_jax.training import config as config_lib
from alphafold_jax.training import data as data_lib

REPO = pathlib.Path(__file__).parents[2]
TINY_CONFIG = REPO / 'configs' / 'tiny.py'
PROTEIN = REPO / 'tests' / 'fixtures' / 'data' / '3a4rA.pdb.gz'
COMPILATION_CACHE = os.environ.setdefault(
    'JAX_COMPILATION_CACHE_DIR',
    str(REPO / '.pytest_cache' / 'jax_compilation_cache'))

jax.config.update('jax_compilation_cache_dir', COMPILATION_CACHE)
jax.config.update('jax_persistent_cache_min_compile_time_secs', 1.)


def tiny_config(**train_overrides):
  """configs/tiny.py with the `train` section overridden."""
  config = config_lib.load_config_file(TINY_CONFIG)
  config.train.update(train_overrides)
  return config


@pytest.fixture(scope='session')
def examples():
  """Raw features of one real protein (79 residues, 3A4R chain A)."""
  return data_lib.load_structures([str(PROTEIN)], ['A'])
