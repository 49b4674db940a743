"""The whole model against the reference on the golden case, in float64."""
import jax
import numpy as np
import pytest

from tests.model import golden_model
from tests.model import golden_modules

# The outputs the issue names, plus everything else the model returns that
# the reference also returned.
REQUIRED = [
    'structure_module/final_atom_positions', 'structure_module/final_atom_mask',
    'distogram/logits', 'masked_msa/logits', 'predicted_lddt/logits',
    'experimentally_resolved/logits', 'predicted_aligned_error/logits',
    'representations/msa', 'representations/msa_first_row',
    'representations/pair', 'representations/single',
    'representations/structure_module',
]


@pytest.fixture(scope='module')
def outputs64():
  with jax.enable_x64(True):
    out = golden_model.run_golden()
    return {k: np.asarray(v) for k, v in golden_model.flatten(out).items()}


@pytest.fixture(scope='module')
def reference64():
  data = np.load(golden_model.SMALL / 'outputs64.npz')
  return {k: data[k] for k in data.files}


def test_returns_every_required_output(outputs64):
  assert not [k for k in REQUIRED if k not in outputs64]


def test_every_output_matches_reference(outputs64, reference64):
  compared = [k for k in outputs64 if k in reference64]
  assert set(REQUIRED) <= set(compared)
  errors = {k: golden_modules.relative_error(outputs64[k], reference64[k])
            for k in compared}
  bad = {k: e for k, e in errors.items() if not e < 1e-6}
  assert not bad, bad
