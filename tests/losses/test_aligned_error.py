"""Predicted aligned error loss (Suppl. section 1.9.7)."""
import numpy as np

from alphafold_jax.losses import aligned_error
from tests.losses.golden import assert_matches


def test_predicted_aligned_error_loss_matches_reference(golden, x64):
  config, batch, flat, outputs = golden
  result = aligned_error.predicted_aligned_error_loss(
      outputs, batch, config.model.heads.predicted_aligned_error)
  assert_matches(result, flat, 'predicted_aligned_error/')


def test_resolution_filter_zeroes_the_loss(golden, x64):
  config, batch, _, outputs = golden
  result = aligned_error.predicted_aligned_error_loss(
      outputs, dict(batch, resolution=0.),
      config.model.heads.predicted_aligned_error)
  assert float(result['loss']) == 0.


def test_aligned_errors_are_zero_for_the_true_frames(golden, x64):
  _, batch, _, _ = golden
  affine = batch['backbone_affine_tensor']
  errors = aligned_error._aligned_sq_errors(affine, affine)
  np.testing.assert_allclose(errors, 0., atol=1e-20)
