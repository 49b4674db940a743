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


def _two_chain_logits(intra_bin, inter_bin, num_res=30, split=20, num_bins=64):
  asym_id = np.array([1] * split + [2] * (num_res - split))
  same = asym_id[:, None] == asym_id[None, :]
  bins = np.where(same, intra_bin, inter_bin)
  logits = 50. * np.eye(num_bins, dtype=np.float32)[bins]
  breaks = np.linspace(0., 31., num_bins - 1, dtype=np.float32)
  return logits, breaks, asym_id


def test_iptm_scores_only_the_interface():
  # Chains confident in themselves, not in their placement: pTM stays
  # middling, ipTM is low; the other way round ipTM is high.
  logits, breaks, asym_id = _two_chain_logits(intra_bin=0, inter_bin=63)
  iptm = float(confidence.predicted_tm_score(logits, breaks, asym_id=asym_id,
                                             interface=True))
  ptm = float(confidence.predicted_tm_score(logits, breaks))
  assert iptm < 0.1 < ptm
  logits, breaks, asym_id = _two_chain_logits(intra_bin=63, inter_bin=0)
  iptm = float(confidence.predicted_tm_score(logits, breaks, asym_id=asym_id,
                                             interface=True))
  assert iptm > 0.9


def test_iptm_is_the_best_frame_over_inter_chain_pairs():
  rng = np.random.RandomState(1)
  _, breaks, asym_id = _two_chain_logits(0, 0)
  logits = rng.randn(30, 30, 64).astype(np.float32)
  iptm = confidence.predicted_tm_score(logits, breaks, asym_id=asym_id, interface=True)
  # Direct evaluation of eq. 40-41 with the sum over the other chain only.
  d0 = 1.24 * (30 - 15) ** (1. / 3) - 1.8
  step = breaks[1] - breaks[0]
  centers = np.append(breaks + step / 2, breaks[-1] + 1.5 * step)
  probs = np.exp(logits) / np.exp(logits).sum(-1, keepdims=True)
  tm = (probs / (1 + (centers / d0) ** 2)).sum(-1)
  other = asym_id[:, None] != asym_id[None, :]
  per_frame = (tm * other).sum(-1) / other.sum(-1)
  np.testing.assert_allclose(iptm, per_frame.max(), rtol=1e-5)


def test_iptm_needs_the_chains():
  logits, breaks, _ = _two_chain_logits(0, 0)
  with pytest.raises(ValueError, match='asym_id'):
    confidence.predicted_tm_score(logits, breaks, interface=True)
