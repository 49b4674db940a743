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


def _iptm_by_definition(logits, breaks, asym_id):
  """ipTM from its definition, in numpy: for each aligned residue i, the
  mean over residues j of other chains of the expected TM term, maximised
  over i; d0 from the complex's whole length."""
  num_res = logits.shape[0]
  d0 = 1.24 * (max(num_res, 19) - 15) ** (1. / 3) - 1.8
  step = breaks[1] - breaks[0]
  centers = np.append(breaks + step / 2, breaks[-1] + 1.5 * step)
  probs = np.exp(logits - logits.max(-1, keepdims=True))
  probs /= probs.sum(-1, keepdims=True)
  term = np.sum(probs / (1 + (centers / d0) ** 2), axis=-1)
  return max(np.mean(term[i, asym_id != asym_id[i]])
             for i in range(num_res))


def test_iptm_scores_only_pairs_across_chains(outputs32):
  logits = outputs32['predicted_aligned_error/logits'].astype(np.float64)
  breaks = outputs32['predicted_aligned_error/breaks'].astype(np.float64)
  num_res = logits.shape[0]
  asym_id = np.repeat([1, 2, 3], [10, 15, num_res - 25])
  iptm = confidence.predicted_tm_score(logits, breaks, asym_id=asym_id,
                                       interface=True)
  np.testing.assert_allclose(iptm, _iptm_by_definition(logits, breaks,
                                                       asym_id), rtol=1e-5)
  # Pairs within a chain do not count: changing them leaves ipTM as it is.
  same_chain = asym_id[:, None] == asym_id[None, :]
  changed = np.where(same_chain[..., None],
                     np.random.RandomState(1).randn(*logits.shape) * 50.,
                     logits)
  np.testing.assert_allclose(
      confidence.predicted_tm_score(changed, breaks, asym_id=asym_id,
                                    interface=True), iptm, rtol=1e-6)
  # Without `interface`, asym_id changes nothing: that is pTM.
  np.testing.assert_allclose(
      confidence.predicted_tm_score(logits, breaks, asym_id=asym_id),
      confidence.predicted_tm_score(logits, breaks), rtol=1e-6)


def test_iptm_needs_asym_id(outputs32):
  with pytest.raises(ValueError, match='asym_id'):
    confidence.predicted_tm_score(outputs32['predicted_aligned_error/logits'],
                                  outputs32['predicted_aligned_error/breaks'],
                                  interface=True)
