"""Cropping the chains' MSAs and templates and merging the chains into one
example (AlphaFold-Multimer supplement, "Features" and "MSA pairing").

Per chain: at most MSA_CROP_SIZE MSA rows (paired rows count against the
chain's budget: at most half of it paired, the rest unpaired) and at most
MAX_TEMPLATES templates, zero-padded to MAX_TEMPLATES. Copies of one entity
are then laid side by side (their MSAs share rows: the homomer's dense MSA);
the entities' unpaired MSAs form a block-diagonal MSA (gaps off the
diagonal), under the paired rows when the complex is a heteromer. Residue
features are concatenated in the chains' order, templates along the residue
axis.
"""
from __future__ import annotations

from typing import Dict, List, Mapping, Sequence

import numpy as np

from alphafold_jax.common import residue_constants
from alphafold_jax.data.multimer import pairing

MSA_CROP_SIZE = 2048
MAX_TEMPLATES = 4
# The model's MSA is padded with empty rows to at least this depth, so that
# the extra MSA it samples is never empty.
MIN_MSA_ROWS = 512

SEQ_FEATURES = ('residue_index', 'aatype', 'all_atom_positions',
                'all_atom_mask', 'seq_mask', 'between_segment_residues',
                'has_alt_locations', 'has_hetatoms', 'asym_id', 'entity_id',
                'sym_id', 'entity_mask', 'deletion_mean',
                'prediction_atom_mask', 'literature_positions',
                'atom_indices_to_group_indices', 'rigid_group_default_frame')
TEMPLATE_FEATURES = ('template_aatype', 'template_all_atom_positions',
                     'template_all_atom_mask')
CHAIN_FEATURES = ('num_alignments', 'seq_length')
# Value of the off-diagonal blocks of the block-diagonal MSA.
_MSA_PAD_VALUES = {'msa': pairing.MSA_GAP_IDX, 'msa_mask': 1,
                   'deletion_matrix': 0, 'deletion_matrix_int': 0}
# What the model reads; everything else is dropped from the example.
MODEL_FEATURES = frozenset({
    'aatype', 'all_atom_mask', 'all_atom_positions', 'all_chains_entity_ids',
    'all_crops_all_chains_mask', 'all_crops_all_chains_positions',
    'all_crops_all_chains_residue_ids', 'assembly_num_chains', 'asym_id',
    'bert_mask', 'cluster_bias_mask', 'deletion_matrix', 'deletion_mean',
    'entity_id', 'entity_mask', 'mem_peak', 'msa', 'msa_mask',
    'num_alignments', 'num_templates', 'queue_size', 'residue_index',
    'resolution', 'seq_length', 'seq_mask', 'sym_id', 'template_aatype',
    'template_all_atom_mask', 'template_all_atom_positions'})

Features = Dict[str, np.ndarray]


def _base_name(name: str) -> str:
  return name.split('_all_seq')[0]


def crop_chain(chain: Mapping[str, np.ndarray], pair_msa_sequences: bool,
               msa_crop_size: int = MSA_CROP_SIZE,
               max_templates: int = MAX_TEMPLATES) -> Features:
  """One chain's MSA and templates cropped to the budgets.

  With pairing, the paired MSA keeps at most msa_crop_size // 2 rows and the
  unpaired MSA at most msa_crop_size minus the number of kept paired rows
  that are not all gaps (so each chain's MSA stays about msa_crop_size
  deep). Sets num_alignments, num_templates (and num_alignments_all_seq)
  int32 to the kept counts.
  """
  chain = dict(chain)
  msa_size = int(chain['num_alignments'])
  all_seq_crop = None
  if pair_msa_sequences:
    all_seq_crop = min(int(chain['num_alignments_all_seq']),
                       msa_crop_size // 2)
    msa_all_seq = np.asarray(chain['msa_all_seq'])[:all_seq_crop]
    non_gapped_pairs = int(np.sum(np.any(
        msa_all_seq != pairing.MSA_GAP_IDX, axis=1)))
    non_gapped_pairs = min(non_gapped_pairs, all_seq_crop)
    msa_crop = min(msa_size, max(msa_crop_size - non_gapped_pairs, 0))
  else:
    msa_crop = min(msa_size, msa_crop_size)

  num_templates = None
  if 'template_aatype' in chain and max_templates:
    num_templates = min(np.shape(chain['template_aatype'])[0], max_templates)

  for name in list(chain):
    base = _base_name(name)
    if base in TEMPLATE_FEATURES and num_templates is not None:
      chain[name] = np.asarray(chain[name])[:num_templates]
    elif base in pairing.MSA_FEATURES:
      if '_all_seq' in name and pair_msa_sequences:
        chain[name] = np.asarray(chain[name])[:all_seq_crop]
      else:
        chain[name] = np.asarray(chain[name])[:msa_crop]

  chain['num_alignments'] = np.asarray(msa_crop, dtype=np.int32)
  if num_templates is not None:
    chain['num_templates'] = np.asarray(num_templates, dtype=np.int32)
  if pair_msa_sequences:
    chain['num_alignments_all_seq'] = np.asarray(all_seq_crop, dtype=np.int32)
  return chain


def pad_templates(chain: Mapping[str, np.ndarray], max_templates: int
                  ) -> Features:
  """Template features zero-padded to max_templates on the first axis."""
  chain = dict(chain)
  for name in TEMPLATE_FEATURES:
    if name in chain:
      value = np.asarray(chain[name])
      padding = [(0, max_templates - value.shape[0])] + [(0, 0)] * (
          value.ndim - 1)
      chain[name] = np.pad(value, padding, mode='constant')
  return chain


def block_diag(arrays: Sequence[np.ndarray], pad_value) -> np.ndarray:
  """Block-diagonal matrix of 2-D `arrays`, `pad_value` off the blocks (the
  dtype is the arrays' common dtype)."""
  arrays = [np.asarray(a) for a in arrays]
  dtype = np.result_type(*[a.dtype for a in arrays])
  rows = sum(a.shape[0] for a in arrays)
  cols = sum(a.shape[1] for a in arrays)
  out = np.full((rows, cols), pad_value, dtype=dtype)
  r = c = 0
  for a in arrays:
    out[r:r + a.shape[0], c:c + a.shape[1]] = a
    r += a.shape[0]
    c += a.shape[1]
  return out


def _merge(chains: Sequence[Mapping[str, np.ndarray]],
           pair_msa_sequences: bool) -> Features:
  """Merges chains feature by feature (the first chain's keys).

  MSA features: side by side when `pair_msa_sequences` or paired
  (`*_all_seq`), else block-diagonal. Residue features concatenated,
  templates along the residue axis, per-chain counts summed; any other
  feature is the first chain's.
  """
  merged = {}
  for name in chains[0]:
    values = [np.asarray(c[name]) for c in chains]
    base = _base_name(name)
    if base in pairing.MSA_FEATURES:
      if pair_msa_sequences or '_all_seq' in name:
        merged[name] = np.concatenate(values, axis=1)
      else:
        merged[name] = block_diag(values, pad_value=_MSA_PAD_VALUES[name])
    elif base in SEQ_FEATURES:
      merged[name] = np.concatenate(values, axis=0)
    elif base in TEMPLATE_FEATURES:
      merged[name] = np.concatenate(values, axis=1)
    elif base in CHAIN_FEATURES:
      merged[name] = np.sum(np.stack(values), axis=0).astype(np.int32)
    else:
      merged[name] = values[0]
  return merged


def merge_homomers_dense_msa(chains: Sequence[Mapping[str, np.ndarray]]
                             ) -> List[Features]:
  """One merged feature dict per entity (in entity_id order): the copies'
  MSAs side by side, row i of every copy on row i."""
  by_entity: Dict[float, List[Mapping[str, np.ndarray]]] = {}
  for chain in chains:
    by_entity.setdefault(float(chain['entity_id'][0]), []).append(chain)
  return [_merge(by_entity[e], pair_msa_sequences=True)
          for e in sorted(by_entity)]


def _post_merge_features(example: Features, entities: Sequence[Features],
                         pair_msa_sequences: bool) -> Features:
  """seq_length, num_alignments, cluster_bias_mask and bert_mask.

  cluster_bias_mask [N_seq] marks the rows always kept as cluster centres
  by the model's MSA sampling: the first (paired query) row of a heteromer,
  each entity's query row otherwise. bert_mask [N_seq, N_res] marks where
  the masked-MSA loss may apply: everywhere on the paired rows, on each
  entity's own block of the block-diagonal rows.
  """
  example['seq_length'] = np.asarray(example['aatype'].shape[0], np.int32)
  example['num_alignments'] = np.asarray(example['msa'].shape[0], np.int32)
  msa_masks = [np.ones(e['msa'].shape, np.float32) for e in entities]
  if pair_msa_sequences:
    cluster_bias_mask = np.zeros(example['msa'].shape[0])
    cluster_bias_mask[0] = 1
    paired_masks = [np.ones(e['msa_all_seq'].shape, np.float32)
                    for e in entities]
    bert_mask = np.concatenate([np.concatenate(paired_masks, axis=1),
                                block_diag(msa_masks, pad_value=0)], axis=0)
  else:
    cluster_bias_mask = np.concatenate([
        np.eye(1, e['msa'].shape[0])[0] for e in entities])
    bert_mask = block_diag(msa_masks, pad_value=0)
  example['cluster_bias_mask'] = cluster_bias_mask
  example['bert_mask'] = bert_mask
  return example


def merge_chain_features(chains: Sequence[Mapping[str, np.ndarray]],
                         pair_msa_sequences: bool,
                         max_templates: int = MAX_TEMPLATES) -> Features:
  """The cropped chains (in example order) merged into one example.

  With pairing, the paired rows [N_pairs, N_res] sit above the
  block-diagonal unpaired rows.
  """
  chains = [pad_templates(c, max_templates) for c in chains]
  entities = merge_homomers_dense_msa(chains)
  example = _merge(entities, pair_msa_sequences=False)
  if pair_msa_sequences:
    for name in pairing.MSA_FEATURES:
      if name in example:
        example[name] = np.concatenate(
            [example[name + '_all_seq'], example[name]], axis=0)
  return _post_merge_features(example, entities, pair_msa_sequences)


def finalize(example: Mapping[str, np.ndarray]) -> Features:
  """MSA in the model's residue order, the masks, the model's features only.

  msa [N_seq, N_res] int32 (HHblits order -> ours); seq_mask [N_res] and
  msa_mask [N_seq, N_res] float32: 1 on residues of a chain (entity_id > 0).
  """
  example = dict(example)
  example['msa'] = np.take(residue_constants.MAP_HHBLITS_AATYPE_TO_OUR_AATYPE,
                           example['msa'], axis=0).astype(np.int32)
  seq_mask = (example['entity_id'] > 0).astype(np.float32)
  example['seq_mask'] = seq_mask
  example['msa_mask'] = (np.ones_like(example['msa'], np.float32)
                         * seq_mask[None])
  return {k: v for k, v in example.items() if k in MODEL_FEATURES}


def pad_msa(example: Mapping[str, np.ndarray],
            min_num_seq: int = MIN_MSA_ROWS) -> Features:
  """MSA features padded with zero rows to at least min_num_seq rows."""
  example = dict(example)
  num_seq = example['msa'].shape[0]
  if num_seq < min_num_seq:
    for name in ('msa', 'deletion_matrix', 'bert_mask', 'msa_mask'):
      example[name] = np.pad(example[name],
                             ((0, min_num_seq - num_seq), (0, 0)))
    example['cluster_bias_mask'] = np.pad(example['cluster_bias_mask'],
                                          ((0, min_num_seq - num_seq),))
  return example
