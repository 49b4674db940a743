"""The stored form of a training example and its raw features.

A record holds what the training transforms need (the raw features of
Suppl. Table 1 and the structure) in compact form (residue types as
indices, not one-hot) plus what the filters, the sampler and provenance
need. `to_raw_features` turns a record read back into the dict that
`process_features(..., mode='train')` takes. Both datasets share the core
fields; each adds its own metadata.

Shapes: N_res residues, N_seq alignment rows, N_templ templates.
"""
from __future__ import annotations

from typing import Any, Dict, Mapping

import numpy as np
import tensorflow_datasets as tfds

from alphafold_jax.common import residue_constants

_ATOMS = residue_constants.atom_type_num
_TEMPLATE_CLASSES = len(residue_constants.restypes_with_x_and_gap)


def _tensor(shape, dtype, compress: bool = False):
  # ZLIB: alignments are mostly gaps and repeats and shrink several-fold.
  encoding = (tfds.features.Encoding.ZLIB if compress
              else tfds.features.Encoding.NONE)
  return tfds.features.Tensor(shape=shape, dtype=dtype, encoding=encoding)


def core_features() -> Dict[str, Any]:
  """TFDS features of both datasets."""
  return {
      'name': tfds.features.Text(),
      'sequence': tfds.features.Text(),
      'source': tfds.features.Text(),
      # [N_res] indices into residue_constants.restypes_with_x.
      'aatype': _tensor((None,), np.int32),
      'residue_index': _tensor((None,), np.int32),
      # [N_seq, N_res] HHblits residue codes and deletion counts.
      'msa': _tensor((None, None), np.uint8, compress=True),
      'deletion_matrix': _tensor((None, None), np.int32, compress=True),
      # [N_templ, N_res] indices into restypes_with_x_and_gap.
      'template_aatype': _tensor((None, None), np.int32, compress=True),
      'template_all_atom_positions': _tensor((None, None, _ATOMS, 3),
                                             np.float32, compress=True),
      'template_all_atom_masks': _tensor((None, None, _ATOMS), np.float32,
                                         compress=True),
      'template_sum_probs': _tensor((None, 1), np.float32),
      'all_atom_positions': _tensor((None, _ATOMS, 3), np.float32),
      'all_atom_mask': _tensor((None, _ATOMS), np.float32),
      'resolution': _tensor((), np.float32),
      'is_distillation': _tensor((), np.int32),
      # Relative probability of drawing this example (Suppl. 1.2.5).
      'sampling_weight': _tensor((), np.float32),
  }


def make_record(*, name: str, sequence: str, source: str,
                residue_index: np.ndarray,
                msa_features: Mapping[str, np.ndarray],
                template_features: Mapping[str, np.ndarray],
                all_atom_positions: np.ndarray, all_atom_mask: np.ndarray,
                resolution: float, is_distillation: bool,
                sampling_weight: float) -> Dict[str, Any]:
  """The core fields of a record (new arrays; the inputs are not changed).

  Args:
    msa_features: msa and deletion_matrix_int [N_seq, N_res].
    template_features: template_aatype [N_templ, N_res, 22] one-hot,
      template_all_atom_positions, template_all_atom_masks,
      template_sum_probs.
  """
  unknown = residue_constants.restype_num
  aatype = np.asarray([residue_constants.restype_order.get(r, unknown)
                       for r in sequence], np.int32)
  num_res = len(sequence)
  if np.shape(all_atom_positions) != (num_res, _ATOMS, 3):
    raise ValueError(f'{name}: all_atom_positions has shape '
                     f'{np.shape(all_atom_positions)} for {num_res} residues.')
  template_aatype = np.asarray(template_features['template_aatype'])
  return {
      'name': name, 'sequence': sequence, 'source': source,
      'aatype': aatype,
      'residue_index': np.asarray(residue_index, np.int32),
      'msa': np.asarray(msa_features['msa'], np.uint8),
      'deletion_matrix': np.asarray(msa_features['deletion_matrix_int'],
                                    np.int32),
      'template_aatype': np.argmax(template_aatype, axis=-1).astype(
          np.int32).reshape(template_aatype.shape[:2]),
      'template_all_atom_positions': np.asarray(
          template_features['template_all_atom_positions'], np.float32),
      'template_all_atom_masks': np.asarray(
          template_features['template_all_atom_masks'], np.float32),
      'template_sum_probs': np.asarray(
          template_features['template_sum_probs'], np.float32).reshape(-1, 1),
      'all_atom_positions': np.asarray(all_atom_positions, np.float32),
      'all_atom_mask': np.asarray(all_atom_mask, np.float32),
      'resolution': np.float32(resolution),
      'is_distillation': np.int32(is_distillation),
      'sampling_weight': np.float32(sampling_weight),
  }


def _text(value) -> str:
  return value.decode() if isinstance(value, bytes) else str(value)


def to_raw_features(record: Mapping[str, Any]) -> Dict[str, np.ndarray]:
  """The raw features of a record, as `process_features` takes them.

  Returns:
    aatype [N_res, 21] one-hot, residue_index, seq_length,
    between_segment_residues, num_alignments [N_res]; msa,
    deletion_matrix_int [N_seq, N_res] int32; template_aatype [N_templ,
    N_res, 22] one-hot float32, template_all_atom_positions,
    template_all_atom_masks, template_sum_probs; all_atom_positions [N_res,
    37, 3], all_atom_mask [N_res, 37]; resolution and is_distillation
    (scalars, float32).
  """
  aatype = np.asarray(record['aatype'], np.int32)
  num_res = aatype.shape[0]
  msa = np.asarray(record['msa'], np.int32)
  template_aatype = np.asarray(record['template_aatype'], np.int32)
  return {
      'aatype': np.eye(residue_constants.restype_num + 1,
                       dtype=np.int32)[aatype],
      'residue_index': np.asarray(record['residue_index'], np.int32),
      'seq_length': np.full((num_res,), num_res, np.int32),
      'between_segment_residues': np.zeros((num_res,), np.int32),
      'msa': msa,
      'deletion_matrix_int': np.asarray(record['deletion_matrix'], np.int32),
      'num_alignments': np.full((num_res,), msa.shape[0], np.int32),
      'template_aatype': np.eye(_TEMPLATE_CLASSES, dtype=np.float32)[
          template_aatype].reshape(template_aatype.shape +
                                   (_TEMPLATE_CLASSES,)),
      'template_all_atom_positions': np.asarray(
          record['template_all_atom_positions'], np.float32),
      'template_all_atom_masks': np.asarray(
          record['template_all_atom_masks'], np.float32),
      'template_sum_probs': np.asarray(record['template_sum_probs'],
                                       np.float32),
      'all_atom_positions': np.asarray(record['all_atom_positions'],
                                       np.float32),
      'all_atom_mask': np.asarray(record['all_atom_mask'], np.float32),
      'resolution': np.asarray(record['resolution'], np.float32),
      'is_distillation': np.asarray(record['is_distillation'], np.float32),
  }


def text(record: Mapping[str, Any], key: str) -> str:
  """A text field of a record read back (TFDS returns bytes)."""
  return _text(record[key])
