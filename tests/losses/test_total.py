"""The weighted total over the heads, against the reference's total_loss."""
import jax
import jax.numpy as jnp
import numpy as np

from alphafold_jax import losses
from tests.losses.golden import assert_matches
from tests.losses.golden import nest_outputs
from tests.losses.golden import rel_err

# Every head's loss dict matches the golden outputs under '<head>/'.
_HEADS = ('distogram', 'experimentally_resolved', 'masked_msa',
          'predicted_aligned_error', 'predicted_lddt', 'structure_module')


def test_total_loss_matches_reference(golden, x64):
  config, batch, flat, outputs = golden
  heads = config.model.heads
  total, per_head = jax.jit(lambda o, b: losses.total_loss(o, b, heads))(
      outputs, batch)
  assert sorted(per_head) == sorted(_HEADS) == sorted(losses.HEAD_LOSSES)
  worst = {}
  for name, result in per_head.items():
    errors = assert_matches(result, flat, f'{name}/')
    worst[name] = max(errors.values())
  assert total.dtype == jnp.float64
  assert rel_err(total, flat['total_loss']) <= 1e-6, worst


def test_zero_weight_heads_are_skipped(golden, x64):
  config, batch, flat, outputs = golden
  heads = config.model.heads.copy_and_resolve_references()
  heads.predicted_aligned_error.weight = 0.
  heads.experimentally_resolved.weight = 0.
  total, per_head = jax.jit(lambda o, b: losses.total_loss(o, b, heads))(
      outputs, batch)
  assert 'predicted_aligned_error' not in per_head
  assert 'experimentally_resolved' not in per_head
  expected = flat['total_loss'] - (
      0.1 * flat['predicted_aligned_error/loss'] +
      0.01 * flat['experimentally_resolved/loss'])
  assert rel_err(total, expected) <= 1e-6


def test_float32_losses_stay_near_the_float32_reference(golden, golden32):
  """Sanity bound of the fixtures (5e-2) on the reference's float32 run."""
  config, batch, _, _ = golden
  outputs = nest_outputs(golden32)
  batch32 = {k: v.astype(np.float32) if v.dtype == np.float64 else v
             for k, v in batch.items()}
  heads = config.model.heads
  total, per_head = jax.jit(lambda o, b: losses.total_loss(o, b, heads))(
      outputs, batch32)
  assert total.dtype == jnp.float32
  for name in _HEADS:
    assert per_head[name]['loss'].dtype == jnp.float32
    assert rel_err(per_head[name]['loss'], golden32[f'{name}/loss']) < 5e-2
  assert rel_err(total, golden32['total_loss']) < 5e-2
