"""Shared test fixtures: paths to the bundled golden data."""
import os
import pathlib

import pytest

FIXTURES = pathlib.Path(__file__).parent / 'fixtures'
GOLDEN = FIXTURES / 'golden'

# Tests run on the CPU; keep XLA from grabbing every core per worker.
os.environ.setdefault('XLA_FLAGS', '--xla_cpu_multi_thread_eigen=false')


@pytest.fixture(scope='session')
def fixtures_dir():
  return FIXTURES


@pytest.fixture(scope='session')
def golden_dir():
  return GOLDEN
