"""Masked-MSA loss (Suppl. section 1.9.9)."""
import numpy as np

from alphafold_jax.losses import masked_msa
from tests.losses.golden import assert_matches


def test_masked_msa_loss_matches_reference(golden, x64):
  config, batch, flat, outputs = golden
  result = masked_msa.masked_msa_loss(outputs['masked_msa'], batch,
                                      config.model.heads.masked_msa)
  assert_matches(result, flat, 'masked_msa/')


def test_only_masked_positions_count(golden, x64):
  config, batch, _, outputs = golden
  logits = np.array(outputs['masked_msa']['logits'])
  logits[batch['bert_mask'] == 0] = 1e3 * np.random.RandomState(0).randn(
      int((batch['bert_mask'] == 0).sum()), logits.shape[-1])
  head_config = config.model.heads.masked_msa
  np.testing.assert_allclose(
      masked_msa.masked_msa_loss({'logits': logits}, batch,
                                 head_config)['loss'],
      masked_msa.masked_msa_loss(outputs['masked_msa'], batch,
                                 head_config)['loss'], rtol=1e-12)
