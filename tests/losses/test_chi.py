"""Supervised chi loss with the angle-norm term (Suppl. Alg. 27)."""
import numpy as np

from alphafold_jax.common import residue_constants
from alphafold_jax.losses import chi
from tests.losses.golden import assert_matches


def test_chi_losses_match_reference(golden, x64):
  _, batch, flat, outputs = golden
  result = chi.supervised_chi_loss(outputs['structure_module']['sidechains'],
                                   batch)
  assert_matches(result, flat, 'structure_module/')


def _perfect_prediction(batch, chi_angles):
  num_res = len(batch['aatype'])
  angles = np.zeros((1, num_res, 7, 2))
  angles[..., 1] = 1.
  angles[0, :, 3:, 0] = np.sin(chi_angles)
  angles[0, :, 3:, 1] = np.cos(chi_angles)
  return {'angles_sin_cos': angles, 'unnormalized_angles_sin_cos': 2 * angles}


def test_pi_periodic_chi_counts_chi_plus_pi_as_correct(golden, x64):
  _, batch, _, _ = golden
  periodic = np.array(residue_constants.chi_pi_periodic)[batch['aatype']]
  assert periodic.sum() > 0
  flipped = batch['chi_angles'] + np.pi * periodic
  result = chi.supervised_chi_loss(_perfect_prediction(batch, flipped), batch)
  np.testing.assert_allclose(result['chi_loss'], 0., atol=1e-12)
  # Flipping a chi that is not pi-periodic is an error.
  not_periodic = batch['chi_mask'] * (1 - periodic)
  wrong = batch['chi_angles'] + np.pi * not_periodic
  result = chi.supervised_chi_loss(_perfect_prediction(batch, wrong), batch)
  assert result['chi_loss'] > 1.
  # Unnormalised angles of norm 2 cost |2 - 1| each.
  np.testing.assert_allclose(result['angle_norm_loss'], 1., rtol=1e-6)
