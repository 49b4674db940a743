"""The input-pipeline transforms, in numpy.

Each transform takes a feature dict and returns a new one (inputs are never
modified). Random transforms take an explicit `np.random.Generator`.
Shapes use the paper's symbols: N_res residues, N_seq MSA rows, N_clust
sampled cluster centres (Suppl. 1.2.7), N_extra extra-MSA rows, N_templ
templates.
"""
from __future__ import annotations

from typing import Dict, Mapping, Optional

import numpy as np

from alphafold_jax.common import residue_constants
from alphafold_jax.data import supervised

Features = Dict[str, np.ndarray]

# Residue classes of the MSA features (Suppl. Table 1): 20 amino acids,
# unknown (20), gap (21), and the BERT mask token (22).
NUM_AATYPE_WITH_X = residue_constants.restype_num + 1
NUM_MSA_CLASSES_WITH_GAP = NUM_AATYPE_WITH_X + 1
NUM_MSA_CLASSES = NUM_MSA_CLASSES_WITH_GAP + 1
MASK_TOKEN = NUM_MSA_CLASSES - 1

# Rows of the MSA features gathered together when the MSA is sampled.
MSA_FEATURE_NAMES = ('msa', 'deletion_matrix', 'msa_mask', 'msa_row_mask',
                     'bert_mask', 'true_msa')

# Placeholders of the feature shape schema (data.eval.feat in the config).
NUM_RES = 'num residues placeholder'
NUM_MSA_SEQ = 'msa placeholder'
NUM_EXTRA_SEQ = 'extra msa placeholder'
NUM_TEMPLATES = 'num templates placeholder'

# Suppl. 1.2.9: deletion counts d enter as arctan(d / 3) * 2 / pi.
DELETION_SCALE = 3.


def _replace(features: Mapping[str, np.ndarray], **updates) -> Features:
  new = dict(features)
  new.update(updates)
  return new


def scale_deletions(deletions: np.ndarray) -> np.ndarray:
  """arctan(d / 3) * 2 / pi (Suppl. 1.2.9, deletion_value), float32."""
  return (np.arctan(np.asarray(deletions, np.float32) / DELETION_SCALE)
          * np.float32(2. / np.pi)).astype(np.float32)


def correct_msa_restypes(features: Mapping[str, np.ndarray]) -> Features:
  """Maps `msa` and any `*profile` from HHblits' residue order to ours."""
  new_order = np.asarray(residue_constants.MAP_HHBLITS_AATYPE_TO_OUR_AATYPE,
                         dtype=np.int32)
  updates = {'msa': new_order[features['msa']]}
  for key, value in features.items():
    if 'profile' in key:
      num = value.shape[-1]
      permutation = np.zeros((num, num), np.float32)
      permutation[np.arange(num), new_order[:num]] = 1.
      updates[key] = value @ permutation
  return _replace(features, **updates)


# Rank of each raw feature after squeezing; raw files may carry an extra
# trailing axis of size 1 (e.g. resolution [1], residue_index [N_res, 1]).
_SQUEEZED_RANK = {
    'resolution': 0, 'is_distillation': 0, 'between_segment_residues': 1,
    'residue_index': 1, 'msa': 2, 'deletion_matrix': 2,
    'template_all_atom_masks': 3,
}


def squeeze_raw_features(features: Mapping[str, np.ndarray]) -> Features:
  """Raw per-residue copies of scalars -> scalars; one-hot aatype -> index.

  aatype [N_res, 21] one-hot -> [N_res] int32; seq_length, num_alignments
  [N_res] -> scalar; deletion_matrix_int -> float32 deletion_matrix; extra
  trailing axes of size 1 dropped.
  """
  new = dict(features)
  new['aatype'] = np.argmax(features['aatype'], axis=-1).astype(np.int32)
  for key in ('seq_length', 'num_alignments'):
    if key in features:
      new[key] = np.asarray(features[key]).reshape(-1)[0].astype(np.int32)
  if 'deletion_matrix_int' in new:
    new['deletion_matrix'] = new.pop('deletion_matrix_int').astype(np.float32)
  for key, rank in _SQUEEZED_RANK.items():
    if key in new and new[key].ndim > rank:
      new[key] = new[key].reshape(new[key].shape[:rank])
  for key in ('msa', 'residue_index', 'between_segment_residues'):
    if key in new:
      new[key] = new[key].astype(np.int32)
  return new


def make_seq_and_msa_masks(features: Mapping[str, np.ndarray]) -> Features:
  """seq_mask [N_res], msa_mask [N_seq, N_res], msa_row_mask [N_seq]: ones."""
  return _replace(
      features,
      seq_mask=np.ones(features['aatype'].shape, np.float32),
      msa_mask=np.ones(features['msa'].shape, np.float32),
      msa_row_mask=np.ones(features['msa'].shape[:1], np.float32))


def block_delete_msa(features: Mapping[str, np.ndarray],
                     fraction_per_block: float, num_blocks: int,
                     rng: np.random.Generator) -> Features:
  """MSA block deletion (Suppl. Alg. 1, training only).

  Deletes `num_blocks` blocks of floor(fraction_per_block * N_seq)
  consecutive rows, each starting at a uniformly random row (blocks may
  overlap or run past the end); the query row is always kept.
  """
  num_seq = features['msa'].shape[0]
  block_size = int(np.floor(fraction_per_block * num_seq))
  starts = rng.integers(0, num_seq, size=num_blocks)
  deleted = np.zeros(num_seq, bool)
  for start in starts:
    deleted[start:start + block_size] = True
  deleted[0] = False
  keep = np.nonzero(~deleted)[0]
  return _replace(features, **{k: features[k][keep] for k in MSA_FEATURE_NAMES
                               if k in features})


def make_hhblits_profile(features: Mapping[str, np.ndarray]) -> Features:
  """hhblits_profile [N_res, 22]: residue frequencies over the whole MSA,
  gaps included (Suppl. 1.2.7, used by the BERT masking)."""
  if 'hhblits_profile' in features:
    return dict(features)
  msa = features['msa']
  index = np.arange(msa.shape[1]) * NUM_MSA_CLASSES_WITH_GAP + msa
  counts = np.bincount(index.ravel(), minlength=(
      msa.shape[1] * NUM_MSA_CLASSES_WITH_GAP)).reshape(
          msa.shape[1], NUM_MSA_CLASSES_WITH_GAP)
  return _replace(features, hhblits_profile=(
      counts / np.float32(msa.shape[0])).astype(np.float32))


def fix_templates_aatype(features: Mapping[str, np.ndarray]) -> Features:
  """template_aatype [N_templ, N_res, 22] one-hot in HHblits order ->
  [N_templ, N_res] int32 in our order."""
  new_order = np.asarray(residue_constants.MAP_HHBLITS_AATYPE_TO_OUR_AATYPE,
                         dtype=np.int32)
  template_aatype = np.asarray(features['template_aatype'])
  if template_aatype.ndim == 3:
    template_aatype = np.argmax(template_aatype, axis=-1)
  return _replace(features,
                  template_aatype=new_order[template_aatype].astype(np.int32))


def make_template_mask(features: Mapping[str, np.ndarray]) -> Features:
  """template_mask [N_templ]: ones for the templates present."""
  return _replace(features, template_mask=np.ones(
      features['template_aatype'].shape[:1], np.float32))


def make_template_pseudo_beta(features: Mapping[str, np.ndarray]) -> Features:
  """template_pseudo_beta [N_templ, N_res, 3] and its mask [N_templ, N_res]:
  the C-beta (C-alpha for glycine) of each template residue (Suppl. 1.2.9)."""
  positions, mask = supervised.pseudo_beta(
      features['template_aatype'], features['template_all_atom_positions'],
      features['template_all_atom_masks'])
  return _replace(features, template_pseudo_beta=positions,
                  template_pseudo_beta_mask=mask)


def sample_msa(features: Mapping[str, np.ndarray], max_seq: int,
               rng: np.random.Generator) -> Features:
  """Samples the cluster centres (Suppl. 1.2.7 step 1).

  The query stays first; the other rows are shuffled; the first `max_seq`
  rows become the MSA (N_clust rows) and the rest the `extra_*` features.
  """
  num_seq = features['msa'].shape[0]
  order = np.concatenate([[0], 1 + rng.permutation(num_seq - 1)])
  num_sel = min(max_seq, num_seq)
  selected, rest = order[:num_sel], order[num_sel:]
  updates = {}
  for key in MSA_FEATURE_NAMES:
    if key in features:
      updates['extra_' + key] = features[key][rest]
      updates[key] = features[key][selected]
  return _replace(features, **updates)


def make_masked_msa(features: Mapping[str, np.ndarray], masked_msa_config,
                    replace_fraction: float,
                    rng: np.random.Generator) -> Features:
  """BERT-style masking of the cluster centres (Suppl. 1.2.7 step 2).

  Each position is chosen with probability `replace_fraction` (15%); a chosen
  position becomes a uniformly random amino acid (uniform_prob, 10%), a draw
  from the MSA profile (profile_prob, 10%), itself (same_prob, 10%) or the
  mask token (the remaining 70%).

  Adds bert_mask [N_clust, N_res] float32 (1 where chosen) and true_msa (the
  unmasked MSA), and replaces msa.
  """
  msa = features['msa']
  uniform = np.array([1. / residue_constants.restype_num]
                     * residue_constants.restype_num + [0., 0.], np.float32)
  mask_prob = 1. - (masked_msa_config.profile_prob
                    + masked_msa_config.same_prob
                    + masked_msa_config.uniform_prob)
  if mask_prob < 0.:
    raise ValueError('masked_msa probabilities sum to more than 1: '
                     f'{masked_msa_config}.')
  mask_position = rng.random(msa.shape) < replace_fraction
  rows, cols = np.nonzero(mask_position)
  probs = np.empty((rows.size, NUM_MSA_CLASSES), np.float64)
  probs[:, :-1] = (masked_msa_config.uniform_prob * uniform
                   + masked_msa_config.profile_prob
                   * features['hhblits_profile'][cols])
  probs[np.arange(rows.size), msa[rows, cols]] += masked_msa_config.same_prob
  probs[:, -1] = mask_prob
  cumulative = np.cumsum(probs, axis=-1)
  draws = rng.random(rows.size) * cumulative[:, -1]
  replacement = (cumulative <= draws[:, None]).sum(-1)
  bert_msa = msa.copy()
  bert_msa[rows, cols] = np.minimum(replacement, NUM_MSA_CLASSES - 1)
  return _replace(features, msa=bert_msa, true_msa=msa,
                  bert_mask=mask_position.astype(np.float32))


def _segment_sum(segments: np.ndarray, values: np.ndarray,
                 num_segments: int) -> np.ndarray:
  """values [N_extra, ...] summed over the rows of equal `segments[e]`:
  [num_segments, ...] float64."""
  counts = np.bincount(segments, minlength=num_segments)
  starts = np.cumsum(counts) - counts
  present = counts > 0
  out = np.zeros((num_segments,) + values.shape[1:], np.float64)
  if present.any():
    ordered = values[np.argsort(segments, kind='stable')]
    out[present] = np.add.reduceat(ordered, starts[present], axis=0,
                                   dtype=np.float64)
  return out


def _segment_one_hot_sum(segments: np.ndarray, classes: np.ndarray,
                         weights: np.ndarray, num_segments: int,
                         num_classes: int) -> np.ndarray:
  """sum over rows e with segments[e] == s of weights[e, i] *
  one_hot(classes[e, i]): [num_segments, N_res, num_classes] float64,
  without building the [N_extra, N_res, num_classes] one-hot."""
  num_res = classes.shape[1]
  index = ((segments[:, None] * num_res + np.arange(num_res)) * num_classes
           + classes)
  return np.bincount(index.ravel(), weights=weights.ravel(),
                     minlength=num_segments * num_res * num_classes).reshape(
                         num_segments, num_res, num_classes).astype(
                             np.float64, copy=False)  # int64 when empty.


def nearest_neighbor_clusters(features: Mapping[str, np.ndarray],
                              chunk_rows: int = 2048) -> Features:
  """Assigns each extra row to its nearest cluster centre (Suppl. 1.2.7
  step 3): the centre sharing the most residues at the same positions (the
  Hamming distance, with gaps and mask tokens never counted as agreeing).
  Ties go to the lowest centre index.

  Adds extra_cluster_assignment [N_extra] int32.
  """
  msa, msa_mask = features['msa'], features['msa_mask']
  extra, extra_mask = features['extra_msa'], features['extra_msa_mask']
  num_clust, num_res = msa.shape
  # Agreement counts are a matmul of one-hot encodings over (position,
  # residue class) slots. Only the slots some centre occupies can agree, so
  # the encoding keeps just those (compact slot ids), plus one all-zero slot
  # for everything else (gaps, mask tokens, masked entries, classes no centre
  # has at that position).
  positions = np.arange(num_res) * NUM_AATYPE_WITH_X
  centre_valid = (msa < NUM_AATYPE_WITH_X) & (msa_mask > 0)
  occupied = np.unique((positions + msa)[centre_valid])
  unused = occupied.size
  compact = np.full(num_res * NUM_AATYPE_WITH_X, unused, np.int64)
  compact[occupied] = np.arange(unused)
  width = unused + 1
  centre_hot = np.zeros((width, num_clust), np.float32)
  centre_slots = np.where(centre_valid, compact[positions + np.minimum(
      msa, NUM_AATYPE_WITH_X - 1)], unused)
  centre_hot[centre_slots, np.arange(num_clust)[:, None]] = 1.
  centre_hot[unused] = 0.
  assignment = np.zeros(extra.shape[0], np.int32)
  extra_hot = np.zeros((min(chunk_rows, extra.shape[0]), width), np.float32)
  for start in range(0, extra.shape[0], chunk_rows):
    rows = extra[start:start + chunk_rows]
    valid = (rows < NUM_AATYPE_WITH_X) & (extra_mask[start:start + chunk_rows]
                                          > 0)
    slots = np.where(valid, compact[positions + np.minimum(
        rows, NUM_AATYPE_WITH_X - 1)], unused)
    hot = extra_hot[:rows.shape[0]]
    flat_slots = (np.arange(rows.shape[0])[:, None] * width + slots).ravel()
    hot.reshape(-1)[flat_slots] = 1.
    assignment[start:start + chunk_rows] = np.argmax(hot @ centre_hot, axis=1)
    hot.reshape(-1)[flat_slots] = 0.
  return _replace(features, extra_cluster_assignment=assignment)


def summarize_clusters(features: Mapping[str, np.ndarray]) -> Features:
  """Cluster profiles and mean deletions (Suppl. 1.2.7 step 4).

  Each centre's statistics average the centre itself (after masking) and
  the extra rows assigned to it, over the rows present at each position.

  Adds cluster_profile [N_clust, N_res, 23] and cluster_deletion_mean
  [N_clust, N_res], both float32.
  """
  msa = features['msa']
  num_clust = msa.shape[0]
  assignment = features['extra_cluster_assignment']
  extra_mask = features['extra_msa_mask']
  msa_sum = _segment_one_hot_sum(assignment, features['extra_msa'], extra_mask,
                                 num_clust, NUM_MSA_CLASSES)
  # Every extra entry has one class, so its one-hot sums to its mask.
  mask_counts = 1e-6 + features['msa_mask'] + msa_sum.sum(-1)
  msa_sum += np.eye(NUM_MSA_CLASSES)[msa]
  del_sum = _segment_sum(assignment,
                         extra_mask * features['extra_deletion_matrix'],
                         num_clust) + features['deletion_matrix']
  return _replace(
      features,
      cluster_profile=(msa_sum / mask_counts[..., None]).astype(np.float32),
      cluster_deletion_mean=(del_sum / mask_counts).astype(np.float32))


def crop_extra_msa(features: Mapping[str, np.ndarray], max_extra_msa: int,
                   rng: np.random.Generator) -> Features:
  """Keeps a random subset of at most `max_extra_msa` extra rows
  (Suppl. 1.2.7 step 5)."""
  num_seq = features['extra_msa'].shape[0]
  selected = rng.permutation(num_seq)[:min(max_extra_msa, num_seq)]
  updates = {}
  for key in MSA_FEATURE_NAMES:
    if 'extra_' + key in features:
      updates['extra_' + key] = features['extra_' + key][selected]
  return _replace(features, **updates)


def make_msa_feat(features: Mapping[str, np.ndarray]) -> Features:
  """target_feat [N_res, 22] and msa_feat [N_clust, N_res, 49] (Suppl.
  Table 1), plus the extra-MSA deletion features [N_extra, N_res].

  msa_feat channels, in order: cluster_msa one-hot (23), cluster_has_deletion
  (1), cluster_deletion_value (1), cluster_profile (23),
  cluster_deletion_mean (1, scaled like the deletion value).
  target_feat channels: between_segment_residues clipped to [0, 1], then the
  aatype one-hot (21).
  """
  has_break = np.clip(features['between_segment_residues'].astype(np.float32),
                      0., 1.)
  target_feat = np.concatenate(
      [has_break[..., None],
       np.eye(NUM_AATYPE_WITH_X, dtype=np.float32)[features['aatype']]],
      axis=-1)
  deletions = features['deletion_matrix']
  msa_feat = [np.eye(NUM_MSA_CLASSES, dtype=np.float32)[features['msa']],
              np.clip(deletions, 0., 1.)[..., None].astype(np.float32),
              scale_deletions(deletions)[..., None]]
  if 'cluster_profile' in features:
    msa_feat += [features['cluster_profile'],
                 scale_deletions(features['cluster_deletion_mean'])[..., None]]
  updates = {'target_feat': target_feat,
             'msa_feat': np.concatenate(msa_feat, axis=-1)}
  if 'extra_deletion_matrix' in features:
    extra = features['extra_deletion_matrix']
    updates['extra_has_deletion'] = np.clip(extra, 0., 1.).astype(np.float32)
    updates['extra_deletion_value'] = scale_deletions(extra)
  return _replace(features, **updates)


def crop_to_size(features: Mapping[str, np.ndarray],
                 schema: Mapping[str, tuple], crop_start: int, crop_size: int,
                 max_templates: int) -> Features:
  """Contiguous residue crop [crop_start, crop_start + crop_size) and the
  first `max_templates` templates (Suppl. 1.2.8).

  Args:
    features: per-example features (no leading ensemble axis).
    schema: feature name -> dims, NUM_RES where the axis is residues.
    crop_start: first kept residue.
    crop_size: residues kept (at most N_res - crop_start).
    max_templates: templates kept.
  """
  new = dict(features)
  for key, value in features.items():
    if key not in schema:
      continue
    index = []
    for axis, dim in enumerate(schema[key]):
      if axis == 0 and key.startswith('template'):
        index.append(slice(0, max_templates))
      elif dim == NUM_RES:
        index.append(slice(crop_start, crop_start + crop_size))
      else:
        index.append(slice(None))
    new[key] = value[tuple(index)]
  new['seq_length'] = np.asarray(
      min(crop_size, int(features['seq_length']) - crop_start), np.int32)
  return new


def make_fixed_size(features: Mapping[str, np.ndarray],
                    schema: Mapping[str, tuple],
                    sizes: Mapping[str, int]) -> Features:
  """Zero-pads every feature of the schema to its fixed size.

  Args:
    features: cropped features.
    schema: feature name -> dims (placeholders or None for a fixed axis).
    sizes: placeholder -> padded size.

  Raises:
    ValueError: a feature longer than its fixed size.
  """
  new = dict(features)
  for key, value in features.items():
    if key not in schema:
      continue
    dims = schema[key]
    if len(dims) != np.ndim(value):
      raise ValueError(f'Feature {key!r} has shape {np.shape(value)}, the '
                       f'schema gives {len(dims)} dims.')
    pad = []
    for dim, size in zip(dims, np.shape(value)):
      target = sizes.get(dim, size) if dim is not None else size
      if size > target:
        raise ValueError(f'Feature {key!r} has {size} entries along '
                         f'{dim!r}, more than the fixed size {target}.')
      pad.append((0, target - size))
    new[key] = np.pad(value, pad) if any(p for _, p in pad) else value
  return new


def select_features(features: Mapping[str, np.ndarray],
                    keys: Optional[set]) -> Features:
  """The features named in `keys` (all when None)."""
  return {k: v for k, v in features.items() if keys is None or k in keys}
