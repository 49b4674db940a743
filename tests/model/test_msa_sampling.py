"""In-model MSA sampling of AlphaFold-Multimer: behaviour of each step."""
import jax
import ml_collections
import numpy as np
import pytest

from alphafold_jax.model.trunk import msa_sampling

MASKED = ml_collections.ConfigDict({'profile_prob': 0.1, 'replace_fraction': 0.15,
                                    'same_prob': 0.1, 'uniform_prob': 0.1})


def _msa(num_seq=12, num_res=7, empty_rows=3, seed=0):
  rng = np.random.default_rng(seed)
  msa = rng.integers(0, 22, (num_seq, num_res)).astype(np.int32)
  mask = np.ones((num_seq, num_res), np.float32)
  mask[num_seq - empty_rows:] = 0.
  return {'msa': msa, 'msa_mask': mask,
          'deletion_matrix': rng.integers(0, 4, (num_seq, num_res)).astype(np.float32),
          'bert_mask': mask.copy(),
          'cluster_bias_mask': np.eye(num_seq, dtype=np.float32)[[0, 4]].sum(0)}


def test_uniform_noise_does_not_depend_on_padding():
  key = jax.random.PRNGKey(3)
  small = msa_sampling.padding_consistent_uniform(key, (3, 4))
  padded = msa_sampling.padding_consistent_uniform(key, (5, 6))
  np.testing.assert_array_equal(np.asarray(padded)[:3, :4], np.asarray(small))
  assert 0. <= float(padded.min()) and float(padded.max()) < 1.


@pytest.mark.parametrize('seed', range(3))
def test_sample_puts_query_rows_first_and_empty_rows_last(seed):
  batch = _msa()
  out = msa_sampling.sample_msa(jax.random.PRNGKey(seed), batch, 5)
  rows = {tuple(r): i for i, r in enumerate(batch['msa'])}
  order = [rows[tuple(r)] for r in np.concatenate([out['msa'], out['extra_msa']])]
  assert sorted(order) == list(range(12))
  assert set(order[:2]) == {0, 4}
  assert set(order[-3:]) == {9, 10, 11}
  np.testing.assert_array_equal(out['deletion_matrix'], batch['deletion_matrix'][order[:5]])
  np.testing.assert_array_equal(out['extra_msa_mask'], batch['msa_mask'][order[5:]])


def test_masking_only_touches_residues_in_the_mask():
  batch = _msa()
  batch['msa_profile'] = msa_sampling.make_msa_profile(batch)
  batch['msa_mask'][0, :3] = 0.
  config = ml_collections.ConfigDict({**MASKED.to_dict(), 'replace_fraction': 1.,
                                      'profile_prob': 0., 'same_prob': 0.,
                                      'uniform_prob': 0.})
  out = msa_sampling.make_masked_msa(batch, jax.random.PRNGKey(0), config)
  msa, mask = np.asarray(out['msa']), batch['msa_mask']
  # Everything in the mask is replaced by the mask token (22), the rest is 0.
  np.testing.assert_array_equal(msa, np.where(mask > 0, 22, 0))
  np.testing.assert_array_equal(out['bert_mask'], mask)
  np.testing.assert_array_equal(out['true_msa'], batch['msa'])


def test_no_masking_keeps_the_msa():
  batch = _msa()
  batch['msa_profile'] = msa_sampling.make_msa_profile(batch)
  config = ml_collections.ConfigDict({**MASKED.to_dict(), 'replace_fraction': 0.})
  out = msa_sampling.make_masked_msa(batch, jax.random.PRNGKey(0), config)
  np.testing.assert_array_equal(out['msa'], batch['msa'] * batch['msa_mask'])
  assert float(np.sum(out['bert_mask'])) == 0.


def test_extra_rows_join_the_centre_they_agree_with():
  centres = np.array([[0, 1, 2, 3], [5, 6, 7, 8]], np.int32)
  extra = np.array([[0, 1, 2, 4], [5, 6, 9, 8], [5, 6, 7, 8]], np.int32)
  batch = {'msa': centres, 'msa_mask': np.ones((2, 4), np.float32),
           'deletion_matrix': np.zeros((2, 4), np.float32),
           'extra_msa': extra, 'extra_msa_mask': np.ones((3, 4), np.float32),
           'extra_deletion_matrix': np.array([[3.] * 4, [0.] * 4, [6.] * 4], np.float32)}
  profile, deletion_mean = map(np.asarray, msa_sampling.nearest_neighbor_clusters(batch))
  one_hot = np.eye(23)
  # As in the released model, an assigned row weighs as many residues as it
  # shares with the centre (here all 4); the centre itself weighs 1.
  np.testing.assert_allclose(profile[0], (one_hot[centres[0]] + 4 * one_hot[extra[0]]) / 5,
                             atol=1e-6)
  np.testing.assert_allclose(
      profile[1], (one_hot[centres[1]] + 4 * one_hot[extra[1]] + 4 * one_hot[extra[2]]) / 9,
      atol=1e-6)
  np.testing.assert_allclose(deletion_mean, [[12. / 5] * 4, [24. / 9] * 4], atol=1e-6)
  np.testing.assert_allclose(profile.sum(-1), 1., atol=1e-6)


def test_msa_features_have_the_reference_layout():
  batch = _msa()
  batch['cluster_profile'] = np.full((12, 7, 23), 1. / 23, np.float32)
  batch['cluster_deletion_mean'] = np.zeros((12, 7), np.float32)
  feat = np.asarray(msa_sampling.create_msa_feat(batch))
  assert feat.shape == (12, 7, 49)
  np.testing.assert_array_equal(feat[..., :23].argmax(-1), batch['msa'])
  np.testing.assert_array_equal(feat[..., 23], np.clip(batch['deletion_matrix'], 0, 1))
  np.testing.assert_allclose(feat[..., 24],
                             np.arctan(batch['deletion_matrix'] / 3.) * 2 / np.pi, atol=1e-6)
