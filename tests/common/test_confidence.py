"""Confidence metrics from the head logits, against the reference (float32)."""
import numpy as np
import pytest

from alphafold_jax.common import confidence


@pytest.fixture(scope='module')
def outputs32(golden_dir):
  with np.load(golden_dir / 'small' / 'outputs.npz') as o:
    return {k: o[k] for k in o.files}


def _rel(x, ref):
  return np.max(np.abs(np.asarray(x) - ref)) / max(1., np.max(np.abs(ref)))


def test_plddt_matches_reference(outputs32):
  plddt = confidence.compute_plddt(outputs32['predicted_lddt/logits'])
  assert plddt.dtype == np.float32
  assert _rel(plddt, outputs32['confidence/plddt']) < 1e-4
  assert np.all((plddt >= 0) & (plddt <= 100))


def test_predicted_aligned_error_matches_reference(outputs32):
  result = confidence.compute_predicted_aligned_error(
      outputs32['predicted_aligned_error/logits'],
      outputs32['predicted_aligned_error/breaks'])
  assert _rel(result['predicted_aligned_error'],
              outputs32['confidence/predicted_aligned_error']) < 1e-4
  np.testing.assert_allclose(result['max_predicted_aligned_error'], 31.75)
  np.testing.assert_allclose(
      np.sum(result['aligned_confidence_probs'], axis=-1), 1., rtol=1e-5)


def test_ptm_matches_reference(outputs32):
  ptm = confidence.predicted_tm_score(
      outputs32['predicted_aligned_error/logits'],
      outputs32['predicted_aligned_error/breaks'])
  assert _rel(ptm, outputs32['confidence/ptm']) < 1e-4


def test_ptm_ignores_zero_weight_residues(outputs32):
  logits = outputs32['predicted_aligned_error/logits']
  breaks = outputs32['predicted_aligned_error/breaks']
  num_res = logits.shape[0]
  weights = np.ones(num_res, np.float32)
  weights[num_res // 2:] = 0.
  padded = np.array(logits)
  padded[:, num_res // 2:] = 100. * np.random.RandomState(0).randn(
      num_res, num_res - num_res // 2, logits.shape[-1])
  np.testing.assert_allclose(
      confidence.predicted_tm_score(padded, breaks, weights),
      confidence.predicted_tm_score(
          logits[:num_res // 2, :num_res // 2], breaks), rtol=1e-5)
