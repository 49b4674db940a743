"""Experimentally-resolved loss (Suppl. section 1.9.10)."""
import pytest

from alphafold_jax.losses import experimentally_resolved
from tests.losses.golden import assert_matches


def test_experimentally_resolved_loss_matches_reference(golden, x64):
  config, batch, flat, outputs = golden
  result = experimentally_resolved.experimentally_resolved_loss(
      outputs['experimentally_resolved'], batch,
      config.model.heads.experimentally_resolved)
  assert_matches(result, flat, 'experimentally_resolved/')


@pytest.mark.parametrize('resolution', [0., 3.5])
def test_resolution_filter_zeroes_the_loss(golden, resolution, x64):
  config, batch, _, outputs = golden
  result = experimentally_resolved.experimentally_resolved_loss(
      outputs['experimentally_resolved'], dict(batch, resolution=resolution),
      config.model.heads.experimentally_resolved)
  assert float(result['loss']) == 0.
