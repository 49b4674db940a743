"""Distogram loss (Suppl. section 1.9.8)."""
import jax.numpy as jnp
import numpy as np

from alphafold_jax.losses import distogram
from tests.losses.golden import assert_matches


def test_distogram_loss_matches_reference(golden, x64):
  config, batch, flat, outputs = golden
  result = distogram.distogram_loss(outputs['distogram'], batch,
                                    config.model.heads.distogram)
  assert result['loss'].dtype == jnp.float64
  assert_matches(result, flat, 'distogram/')


def test_confident_correct_distogram_has_small_loss(golden, x64):
  config, batch, _, outputs = golden
  head_config = config.model.heads.distogram
  edges = outputs['distogram']['bin_edges']
  result = distogram.distogram_loss(outputs['distogram'], batch, head_config)
  true_bins = np.sum(np.asarray(result['true_dist'])[..., None] > edges, -1)
  logits = 50. * np.eye(head_config.num_bins)[true_bins]
  perfect = distogram.distogram_loss({'logits': logits, 'bin_edges': edges},
                                     batch, head_config)
  assert perfect['loss'] < 1e-6
