"""The stored form of a training complex and its per-chain raw features.

One record per complex. Residue arrays hold the chains end to end in
assembly order; alignments and templates are stored once per distinct
sequence (entity; copies share them), the ragged MSAs flattened:

  chain_ids, source_chains    ','-joined names, [N_chain] of them
  chain_entity, chain_lengths [N_chain] int32
  aatype, residue_index       [N_res] (residue types as indices)
  all_atom_positions, _mask   [N_res, 37, 3], [N_res, 37]
  entity_sequences            ','-joined, [N_ent]
  msa, deletion_matrix        flat, entity e's [msa_rows[e], L_e] in turn
  msa_all_seq, deletion_matrix_all_seq, all_seq_rows, species_all_seq
                              the same for the UniProt hits (heteromers;
                              species '\\n'-joined, one per row)
  template_aatype, template_all_atom_positions, template_all_atom_masks
                              [N_templ, sum_e L_e, ...], each entity's
                              templates padded to the most any entity has;
                              template_counts [N_ent] its own count
  interfaces                  [N_int, 2] chain indices in contact
  sampling_weight             see complex_weights.py

`chain_features` turns a record read back into what the multimer pipeline
takes (`process_multimer_features`: chain id -> raw monomer features).
"""
from __future__ import annotations

from typing import Any, Dict, List, Mapping, Sequence

import numpy as np
import tensorflow_datasets as tfds

from alphafold_jax.common import residue_constants
from alphafold_jax.data import pipeline as pipeline_lib
from alphafold_jax.data.datasets import complexes
from alphafold_jax.data.datasets import records

_ATOMS = residue_constants.atom_type_num
_TEMPLATE_CLASSES = len(residue_constants.restypes_with_x_and_gap)
_SEPARATOR = ','
_SPECIES_SEPARATOR = '\n'


def _tensor(shape, dtype, compress: bool = False):
  # ZLIB: alignments are mostly gaps and repeats and shrink several-fold.
  encoding = (tfds.features.Encoding.ZLIB if compress
              else tfds.features.Encoding.NONE)
  return tfds.features.Tensor(shape=shape, dtype=dtype, encoding=encoding)


def complex_features() -> Dict[str, Any]:
  """TFDS features of the complexes set."""
  text = tfds.features.Text
  return {
      'name': text(), 'source': text(), 'release_date': text(),
      'structure_method': text(),
      'resolution': _tensor((), np.float32),
      'chain_ids': text(), 'source_chains': text(),
      'chain_entity': _tensor((None,), np.int32),
      'chain_lengths': _tensor((None,), np.int32),
      'aatype': _tensor((None,), np.int32),
      'residue_index': _tensor((None,), np.int32),
      'all_atom_positions': _tensor((None, _ATOMS, 3), np.float32),
      'all_atom_mask': _tensor((None, _ATOMS), np.float32),
      'entity_sequences': text(),
      'msa': _tensor((None,), np.uint8, compress=True),
      'deletion_matrix': _tensor((None,), np.int32, compress=True),
      'msa_rows': _tensor((None,), np.int32),
      'msa_all_seq': _tensor((None,), np.uint8, compress=True),
      'deletion_matrix_all_seq': _tensor((None,), np.int32, compress=True),
      'all_seq_rows': _tensor((None,), np.int32),
      'species_all_seq': text(),
      'template_aatype': _tensor((None, None), np.int32, compress=True),
      'template_all_atom_positions': _tensor((None, None, _ATOMS, 3),
                                             np.float32, compress=True),
      'template_all_atom_masks': _tensor((None, None, _ATOMS), np.float32,
                                         compress=True),
      'template_counts': _tensor((None,), np.int32),
      'interfaces': _tensor((None, 2), np.int32),
      'sampling_weight': _tensor((), np.float32),
  }


def _flat(arrays: Sequence[np.ndarray], dtype) -> np.ndarray:
  return np.concatenate([np.asarray(a, dtype).reshape(-1) for a in arrays]
                        + [np.zeros(0, dtype)])


def make_record(complex_: complexes.ComplexStructure,
                entity_features: Sequence[Mapping[str, np.ndarray]],
                interfaces: Sequence[Sequence[int]]) -> Dict[str, Any]:
  """The record of a complex (sampling_weight 0: set when the set is
  written).

  Args:
    complex_: the filtered complex.
    entity_features: complexes.entity_alignments of its chains.
    interfaces: complexes.interfaces of its chains.
  """
  chains = complex_.chains
  sequences = complexes.entity_sequences(chains)
  if len(entity_features) != len(sequences):
    raise ValueError(f'{complex_.name}: {len(entity_features)} alignment '
                     f'sets for {len(sequences)} distinct sequences.')
  unknown = residue_constants.restype_num
  sequence = ''.join(c.sequence for c in chains)
  counts = [np.shape(f['template_aatype'])[0] for f in entity_features]
  num_templates = max(counts)
  template = {k: [] for k in ('template_aatype', 'template_all_atom_positions',
                              'template_all_atom_masks')}
  for features, count in zip(entity_features, counts):
    pad = num_templates - count
    aatype = np.argmax(features['template_aatype'], axis=-1).reshape(
        np.shape(features['template_aatype'])[:2]).astype(np.int32)
    template['template_aatype'].append(np.pad(aatype, ((0, pad), (0, 0))))
    for key in ('template_all_atom_positions', 'template_all_atom_masks'):
      value = np.asarray(features[key], np.float32)
      template[key].append(np.pad(
          value, [(0, pad)] + [(0, 0)] * (value.ndim - 1)))
  heteromer = len(sequences) > 1
  species = []
  if heteromer:
    for features in entity_features:
      species.extend(s.decode() if isinstance(s, bytes) else str(s)
                     for s in features['msa_species_identifiers_all_seq'])
  return {
      'name': complex_.name, 'source': complex_.source,
      'release_date': complex_.release_date,
      'structure_method': complex_.structure_method,
      'resolution': np.float32(complex_.resolution),
      'chain_ids': _SEPARATOR.join(c.chain_id for c in chains),
      'source_chains': _SEPARATOR.join(c.source_chain for c in chains),
      'chain_entity': np.asarray([sequences.index(c.sequence)
                                  for c in chains], np.int32),
      'chain_lengths': np.asarray([len(c.sequence) for c in chains],
                                  np.int32),
      'aatype': np.asarray([residue_constants.restype_order.get(r, unknown)
                            for r in sequence], np.int32),
      'residue_index': np.concatenate(
          [np.arange(len(c.sequence), dtype=np.int32) for c in chains]),
      'all_atom_positions': np.concatenate(
          [c.all_atom_positions for c in chains]).astype(np.float32),
      'all_atom_mask': np.concatenate(
          [c.all_atom_mask for c in chains]).astype(np.float32),
      'entity_sequences': _SEPARATOR.join(sequences),
      'msa': _flat([f['msa'] for f in entity_features], np.uint8),
      'deletion_matrix': _flat(
          [f['deletion_matrix_int'] for f in entity_features], np.int32),
      'msa_rows': np.asarray([np.shape(f['msa'])[0]
                              for f in entity_features], np.int32),
      'msa_all_seq': _flat([f['msa_all_seq'] for f in entity_features]
                           if heteromer else [], np.uint8),
      'deletion_matrix_all_seq': _flat(
          [f['deletion_matrix_int_all_seq'] for f in entity_features]
          if heteromer else [], np.int32),
      'all_seq_rows': np.asarray(
          [np.shape(f['msa_all_seq'])[0] if heteromer else 0
           for f in entity_features], np.int32),
      'species_all_seq': _SPECIES_SEPARATOR.join(species),
      **{k: np.concatenate(v, axis=1) for k, v in template.items()},
      'template_counts': np.asarray(counts, np.int32),
      'interfaces': np.asarray(interfaces, np.int32).reshape(-1, 2),
      'sampling_weight': np.float32(0.),
  }


def split_names(record: Mapping[str, Any], key: str) -> List[str]:
  """A ','-joined text field of a record (stored or read back)."""
  return records.text(record, key).split(_SEPARATOR)


def _unflatten(flat: np.ndarray, rows: np.ndarray, lengths: Sequence[int]
               ) -> List[np.ndarray]:
  out, start = [], 0
  for n, length in zip(rows, lengths):
    size = int(n) * int(length)
    out.append(np.asarray(flat[start:start + size], np.int32).reshape(
        int(n), int(length)))
    start += size
  return out


def chain_features(record: Mapping[str, Any]
                   ) -> Dict[str, Dict[str, np.ndarray]]:
  """Chain id -> the chain's raw monomer features, in assembly order: the
  sequence features of pipeline.make_sequence_features, msa,
  deletion_matrix_int [N_seq, N_res], num_alignments, template_aatype
  [N_templ, N_res] (HHblits order, as stored), template_all_atom_positions,
  template_all_atom_masks, template_sum_probs, and for a heteromer
  msa_all_seq, deletion_matrix_int_all_seq, msa_species_identifiers_all_seq.
  Copies of a sequence share (copies of) its entity's arrays.
  """
  sequences = split_names(record, 'entity_sequences')
  lengths = [len(s) for s in sequences]
  msas = _unflatten(record['msa'], record['msa_rows'], lengths)
  deletions = _unflatten(record['deletion_matrix'], record['msa_rows'],
                         lengths)
  heteromer = len(sequences) > 1
  if heteromer:
    all_seq = _unflatten(record['msa_all_seq'], record['all_seq_rows'],
                         lengths)
    all_seq_deletions = _unflatten(record['deletion_matrix_all_seq'],
                                   record['all_seq_rows'], lengths)
    species = np.array([s.encode() for s in records.text(
        record, 'species_all_seq').split(_SPECIES_SEPARATOR)], dtype=object)
  entities, residue, row = [], 0, 0
  for e, sequence in enumerate(sequences):
    count = int(record['template_counts'][e])
    cut = slice(residue, residue + lengths[e])
    features = pipeline_lib.make_sequence_features(sequence, sequence[:10])
    features.update({
        'msa': msas[e], 'deletion_matrix_int': deletions[e],
        'num_alignments': np.full((lengths[e],), msas[e].shape[0], np.int32),
        'template_aatype': np.asarray(
            record['template_aatype'][:count, cut], np.int32),
        'template_all_atom_positions': np.asarray(
            record['template_all_atom_positions'][:count, cut], np.float32),
        'template_all_atom_masks': np.asarray(
            record['template_all_atom_masks'][:count, cut], np.float32),
        'template_sum_probs': np.zeros((count, 1), np.float32),
    })
    if heteromer:
      rows = int(record['all_seq_rows'][e])
      features.update({
          'msa_all_seq': all_seq[e],
          'deletion_matrix_int_all_seq': all_seq_deletions[e],
          'msa_species_identifiers_all_seq': species[row:row + rows]})
      row += rows
    entities.append(features)
    residue += lengths[e]
  return {chain_id: {k: np.copy(v) for k, v in entities[int(e)].items()}
          for chain_id, e in zip(split_names(record, 'chain_ids'),
                                 record['chain_entity'])}


def chain_truth(record: Mapping[str, Any]
                ) -> Dict[str, Dict[str, np.ndarray]]:
  """Chain id -> its all_atom_positions [N_res, 37, 3] and all_atom_mask
  [N_res, 37] (the assembly's coordinates), in assembly order."""
  truth, start = {}, 0
  for chain_id, length in zip(split_names(record, 'chain_ids'),
                              record['chain_lengths']):
    cut = slice(start, start + int(length))
    truth[chain_id] = {
        'all_atom_positions': np.asarray(record['all_atom_positions'][cut],
                                         np.float32),
        'all_atom_mask': np.asarray(record['all_atom_mask'][cut],
                                    np.float32)}
    start += int(length)
  return truth
