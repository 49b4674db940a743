"""The numpy input-pipeline transforms: statistics of the random ones."""
import ml_collections
import numpy as np
import pytest

from alphafold_jax.data import transforms

MASKED_MSA = ml_collections.ConfigDict(
    {'profile_prob': 0.1, 'same_prob': 0.1, 'uniform_prob': 0.1})
REPLACE_FRACTION = 0.15


def _msa_features(num_seq, num_res, seed=0):
  rng = np.random.default_rng(seed)
  msa = rng.integers(0, transforms.NUM_MSA_CLASSES_WITH_GAP,
                     size=(num_seq, num_res)).astype(np.int32)
  deletions = rng.integers(0, 4, size=(num_seq, num_res)).astype(np.float32)
  features = {'msa': msa, 'deletion_matrix': deletions,
              'aatype': msa[0].copy(),
              'between_segment_residues': np.zeros(num_res, np.int32)}
  features = transforms.make_seq_and_msa_masks(features)
  return transforms.make_hhblits_profile(features)


def test_masking_fractions():
  features = _msa_features(200, 100)
  # A constant MSA makes "unchanged" and "profile" replacements identifiable.
  features['msa'] = np.full_like(features['msa'], 5)
  features = transforms.make_hhblits_profile(
      {k: v for k, v in features.items() if k != 'hhblits_profile'})
  out = transforms.make_masked_msa(features, MASKED_MSA, REPLACE_FRACTION,
                                   np.random.default_rng(0))
  chosen = out['bert_mask'] == 1
  assert abs(chosen.mean() - REPLACE_FRACTION) < 0.01
  replaced = out['msa'][chosen]
  total = replaced.size
  mask_fraction = np.mean(replaced == transforms.MASK_TOKEN)
  same_fraction = np.mean(replaced == 5)
  other_fraction = np.mean((replaced != 5) & (replaced != transforms.MASK_TOKEN))
  # 70% mask token; 10% same + 10% profile (the profile is the same residue
  # here) + 0.5% of the uniform draws; 9.5% other uniform amino acids.
  assert abs(mask_fraction - 0.7) < 0.02, (mask_fraction, total)
  assert abs(same_fraction - 0.205) < 0.02
  assert abs(other_fraction - 0.095) < 0.015
  np.testing.assert_array_equal(out['msa'][~chosen], features['msa'][~chosen])
  np.testing.assert_array_equal(out['true_msa'], features['msa'])
  assert np.all(replaced[replaced != transforms.MASK_TOKEN] < 20)


def test_masking_uniform_part_covers_amino_acids_only():
  features = _msa_features(400, 50)
  config = ml_collections.ConfigDict(
      {'profile_prob': 0., 'same_prob': 0., 'uniform_prob': 1.})
  out = transforms.make_masked_msa(features, config, 1.0,
                                   np.random.default_rng(1))
  counts = np.bincount(out['msa'].ravel(), minlength=transforms.NUM_MSA_CLASSES)
  assert counts[20:].sum() == 0
  assert counts[:20].min() > 0.8 * counts[:20].mean()


def test_sample_msa_keeps_query_first_and_splits_rows():
  features = _msa_features(30, 10)
  out = transforms.sample_msa(features, 8, np.random.default_rng(0))
  np.testing.assert_array_equal(out['msa'][0], features['msa'][0])
  assert out['msa'].shape == (8, 10) and out['extra_msa'].shape == (22, 10)
  rows = np.concatenate([out['msa'], out['extra_msa']])
  assert sorted(map(bytes, rows)) == sorted(map(bytes, features['msa']))


def _brute_force_assignment(msa, extra, extra_mask):
  agreement = np.zeros((extra.shape[0], msa.shape[0]))
  for e in range(extra.shape[0]):
    for c in range(msa.shape[0]):
      agreement[e, c] = np.sum((extra[e] == msa[c]) & (extra[e] < 21)
                               & (extra_mask[e] > 0))
  return np.argmax(agreement, axis=1)


def test_nearest_neighbor_clusters_by_hamming_distance():
  features = _msa_features(60, 40, seed=2)
  out = transforms.sample_msa(features, 10, np.random.default_rng(0))
  out['extra_msa_mask'] = (np.random.default_rng(1).random(
      out['extra_msa'].shape) < 0.8).astype(np.float32)
  out = transforms.nearest_neighbor_clusters(out, chunk_rows=7)
  expected = _brute_force_assignment(out['msa'], out['extra_msa'],
                                     out['extra_msa_mask'])
  np.testing.assert_array_equal(out['extra_cluster_assignment'], expected)


def test_extra_rows_join_their_mutated_centre():
  rng = np.random.default_rng(3)
  centres = rng.integers(0, 20, size=(5, 50)).astype(np.int32)
  extra = np.repeat(centres, 4, axis=0)
  mutate = rng.random(extra.shape) < 0.2
  extra = np.where(mutate, 21, extra).astype(np.int32)
  features = {'msa': centres, 'msa_mask': np.ones(centres.shape, np.float32),
              'extra_msa': extra,
              'extra_msa_mask': np.ones(extra.shape, np.float32)}
  out = transforms.nearest_neighbor_clusters(features)
  np.testing.assert_array_equal(out['extra_cluster_assignment'],
                                np.repeat(np.arange(5), 4))


def test_cluster_profile_averages_centre_and_members():
  features = _msa_features(12, 6, seed=4)
  out = transforms.sample_msa(features, 3, np.random.default_rng(0))
  out = transforms.nearest_neighbor_clusters(out)
  out = transforms.summarize_clusters(out)
  assignment = out['extra_cluster_assignment']
  for c in range(3):
    members = np.concatenate([out['msa'][c:c + 1],
                              out['extra_msa'][assignment == c]])
    one_hot = np.eye(transforms.NUM_MSA_CLASSES)[members]
    np.testing.assert_allclose(out['cluster_profile'][c], one_hot.mean(0),
                               atol=1e-5)
    deletions = np.concatenate([out['deletion_matrix'][c:c + 1],
                                out['extra_deletion_matrix'][assignment == c]])
    np.testing.assert_allclose(out['cluster_deletion_mean'][c],
                               deletions.mean(0), atol=1e-5)


def test_deletion_features():
  deletions = np.array([[0., 1., 3., 100.]], np.float32)
  np.testing.assert_allclose(
      transforms.scale_deletions(deletions),
      np.arctan(deletions / 3.) * 2. / np.pi, atol=1e-7)
  features = _msa_features(5, 4)
  features['deletion_matrix'] = np.repeat(deletions, 5, axis=0)
  features['extra_deletion_matrix'] = deletions
  out = transforms.make_msa_feat(features)
  assert out['msa_feat'].shape == (5, 4, 25)
  np.testing.assert_array_equal(out['msa_feat'][0, :, 23], [0, 1, 1, 1])
  np.testing.assert_allclose(out['extra_deletion_value'][0, 2], 0.5, atol=1e-6)


def test_crop_and_fixed_size():
  schema = {'aatype': (transforms.NUM_RES,),
            'msa': (transforms.NUM_MSA_SEQ, transforms.NUM_RES),
            'template_aatype': (transforms.NUM_TEMPLATES, transforms.NUM_RES),
            'seq_length': ()}
  features = {'aatype': np.arange(10, dtype=np.int32),
              'msa': np.ones((3, 10), np.int32),
              'template_aatype': np.ones((5, 10), np.int32),
              'seq_length': np.asarray(10, np.int32)}
  cropped = transforms.crop_to_size(features, schema, 2, 6, max_templates=4)
  np.testing.assert_array_equal(cropped['aatype'], np.arange(2, 8))
  assert cropped['template_aatype'].shape == (4, 6)
  assert int(cropped['seq_length']) == 6
  padded = transforms.make_fixed_size(
      cropped, schema, {transforms.NUM_RES: 8, transforms.NUM_MSA_SEQ: 5,
                        transforms.NUM_TEMPLATES: 4})
  assert padded['msa'].shape == (5, 8)
  np.testing.assert_array_equal(padded['aatype'][6:], 0)
  with pytest.raises(ValueError, match='fixed size'):
    transforms.make_fixed_size(cropped, schema, {transforms.NUM_RES: 4})


def test_block_delete_msa():
  features = _msa_features(100, 5)
  features['msa'][:, 0] = np.arange(100) % 20  # Row identities.
  rng = np.random.default_rng(0)
  sizes = []
  for _ in range(200):
    out = transforms.block_delete_msa(features, 0.3, 5, rng)
    np.testing.assert_array_equal(out['msa'][0], features['msa'][0])
    assert out['msa'].shape[0] == out['deletion_matrix'].shape[0]
    assert out['msa_row_mask'].shape[0] == out['msa'].shape[0]
    sizes.append(out['msa'].shape[0])
  # Five blocks of 30 rows delete at least 30 and at most 99 rows.
  assert 1 <= min(sizes) and max(sizes) <= 70
  assert np.mean(sizes) < 60


def test_squeeze_keeps_single_residue_chains():
  raw = {'aatype': np.eye(21, dtype=np.int32)[[3]],
         'msa': np.array([[2], [21]], np.int32),
         'deletion_matrix_int': np.zeros((2, 1), np.int32),
         'residue_index': np.array([[0]], np.int32),
         'seq_length': np.array([1], np.int32),
         'resolution': np.array([2.5], np.float32)}
  out = transforms.squeeze_raw_features(raw)
  assert out['msa'].shape == (2, 1) and out['deletion_matrix'].shape == (2, 1)
  assert out['residue_index'].shape == (1,) and out['resolution'].shape == ()
  assert out['aatype'].tolist() == [3] and int(out['seq_length']) == 1
