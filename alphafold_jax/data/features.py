"""process_features: raw features -> the batch the model consumes.

The inference processing of the reference (Suppl. 1.2.5-1.2.9: MSA cluster
sampling, BERT masking, cluster profiles, extra MSA, fixed-size padding,
one batch per ensemble member and recycling iteration) and the training-time
transforms it never released (Suppl. Alg. 1 MSA block deletion, Suppl.
1.2.8 residue crops, Suppl. 1.10 recycling-count sampling, Suppl. 1.11.5 FAPE clamping flag, Suppl. 1.9
supervised features from the structure).

  from alphafold_jax.data.features import process_features
  batch = process_features(raw_features, config, mode='eval', random_seed=0)
"""
from __future__ import annotations

import copy
from typing import Dict, Mapping, Optional, Tuple

import ml_collections
import numpy as np

from alphafold_jax.common import residue_constants
from alphafold_jax.data import supervised
from alphafold_jax.data import templates
from alphafold_jax.data import transforms

# Training-time sizes of Suppl. Table 4 (initial training), used where the
# config has no data.train section.
TRAIN_CROP_SIZE = 256
TRAIN_MAX_MSA_CLUSTERS = 128
TRAIN_MAX_EXTRA_MSA = 1024
TRAIN_MAX_TEMPLATES = 4
# Suppl. Alg. 1 (MSA block deletion, training): 5 blocks of 30% of the rows.
MSA_FRACTION_PER_BLOCK = 0.3
MSA_NUM_BLOCKS = 5
# Suppl. 1.11.5: FAPE is clamped in 90% of the training examples.
CLAMPED_FAPE_PROBABILITY = 0.9
# Where a structure comes without its resolution: a value inside the window
# (0.1-3.0 Å) in which the structure losses apply; the golden fixture's.
DEFAULT_RESOLUTION = 2.0

# Raw features read, by group.
_MSA_KEYS = ('aatype', 'residue_index', 'seq_length', 'msa',
             'deletion_matrix_int', 'deletion_matrix', 'num_alignments',
             'between_segment_residues')
_TEMPLATE_KEYS = ('template_aatype', 'template_all_atom_masks',
                  'template_all_atom_positions', 'template_sum_probs')
_STRUCTURE_KEYS = ('all_atom_positions', 'all_atom_mask', 'resolution',
                   'is_distillation')
# Features only the training batch carries, with their schema.
_TRAIN_ONLY_SCHEMA = {'num_iter_recycling': (), 'use_clamped_fape': ()}

_INT32_MIN, _INT32_MAX = np.iinfo(np.int32).min, np.iinfo(np.int32).max


def make_train_data_config(eval_config: ml_collections.ConfigDict, *,
                           crop_size: int = TRAIN_CROP_SIZE,
                           max_msa_clusters: int = TRAIN_MAX_MSA_CLUSTERS,
                           max_extra_msa: int = TRAIN_MAX_EXTRA_MSA,
                           max_templates: int = TRAIN_MAX_TEMPLATES
                           ) -> ml_collections.ConfigDict:
  """A `data.train` section: `data.eval` (its feature schema and masking)
  with the training sizes (Suppl. Table 4: N_res, N_clust, N_extra_seq,
  N_templ), template subsampling, no ensembling and FAPE clamped in 90% of
  the examples (Suppl. 1.11.5; `clamped_fape_probability`)."""
  train = copy.deepcopy(eval_config)
  with train.unlocked():
    train.crop_size = crop_size
    train.max_msa_clusters = max_msa_clusters
    train.max_extra_msa = max_extra_msa
    train.max_templates = max_templates
    train.subsample_templates = True
    train.num_ensemble = 1
    train.clamped_fape_probability = CLAMPED_FAPE_PROBABILITY
  return train


def train_data_config(config: ml_collections.ConfigDict
                      ) -> ml_collections.ConfigDict:
  """The data config of training mode: `config.data.train` when the config
  has one, else the initial-training sizes of Suppl. Table 4."""
  if 'train' in config.data:
    return config.data.train
  return make_train_data_config(config.data.eval)


def sample_training_flags(num_recycle: int, rng: np.random.Generator,
                          clamped_fape_probability: float = (
                              CLAMPED_FAPE_PROBABILITY)
                          ) -> Dict[str, np.ndarray]:
  """The per-example random switches of training.

  num_iter_recycling: recycling iterations run, uniform in
    [0, num_recycle] (Suppl. 1.10: 1 to N_cycle passes through the network).
  use_clamped_fape: 1 with probability `clamped_fape_probability` (0.9,
    Suppl. 1.11.5), else 0.
  """
  return {
      'num_iter_recycling': np.asarray(rng.integers(0, num_recycle + 1),
                                       np.int32),
      'use_clamped_fape': np.asarray(rng.random() < clamped_fape_probability,
                                     np.float32),
  }


def _check_raw_features(raw: Mapping[str, np.ndarray]) -> None:
  missing = [k for k in ('aatype', 'residue_index', 'seq_length', 'msa',
                         'between_segment_residues') if k not in raw]
  if 'deletion_matrix_int' not in raw and 'deletion_matrix' not in raw:
    missing.append('deletion_matrix_int')
  if missing:
    raise ValueError(f'raw_features lacks {missing}.')
  aatype = np.asarray(raw['aatype'])
  if aatype.ndim != 2 or aatype.shape[1] != residue_constants.restype_num + 1:
    raise ValueError('raw_features["aatype"] must be one-hot [N_res, 21]; got '
                     f'shape {aatype.shape}.')
  num_res = aatype.shape[0]
  msa = np.asarray(raw['msa'])
  if msa.ndim != 2 or msa.shape[1] != num_res or msa.shape[0] < 1:
    raise ValueError(f'raw_features["msa"] must be [N_seq >= 1, {num_res}]; got '
                     f'{msa.shape}.')
  deletions = raw.get('deletion_matrix_int', raw.get('deletion_matrix'))
  if np.shape(deletions) != msa.shape:
    raise ValueError(f'The deletion matrix has shape {np.shape(deletions)}, the '
                     f'msa {msa.shape}.')
  if int(np.asarray(raw['seq_length']).reshape(-1)[0]) != num_res:
    raise ValueError('raw_features["seq_length"] disagrees with aatype '
                     f'({num_res} residues).')
  if 'all_atom_positions' in raw and np.shape(raw['all_atom_positions']) != (
      num_res, residue_constants.atom_type_num, 3):
    raise ValueError('raw_features["all_atom_positions"] must be [N_res, 37, '
                     f'3]; got {np.shape(raw["all_atom_positions"])}.')


def _nonensembled(raw: Mapping[str, np.ndarray], use_templates: bool,
                  block_delete_rng: Optional[np.random.Generator]
                  ) -> Dict[str, np.ndarray]:
  """Features computed once per example (before any sampling); MSA block
  deletion when `block_delete_rng` is given (training)."""
  keys = _MSA_KEYS + _STRUCTURE_KEYS + (_TEMPLATE_KEYS if use_templates
                                        else ())
  features = {k: np.asarray(raw[k]) for k in keys if k in raw}
  features = transforms.squeeze_raw_features(features)
  features = transforms.correct_msa_restypes(features)
  features = transforms.make_seq_and_msa_masks(features)
  if block_delete_rng is not None:
    features = transforms.block_delete_msa(
        features, MSA_FRACTION_PER_BLOCK, MSA_NUM_BLOCKS, block_delete_rng)
  features = transforms.make_hhblits_profile(features)
  if use_templates:
    if 'template_aatype' not in features:
      features.update({
          k: v for k, v in templates.empty_template_features(
              features['aatype'].shape[0]).items() if k in _TEMPLATE_KEYS})
    features = transforms.fix_templates_aatype(features)
    features = transforms.make_template_mask(features)
    features = transforms.make_template_pseudo_beta(features)
  features.update(supervised.make_atom14_masks(features['aatype']))
  if 'all_atom_positions' in features:
    features.update(supervised.make_supervised_features(
        features['aatype'], features['all_atom_positions'],
        features['all_atom_mask']))
    features['resolution'] = np.asarray(
        features.get('resolution', DEFAULT_RESOLUTION),
        np.float32).reshape(())
  features['is_distillation'] = np.asarray(
      features.get('is_distillation', 0.), np.float32).reshape(())
  return features


def _ensembled(features: Mapping[str, np.ndarray], data_config, common,
               schema, crop: Tuple[int, int], num_clusters: int,
               rng: np.random.Generator) -> Dict[str, np.ndarray]:
  """One ensemble member / recycling iteration (Suppl. 1.2.7, 1.2.8)."""
  features = transforms.sample_msa(features, num_clusters, rng)
  if 'masked_msa' in common:
    features = transforms.make_masked_msa(
        features, common.masked_msa, data_config.masked_msa_replace_fraction,
        rng)
  if common.msa_cluster_features:
    features = transforms.nearest_neighbor_clusters(features)
    features = transforms.summarize_clusters(features)
  max_extra_msa = data_config.get('max_extra_msa', common.max_extra_msa)
  features = transforms.crop_extra_msa(features, max_extra_msa, rng)
  features = transforms.make_msa_feat(features)
  features = transforms.select_features(features, set(schema))
  features = transforms.crop_to_size(features, schema, crop[0], crop[1],
                                     data_config.max_templates)
  return transforms.make_fixed_size(features, schema, {
      transforms.NUM_RES: data_config.crop_size,
      transforms.NUM_MSA_SEQ: num_clusters,
      transforms.NUM_EXTRA_SEQ: max_extra_msa,
      transforms.NUM_TEMPLATES: data_config.max_templates,
  })


def _subsample_templates(features: Mapping[str, np.ndarray],
                         max_templates: int, rng: np.random.Generator
                         ) -> Dict[str, np.ndarray]:
  """Training: a random window of a random permutation of the templates, so
  that 0..max_templates of them are kept (Suppl. 1.2.3)."""
  num_templates = features['template_aatype'].shape[0]
  order = rng.permutation(num_templates)
  start = int(rng.integers(0, num_templates + 1))
  keep = order[start:start + max_templates]
  return {k: (v[keep] if k.startswith('template_') else v)
          for k, v in features.items()}


def _stack(members) -> Dict[str, np.ndarray]:
  batch = {}
  for key in members[0]:
    value = np.stack([m[key] for m in members])
    if value.dtype.kind == 'f':
      value = value.astype(np.float32, copy=False)
    elif value.dtype.kind in 'iub':
      value = value.astype(np.int32, copy=False)
    batch[key] = value
  return batch


def process_features(raw_features: Mapping[str, np.ndarray],
                     config: ml_collections.ConfigDict, mode: str = 'eval',
                     random_seed: int = 0) -> Dict[str, np.ndarray]:
  """Turns raw features into the model's batch.

  Args:
    raw_features: the data pipeline's dict: aatype [N_res, 21] one-hot,
      residue_index, seq_length, between_segment_residues, num_alignments
      [N_res]; msa, deletion_matrix_int [N_seq, N_res] (HHblits residue
      codes); optional template_aatype [N_templ, N_res, 22],
      template_all_atom_positions [N_templ, N_res, 37, 3],
      template_all_atom_masks [N_templ, N_res, 37], template_sum_probs
      [N_templ, 1]; optional structure all_atom_positions [N_res, 37, 3],
      all_atom_mask [N_res, 37], resolution (Å), is_distillation. Not
      modified.
    config: the full model ConfigDict (`config.data` is read).
    mode: 'eval' (reference inference: no crop, padded to N_res) or 'train'
      (MSA block deletion, random crop to the crop size, template
      subsampling, random recycling count and FAPE clamping flag).
    random_seed: seed of every random choice; the same seed gives the same
      batch.

  Returns:
    Features with a leading axis of num_ensemble * (num_recycle + 1) (when
    the MSA is resampled in recycling), float32 or int32, shaped as the
    config's `data.eval.feat` schema; the supervised features when the
    structure is given.

  Raises:
    ValueError: an unknown mode or malformed raw features.
  """
  if mode not in ('eval', 'train'):
    raise ValueError(f"mode must be 'eval' or 'train', got {mode!r}.")
  _check_raw_features(raw_features)
  common = config.data.common
  rng = np.random.default_rng(random_seed)
  num_res = int(np.asarray(raw_features['aatype']).shape[0])

  if mode == 'eval':
    data_config = copy.deepcopy(config.data.eval)
    with data_config.unlocked():
      data_config.crop_size = num_res
  else:
    data_config = train_data_config(config)
  schema = {k: tuple(v) for k, v in data_config.feat.items()}
  if mode == 'train':
    schema.update(_TRAIN_ONLY_SCHEMA)

  features = _nonensembled(raw_features, common.use_templates,
                           rng if mode == 'train' else None)
  crop_seed = rng.integers(_INT32_MIN, _INT32_MAX, size=2, dtype=np.int32)
  features['random_crop_to_size_seed'] = crop_seed
  # The crop (and template choice) is shared by every ensemble member.
  crop_rng = np.random.default_rng(crop_seed.astype(np.int64) - _INT32_MIN)
  crop_size = min(num_res, data_config.crop_size)
  crop_start = int(crop_rng.integers(0, num_res - crop_size + 1))
  if common.use_templates and data_config.subsample_templates:
    features = _subsample_templates(features, data_config.max_templates,
                                    crop_rng)
  if mode == 'train':
    features.update(sample_training_flags(
        common.num_recycle, rng, data_config.get(
            'clamped_fape_probability', CLAMPED_FAPE_PROBABILITY)))

  num_clusters = data_config.max_msa_clusters
  if common.reduce_msa_clusters_by_max_templates:
    num_clusters -= data_config.max_templates
  num_members = data_config.num_ensemble
  if common.resample_msa_in_recycling:
    num_members *= common.num_recycle + 1
  members = [
      _ensembled(features, data_config, common, schema, (crop_start,
                                                         crop_size),
                 num_clusters, member_rng)
      for member_rng in rng.spawn(num_members)]
  if not common.resample_msa_in_recycling:
    members = members * (common.num_recycle + 1)
  return _stack(members)
