"""The whole model against the reference on the golden case, in float64:
every output, every loss and the gradient of the total loss."""
import haiku as hk
import jax
import numpy as np
import pytest

from alphafold_jax.model import AlphaFold
from tests.model import golden_model
from tests.model import golden_modules

# The outputs the issue names; everything else the model returns that the
# reference also returned is compared too.
REQUIRED = [
    'structure_module/final_atom_positions', 'structure_module/final_atom_mask',
    'distogram/logits', 'masked_msa/logits', 'predicted_lddt/logits',
    'experimentally_resolved/logits', 'predicted_aligned_error/logits',
    'representations/msa', 'representations/msa_first_row',
    'representations/pair', 'representations/single',
    'representations/structure_module',
]
LOSSES = ['total_loss', 'distogram/loss', 'masked_msa/loss', 'predicted_lddt/loss',
          'experimentally_resolved/loss', 'predicted_aligned_error/loss',
          'structure_module/loss', 'structure_module/fape',
          'structure_module/sidechain_fape', 'structure_module/chi_loss',
          'structure_module/angle_norm_loss']


@pytest.fixture(scope='module')
def reference64():
  data = np.load(golden_model.SMALL / 'outputs64.npz')
  return {k: data[k] for k in data.files}


@pytest.fixture(scope='module')
def outputs64():
  with jax.enable_x64(True):
    out, total = golden_model.run_golden(compute_loss=True)
    flat = {k: np.asarray(v) for k, v in golden_model.flatten(out).items()}
    flat['total_loss'] = np.asarray(total)
    return flat


def test_returns_every_required_output_and_loss(outputs64):
  assert [k for k in REQUIRED + LOSSES if k not in outputs64] == []


def test_every_output_and_loss_matches_reference(outputs64, reference64):
  compared = sorted(k for k in outputs64 if k in reference64)
  assert set(REQUIRED + LOSSES) <= set(compared)
  errors = {k: golden_modules.relative_error(outputs64[k], reference64[k])
            for k in compared}
  assert {k: e for k, e in errors.items() if not e < 1e-6} == {}


def test_outputs_without_loss_are_the_same(outputs64):
  with jax.enable_x64(True):
    out = golden_model.flatten(golden_model.run_golden(compute_loss=False))
  for key in REQUIRED:
    np.testing.assert_array_equal(np.asarray(out[key]), outputs64[key])


def test_gradient_of_total_loss_matches_reference():
  cfg = golden_modules.small_config()
  grads_ref = np.load(golden_model.SMALL / 'grads64.npz')

  def loss(batch):
    _, total = AlphaFold(cfg.model)(batch, is_training=False, compute_loss=True)
    return total

  with jax.enable_x64(True):
    grads = jax.jit(jax.grad(hk.transform(loss).apply))(
        golden_model.load_params(), None, golden_model.load_batch())
  flat = {f'{scope}//{name}': np.asarray(g)
          for scope, values in grads.items() for name, g in values.items()}
  assert sorted(flat) == sorted(grads_ref.files)
  errors = {k: float(np.linalg.norm(flat[k] - grads_ref[k]) /
                     max(1e-8, np.linalg.norm(grads_ref[k]))) for k in flat}
  assert {k: e for k, e in errors.items() if not e < 1e-5} == {}
