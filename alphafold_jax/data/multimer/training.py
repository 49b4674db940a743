"""A stored complex -> one AlphaFold-Multimer training example.

The complex's per-chain raw features go through the inference pipeline
(features.process_multimer_features: chain identifiers, pairing of the
UniProt hits by species, MSA crops, merging); the experimental structure,
in the same entity-by-entity residue order, is the truth. Then, seeded:
  * the multi-chain crop to `crop_size` residues (cropping.py: per-chain
    contiguous or interface-spatial, Evans et al. 2021, section 7.2);
  * the MSA cut to a fixed `num_msa_rows`: the rows the model always keeps
    (cluster_bias_mask) and a uniform sample of the others, in their
    order. The model draws its cluster centres and extra rows uniformly
    from the non-bias rows anyway, so with num_msa_rows = num_msa +
    num_extra_msa what it sees is distributed as with the whole MSA;
  * the ground truth of the losses (supervised.py: atom14, frames, chi
    angles, pseudo-β), computed on the crop (each residue's from itself);
  * residues padded to crop_size (seq_mask 0, asym_id 0: no chain) so
    that every example has one shape and the step compiles once.
"""
from __future__ import annotations

from typing import Any, Dict, Mapping

import ml_collections
import numpy as np

from alphafold_jax.data import supervised
from alphafold_jax.data.datasets import complex_records
from alphafold_jax.data.multimer import assembly
from alphafold_jax.data.multimer import cropping
from alphafold_jax.data.multimer import features as features_lib
from alphafold_jax.data.multimer import merging

Features = Dict[str, np.ndarray]
_MSA_KEYS = ('msa', 'deletion_matrix', 'msa_mask', 'bert_mask')
# Truth and index features added after the crop, all per residue.
_TRUTH_EXTRA = ('residx_atom14_to_atom37', 'residx_atom37_to_atom14',
                'atom14_atom_exists', 'atom37_atom_exists')


def example_features(record: Mapping[str, Any],
                     msa_crop_size: int = merging.MSA_CROP_SIZE,
                     max_templates: int = merging.MAX_TEMPLATES) -> Features:
  """The uncropped model input of a complex with its structure:
  process_multimer_features of its chains (no MSA padding), with
  all_atom_positions [N_res, 37, 3], all_atom_mask [N_res, 37] (truth, in
  the example's residue order) and resolution ()."""
  chains = complex_records.chain_features(record)
  truth = complex_records.chain_truth(record)
  example = features_lib.process_multimer_features(
      chains, msa_crop_size=msa_crop_size, max_templates=max_templates,
      min_msa_rows=0)
  entity_sequences = complex_records.split_names(record, 'entity_sequences')
  sequences = {c: entity_sequences[int(e)] for c, e in zip(
      complex_records.split_names(record, 'chain_ids'),
      record['chain_entity'])}
  order = [c for group in assembly.entity_groups(sequences) for c in group]
  for key in ('all_atom_positions', 'all_atom_mask'):
    example[key] = np.concatenate([truth[c][key] for c in order])
  if example['all_atom_positions'].shape[0] != example['aatype'].shape[0]:
    raise ValueError(f'{complex_records.split_names(record, "name")[0]}: '
                     'the structure and the features differ in length.')
  example['resolution'] = np.asarray(record['resolution'], np.float32)
  return example


def sample_msa_rows(example: Mapping[str, np.ndarray], num_rows: int,
                    rng: np.random.Generator) -> Features:
  """The MSA features cut or zero-padded to num_rows rows: the
  cluster_bias_mask rows first in line, then a uniform sample of the
  others, kept in their order."""
  example = dict(example)
  bias = np.asarray(example['cluster_bias_mask']) > 0
  kept = np.flatnonzero(bias)[:num_rows]
  others = np.flatnonzero(~bias)
  take = min(num_rows - kept.size, others.size)
  rows = np.sort(np.concatenate(
      [kept, rng.choice(others, take, replace=False)])).astype(np.int64)
  pad = num_rows - rows.size
  for key in _MSA_KEYS + ('cluster_bias_mask',):
    value = np.asarray(example[key])[rows]
    example[key] = np.pad(value, [(0, pad)] + [(0, 0)] * (value.ndim - 1))
  return example


def pad_residues(example: Mapping[str, np.ndarray], num_res: int
                 ) -> Features:
  """Per-residue features (cropping.RESIDUE_AXIS and the atom index maps)
  zero-padded to num_res residues."""
  axes = dict(cropping.RESIDUE_AXIS, **{k: 0 for k in _TRUTH_EXTRA})
  example = dict(example)
  for key, axis in axes.items():
    if key in example:
      value = np.asarray(example[key])
      pad = num_res - value.shape[axis]
      widths = [(0, 0)] * value.ndim
      widths[axis] = (0, pad)
      example[key] = np.pad(value, widths)
  return example


def _cast(value: np.ndarray) -> np.ndarray:
  value = np.asarray(value)
  if np.issubdtype(value.dtype, np.floating):
    return value.astype(np.float32)
  if np.issubdtype(value.dtype, np.integer):
    return value.astype(np.int32)
  return value


def make_training_example(record: Mapping[str, Any], crop_size: int,
                          num_msa_rows: int, rng: np.random.Generator,
                          spatial_crop_prob: float = (
                              cropping.SPATIAL_CROP_PROB),
                          max_templates: int = merging.MAX_TEMPLATES
                          ) -> Features:
  """One training example of a stored complex (see the module docstring).

  Returns:
    The features of process_multimer_features (residue axis crop_size,
    MSA rows num_msa_rows, float32 / int32) with the truth of the
    multimer losses: all_atom_positions, all_atom_mask, the
    supervised.make_supervised_features set and the atom14 index maps;
    resolution ().
  """
  example = example_features(record, max_templates=max_templates)
  example = cropping.crop_complex(example, crop_size, rng,
                                  spatial_crop_prob=spatial_crop_prob)
  example.pop('crop_index')
  example = sample_msa_rows(example, num_msa_rows, rng)
  example.update(supervised.make_supervised_features(
      example['aatype'], example['all_atom_positions'],
      example['all_atom_mask']))
  example.update(supervised.make_atom14_masks(example['aatype']))
  example = pad_residues(example, crop_size)
  return {k: _cast(v) for k, v in example.items()}


def training_example(record: Mapping[str, Any],
                     config: ml_collections.ConfigDict, seed: int
                     ) -> Features:
  """make_training_example with the sizes of a training config: crop
  config.data.train.crop_size, MSA rows num_msa + num_extra_msa and
  template slots template.max_templates of the model."""
  evo = config.model.embeddings_and_evoformer
  return make_training_example(
      record, config.data.train.crop_size, evo.num_msa + evo.num_extra_msa,
      np.random.default_rng(seed), max_templates=evo.template.max_templates)
