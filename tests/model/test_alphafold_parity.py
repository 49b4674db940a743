"""The whole model against the reference on the golden case: in float64
every output, every loss and the gradient of the total loss; in float32
(as inference and training run) every output within the golden README's
sanity bound."""
import haiku as hk
import jax
import numpy as np
import pytest

from alphafold_jax.inference import runner
from alphafold_jax.model import AlphaFold
from tests.model import golden_model
from tests.model import golden_modules

# Outputs that the runs without loss must reproduce; every array of
# the fixture is compared with the reference.
REQUIRED = [
    'structure_module/final_atom_positions', 'structure_module/final_atom_mask',
    'distogram/logits', 'masked_msa/logits', 'predicted_lddt/logits',
    'experimentally_resolved/logits', 'predicted_aligned_error/logits',
    'representations/msa', 'representations/msa_first_row',
    'representations/pair', 'representations/single',
    'representations/structure_module',
]


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


def test_every_output_and_loss_matches_reference(outputs64, reference64):
  # Every array the reference returned: a dropped or renamed output fails.
  assert sorted(set(reference64) - set(outputs64)) == []
  errors = {k: golden_modules.relative_error(outputs64[k], reference64[k])
            for k in reference64}
  assert {k: e for k, e in errors.items() if not e < 1e-6} == {}


def test_float32_outputs_stay_within_the_sanity_bound():
  """float32, as inference and training run: every array of outputs.npz,
  the confidence metrics the runner derives included, within 5e-2 by the
  golden README's measure (float32 round-off alone moves this case's
  outputs by up to ~2e-2)."""
  reference = np.load(golden_model.SMALL / 'outputs.npz')
  out, total = golden_model.run_golden(compute_loss=True, dtype=np.float32)
  flat = {k: np.asarray(v) for k, v in golden_model.flatten(out).items()}
  flat['total_loss'] = np.asarray(total)
  for k, v in runner.confidence_metrics(out).items():
    flat[f'confidence/{k}'] = np.asarray(v)
  assert sorted(set(reference.files) - set(flat)) == []
  assert flat['structure_module/final_atom_positions'].dtype == np.float32
  errors = {k: golden_modules.relative_error(flat[k], reference[k])
            for k in reference.files}
  assert {k: e for k, e in errors.items() if not e <= 5e-2} == {}


def test_outputs_without_loss_are_the_same(outputs64):
  """Without loss (inference) every iteration, the last included, runs in
  one loop rather than a loop and a last pass: the same arithmetic compiled
  into another program, so equal up to float64 round-off."""
  with jax.enable_x64(True):
    out = golden_model.flatten(golden_model.run_golden(compute_loss=False))
  assert int(out['num_recycles']) == int(outputs64['num_recycles'])
  errors = {k: golden_modules.relative_error(out[k], outputs64[k])
            for k in REQUIRED}
  assert {k: e for k, e in errors.items() if not e < 1e-13} == {}


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
