"""Fixtures of the loss tests: the golden case in float64."""
import jax
import numpy as np
import pytest

from tests.losses import golden as golden_lib


@pytest.fixture(scope='session')
def golden(golden_dir):
  """(config, batch, flat_ref, outputs) as numpy float64.

  Tests that use them run under the `x64` fixture.
  """
  return golden_lib.load(golden_dir / 'small')


@pytest.fixture(scope='session')
def golden32(golden_dir):
  with np.load(golden_dir / 'small' / 'outputs.npz') as o:
    return {k: o[k] for k in o.files}


@pytest.fixture
def x64():
  with jax.enable_x64(True):
    yield
