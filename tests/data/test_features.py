"""process_features against the golden batch of the reference pipeline."""
import json
import pathlib

import ml_collections
import numpy as np
import pytest

from alphafold_jax.common import protein
from alphafold_jax.common import residue_constants
from alphafold_jax.data import features as features_lib
from alphafold_jax.data import mmcif
from alphafold_jax.data import msa as msa_lib
from alphafold_jax.data import parsers
from alphafold_jax.data import pipeline
from alphafold_jax.data import transforms

# Features the reference draws at random (MSA sampling and masking, the crop
# seed): compared by shape, dtype and statistics only.
RANDOM_FEATURES = frozenset([
    'bert_mask', 'extra_deletion_value', 'extra_has_deletion', 'extra_msa',
    'extra_msa_mask', 'extra_msa_row_mask', 'msa_feat', 'msa_mask',
    'msa_row_mask', 'random_crop_to_size_seed', 'true_msa'])
FLOAT_TOLERANCE = 1e-5


@pytest.fixture(scope='module')
def golden(golden_dir):
  small = golden_dir / 'small'
  raw = dict(np.load(small / 'raw_features.npz'))
  batch = dict(np.load(small / 'batch.npz'))
  with open(small / 'config.json') as f:
    config = ml_collections.ConfigDict(json.load(f))
  return raw, batch, config


@pytest.fixture(scope='module')
def eval_batch(golden):
  raw, _, config = golden
  return features_lib.process_features(raw, config, mode='eval', random_seed=0)


def test_eval_batch_has_golden_keys_shapes_dtypes(golden, eval_batch):
  _, batch, _ = golden
  assert set(eval_batch) == set(batch)
  for key, value in batch.items():
    assert eval_batch[key].shape == value.shape, key
    assert eval_batch[key].dtype == value.dtype, key


def test_eval_deterministic_features_equal_golden(golden, eval_batch):
  _, batch, _ = golden
  for key, expected in batch.items():
    if key in RANDOM_FEATURES:
      continue
    actual = eval_batch[key]
    if key == 'backbone_affine_tensor':
      # q and -q are the same rotation; the reference's sign is arbitrary.
      sign = np.where(np.sum(actual[..., :4] * expected[..., :4], axis=-1,
                             keepdims=True) < 0, -1., 1.)
      actual = np.concatenate([actual[..., :4] * sign, actual[..., 4:]], -1)
    if expected.dtype.kind in 'iu':
      np.testing.assert_array_equal(actual, expected, err_msg=key)
    else:
      np.testing.assert_allclose(actual, expected, atol=FLOAT_TOLERANCE,
                                 rtol=0, err_msg=key)


def test_eval_masks_and_padding_match_golden(golden, eval_batch):
  """The masks are deterministic given the MSA depth: 14 clusters, 27 extra
  rows padded to 32."""
  _, batch, _ = golden
  for key in ('msa_mask', 'msa_row_mask', 'extra_msa_mask',
              'extra_msa_row_mask'):
    np.testing.assert_array_equal(eval_batch[key], batch[key], err_msg=key)


def test_same_seed_same_batch_other_seed_differs(golden, eval_batch):
  raw, _, config = golden
  again = features_lib.process_features(raw, config, random_seed=0)
  other = features_lib.process_features(raw, config, random_seed=1)
  for key in eval_batch:
    np.testing.assert_array_equal(again[key], eval_batch[key], err_msg=key)
  assert not np.array_equal(other['msa_feat'], eval_batch['msa_feat'])


def test_inputs_not_modified(golden):
  raw, _, config = golden
  copies = {k: v.copy() for k, v in raw.items()}
  features_lib.process_features(raw, config, random_seed=3)
  for key, value in copies.items():
    np.testing.assert_array_equal(raw[key], value, err_msg=key)


def test_msa_is_resampled_per_recycle_and_query_first(golden, eval_batch):
  raw, _, _ = golden
  query = np.argmax(raw['aatype'], -1)
  for member in range(eval_batch['true_msa'].shape[0]):
    np.testing.assert_array_equal(eval_batch['true_msa'][member, 0], query)
  assert not np.array_equal(eval_batch['true_msa'][0], eval_batch['true_msa'][1])


def test_msa_feat_channels(eval_batch):
  msa_feat = eval_batch['msa_feat']
  one_hot = msa_feat[..., :transforms.NUM_MSA_CLASSES]
  np.testing.assert_array_equal(one_hot.sum(-1), eval_batch['msa_mask'])
  # The masked MSA is the one-hot of the sampled (after BERT) rows.
  has_deletion = msa_feat[..., 23]
  deletion_value = msa_feat[..., 24]
  np.testing.assert_allclose(
      deletion_value[has_deletion == 0], 0., atol=0)
  assert np.all(deletion_value[has_deletion == 1] > 0)
  profile = msa_feat[..., 25:48]
  np.testing.assert_allclose(profile.sum(-1), eval_batch['msa_mask'],
                             atol=1e-4)
  assert np.all((msa_feat[..., 48] >= 0) & (msa_feat[..., 48] < 1))


def test_missing_key_and_bad_shapes_raise(golden):
  raw, _, config = golden
  broken = dict(raw)
  del broken['msa']
  with pytest.raises(ValueError, match='msa'):
    features_lib.process_features(broken, config)
  broken = dict(raw, deletion_matrix_int=raw['deletion_matrix_int'][:, :5])
  with pytest.raises(ValueError, match='deletion matrix'):
    features_lib.process_features(broken, config)
  with pytest.raises(ValueError, match='mode'):
    features_lib.process_features(raw, config, mode='predict')


def test_without_structure_no_supervised_features(golden):
  raw, batch, config = golden
  unsupervised = {k: v for k, v in raw.items() if not k.startswith('all_atom')}
  out = features_lib.process_features(unsupervised, config)
  assert 'atom14_gt_positions' not in out and 'resolution' not in out
  assert 'target_feat' in out and 'atom14_atom_exists' in out


def _train_config(config, crop_size=40, max_templates=2):
  config = ml_collections.ConfigDict(config.to_dict())
  train = ml_collections.ConfigDict(config.data.eval.to_dict())
  train.crop_size = crop_size
  train.max_msa_clusters = 10
  train.max_extra_msa = 16
  train.max_templates = max_templates
  train.subsample_templates = True
  config.data.train = train
  return config


@pytest.fixture(scope='module')
def train_batch(golden):
  raw, _, config = golden
  return features_lib.process_features(raw, _train_config(config),
                                       mode='train', random_seed=5)


def test_train_crop_is_contiguous_and_shared(golden, eval_batch, train_batch):
  raw, _, _ = golden
  crop = 40
  assert train_batch['aatype'].shape == (2, crop)
  assert train_batch['msa_feat'].shape == (2, 10 - 2, crop, 49)
  assert train_batch['extra_msa'].shape == (2, 16, crop)
  start = int(train_batch['residue_index'][0, 0])
  np.testing.assert_array_equal(train_batch['residue_index'][0],
                                np.arange(start, start + crop))
  np.testing.assert_array_equal(train_batch['seq_length'], [crop, crop])
  for key in ('aatype', 'residue_index', 'atom14_gt_positions',
              'rigidgroups_gt_frames', 'chi_angles', 'pseudo_beta'):
    np.testing.assert_array_equal(train_batch[key][1], train_batch[key][0])
    np.testing.assert_array_equal(
        train_batch[key][0], eval_batch[key][0][start:start + crop],
        err_msg=key)
  # The query row of the MSA is the cropped query.
  np.testing.assert_array_equal(train_batch['true_msa'][:, 0],
                                train_batch['aatype'])


def test_train_flags(train_batch):
  flags = train_batch['num_iter_recycling']
  assert flags.dtype == np.int32 and flags[0] == flags[1]
  assert 0 <= flags[0] <= 1
  assert train_batch['use_clamped_fape'].dtype == np.float32
  rng = np.random.default_rng(0)
  draws = [features_lib.sample_training_flags(3, rng) for _ in range(4000)]
  clamped = np.mean([d['use_clamped_fape'] for d in draws])
  assert abs(clamped - features_lib.CLAMPED_FAPE_PROBABILITY) < 0.02
  counts = np.bincount([d['num_iter_recycling'] for d in draws])
  assert len(counts) == 4 and counts.min() > 900
  # A preset may set its own share of clamped-FAPE examples.
  draws = [features_lib.sample_training_flags(3, rng, 0.25)
           for _ in range(4000)]
  clamped = np.mean([d['use_clamped_fape'] for d in draws])
  assert abs(clamped - 0.25) < 0.02


def test_train_clamped_fape_probability_from_config(golden):
  raw, _, config = golden
  config = _train_config(config)
  flags = []
  for probability in (0., 1.):
    with config.data.train.unlocked():
      config.data.train.clamped_fape_probability = probability
    flags.append([float(features_lib.process_features(
        raw, config, 'train', seed)['use_clamped_fape'][0])
                  for seed in range(6)])
  assert flags == [[0.] * 6, [1.] * 6]


def test_train_pads_short_chain_and_subsamples_templates(golden):
  raw, _, config = golden
  config = _train_config(config, crop_size=128, max_templates=4)
  kept = set()
  for seed in range(4):
    batch = features_lib.process_features(raw, config, 'train', seed)
    assert batch['aatype'].shape == (2, 128)
    np.testing.assert_array_equal(batch['seq_mask'][:, 96:], 0)
    np.testing.assert_array_equal(batch['seq_mask'][:, :96], 1)
    assert batch['template_aatype'].shape == (2, 4, 128)
    np.testing.assert_array_equal(batch['template_mask'][:, 2:], 0)
    kept.add(int(batch['template_mask'][0].sum()))
  assert len(kept) > 1


def test_supervised_features_from_the_pdb_file(golden, fixtures_dir):
  """The structure read from 2rbg.pdb (chain A, first 96 residues) gives the
  golden supervised features."""
  raw, batch, config = golden
  chain = protein.from_pdb_string(
      (fixtures_dir / 'data' / '2rbg.pdb').read_text(), 'A')
  num_res = raw['aatype'].shape[0]
  np.testing.assert_array_equal(chain.aatype[:num_res],
                                np.argmax(raw['aatype'], -1))
  from_pdb = dict(raw, all_atom_positions=chain.atom_positions[:num_res],
                  all_atom_mask=chain.atom_mask[:num_res])
  out = features_lib.process_features(from_pdb, config, random_seed=2)
  for key in ('atom14_gt_positions', 'atom14_alt_gt_positions',
              'atom14_gt_exists', 'rigidgroups_gt_frames',
              'rigidgroups_alt_gt_frames', 'rigidgroups_gt_exists',
              'chi_angles', 'chi_mask', 'pseudo_beta', 'pseudo_beta_mask',
              'backbone_affine_mask'):
    np.testing.assert_allclose(out[key], batch[key], atol=FLOAT_TOLERANCE,
                               rtol=0, err_msg=key)


def test_mmcif_chain_trains(fixtures_dir):
  """An mmCIF chain -> raw features with a single-sequence MSA -> a
  training batch with every supervised feature."""
  cif = pathlib.Path(__file__).parent / 'testdata' / 'mmcif' / '5PTI.cif.gz'
  raw = pipeline.make_mmcif_features(mmcif.read(str(cif)), 'A')
  sequence = raw['sequence'][0].decode()
  raw.update(msa_lib.make_msa_features([parsers.Msa(
      (sequence,), ((0,) * len(sequence),), ('5pti_A',))]))
  with open(fixtures_dir / 'golden' / 'small' / 'config.json') as f:
    config = _train_config(ml_collections.ConfigDict(json.load(f)),
                           crop_size=64)
  config.data.common.use_templates = False
  batch = features_lib.process_features(raw, config, mode='train',
                                        random_seed=0)
  assert batch['aatype'].shape == (2, 64)
  np.testing.assert_allclose(batch['resolution'], 1.0)
  assert batch['atom14_gt_exists'][:, :58].sum() > 400
  assert not any(k.startswith('template') for k in batch)


def test_raw_features_without_templates_give_empty_padded_templates(golden):
  raw, batch, config = golden
  untemplated = {k: v for k, v in raw.items() if not k.startswith('template')}
  out = features_lib.process_features(untemplated, config)
  for key in batch:
    if key.startswith('template'):
      assert out[key].shape == batch[key].shape, key
      np.testing.assert_array_equal(out[key], 0, err_msg=key)


def _raw_row_index(raw, rows):
  """Index of each [*, N_res] row (our residue order) in the raw MSA."""
  ours = np.asarray(residue_constants.MAP_HHBLITS_AATYPE_TO_OUR_AATYPE)[
      raw['msa']]
  lookup = {bytes(row.astype(np.int8)): i for i, row in enumerate(ours)}
  return [lookup[bytes(row.astype(np.int8))] for row in rows]


def test_eval_rows_come_from_the_raw_msa_with_their_deletions(golden,
                                                              eval_batch):
  raw, _, _ = golden
  deletions = raw['deletion_matrix_int']
  for member in range(2):
    clusters = _raw_row_index(raw, eval_batch['true_msa'][member])
    assert clusters[0] == 0
    extra_rows = eval_batch['extra_msa_row_mask'][member] > 0
    extra = _raw_row_index(raw, eval_batch['extra_msa'][member][extra_rows])
    # Every raw row is a cluster centre or an extra row, once.
    assert sorted(clusters + extra) == list(range(raw['msa'].shape[0]))
    msa_feat = eval_batch['msa_feat'][member]
    np.testing.assert_array_equal(msa_feat[..., 23],
                                  np.clip(deletions[clusters], 0, 1))
    np.testing.assert_allclose(
        msa_feat[..., 24], np.arctan(deletions[clusters] / 3.) * 2. / np.pi,
        atol=1e-6)
    np.testing.assert_allclose(
        eval_batch['extra_deletion_value'][member][extra_rows],
        np.arctan(deletions[extra] / 3.) * 2. / np.pi, atol=1e-6)


def test_eval_bert_masking_statistics(golden):
  raw, _, config = golden
  chosen, mask_tokens, unchanged = [], [], []
  for seed in range(4):
    batch = features_lib.process_features(raw, config, random_seed=seed)
    masked = batch['bert_mask'] > 0
    msa = np.argmax(batch['msa_feat'][..., :transforms.NUM_MSA_CLASSES], -1)
    np.testing.assert_array_equal(msa[~masked], batch['true_msa'][~masked])
    chosen.append(masked.mean())
    mask_tokens.append(np.mean(msa[masked] == transforms.MASK_TOKEN))
    unchanged.append(np.mean(msa[masked] == batch['true_msa'][masked]))
  assert abs(np.mean(chosen) - 0.15) < 0.02
  assert abs(np.mean(mask_tokens) - 0.7) < 0.05
  # same_prob 10%, plus profile and uniform draws that hit the true residue.
  assert 0.1 < np.mean(unchanged) < 0.25
