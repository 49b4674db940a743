"""Length buckets: pad a processed batch so similar lengths share one program.

XLA compiles one program per input shape. Padding the residue axes of the
processed batch up to a bucket size lets every sequence of similar length
reuse it. Padded residues carry zeros in every feature, masks included, so
the network ignores them (every attention, triangle update, outer product
and IPA step is masked by `seq_mask`/`msa_mask`), and the outputs sliced
back to the real residues equal those of the unpadded run up to float
rounding.
"""
from __future__ import annotations

from typing import Any, Dict, Mapping, Sequence

import numpy as np

from alphafold_jax.model.config import NUM_RES

# Bucket sizes (residues). Below 256 buckets are fine-grained so short
# proteins waste little work; beyond the last one lengths round up to a
# multiple of LARGE_BUCKET_STEP.
RESIDUE_BUCKETS = (16, 32, 64, 96, 128, 192, 256, 384, 512, 768, 1024, 1280,
                   1536, 2048, 2560, 3072, 4096)
LARGE_BUCKET_STEP = 512

# Outputs with two residue axes; the rest of the model's outputs have one, the
# first, except those whose first axis is MSA rows or structure-module layers.
_PAIR_OUTPUTS = ('distogram/logits', 'predicted_aligned_error/logits',
                 'representations/pair')
_SECOND_AXIS_OUTPUTS = ('masked_msa/logits', 'representations/msa',
                        'structure_module/traj')


def bucket_size(num_res: int,
                buckets: Sequence[int] = RESIDUE_BUCKETS) -> int:
  """The smallest bucket holding `num_res` residues."""
  if num_res < 1:
    raise ValueError(f'num_res must be positive, got {num_res}.')
  for size in buckets:
    if num_res <= size:
      return size
  return -(-num_res // LARGE_BUCKET_STEP) * LARGE_BUCKET_STEP


def pad_batch(batch: Mapping[str, np.ndarray],
              schema: Mapping[str, Sequence[Any]],
              padded_num_res: int) -> Dict[str, np.ndarray]:
  """Zero-pads the residue axes of a processed batch.

  Args:
    batch: process_features output: each feature has a leading ensemble
      axis, then the dims of `schema[key]`.
    schema: the config's `data.eval.feat` (NUM_RES marks residue axes).
    padded_num_res: the bucket size (>= the batch's residue count).

  Returns:
    A new batch; features without a residue axis are returned unchanged.
    `seq_length` keeps the true length.
  """
  num_res = batch['aatype'].shape[-1]
  if padded_num_res < num_res:
    raise ValueError(f'Cannot pad {num_res} residues to {padded_num_res}.')
  padded = {}
  for key, value in batch.items():
    dims = schema.get(key)
    if dims is None or NUM_RES not in dims or padded_num_res == num_res:
      padded[key] = value
      continue
    if value.ndim != len(dims) + 1:
      raise ValueError(f'Feature {key!r} has shape {value.shape}; the schema '
                       f'gives {len(dims)} dims after the ensemble axis.')
    widths = [(0, 0)] + [
        (0, padded_num_res - num_res) if dim == NUM_RES else (0, 0)
        for dim in dims]
    padded[key] = np.pad(value, widths)
  return padded


def _residue_axes(key: str, shape: Sequence[int], padded_num_res: int):
  # Chosen by name, not by size: a channel axis may equal the bucket size.
  if key in _PAIR_OUTPUTS:
    candidates = (0, 1)
  elif key in _SECOND_AXIS_OUTPUTS:
    candidates = (1,)
  else:
    candidates = (0,)
  return [a for a in candidates if a < len(shape) and
          shape[a] == padded_num_res]


def unpad_outputs(outputs: Mapping[str, Any], num_res: int,
                  padded_num_res: int, prefix: str = '') -> Dict[str, Any]:
  """Slices the model's (nested) outputs back to the first `num_res` residues."""
  result = {}
  for key, value in outputs.items():
    path = f'{prefix}{key}'
    if isinstance(value, Mapping):
      result[key] = unpad_outputs(value, num_res, padded_num_res, path + '/')
      continue
    value = np.asarray(value)
    if padded_num_res != num_res:
      index = [slice(None)] * value.ndim
      for axis in _residue_axes(path, value.shape, padded_num_res):
        index[axis] = slice(0, num_res)
      value = value[tuple(index)]
    result[key] = value
  return result


# The residue axes of the AlphaFold-Multimer model's input features (no
# ensemble axis: the model samples its MSA itself).
MULTIMER_RESIDUE_AXES = {
    'aatype': (0,), 'residue_index': (0,), 'seq_mask': (0,),
    'asym_id': (0,), 'entity_id': (0,), 'sym_id': (0,),
    'msa': (1,), 'deletion_matrix': (1,), 'msa_mask': (1,), 'bert_mask': (1,),
    'cluster_bias_mask': (),
    'template_aatype': (1,), 'template_all_atom_positions': (1,),
    'template_all_atom_mask': (1,),
}


def pad_multimer_batch(batch: Mapping[str, np.ndarray],
                       padded_num_res: int) -> Dict[str, np.ndarray]:
  """Zero-pads the residue axes of a multimer model input.

  Padded residues get zeros everywhere (asym_id 0 is no chain, and every
  mask is 0). The model draws its MSA sample and BERT mask with noise that
  depends on each element's index, not the array's size, so the real
  residues' draws and results are those of the unpadded run.

  Args:
    batch: the features of MULTIMER_RESIDUE_AXES, [N]-based.
    padded_num_res: the bucket size (>= N).
  """
  num_res = batch['aatype'].shape[0]
  if padded_num_res < num_res:
    raise ValueError(f'Cannot pad {num_res} residues to {padded_num_res}.')
  padded = {}
  for key, value in batch.items():
    axes = MULTIMER_RESIDUE_AXES[key]
    widths = [(0, padded_num_res - num_res) if a in axes else (0, 0)
              for a in range(value.ndim)]
    padded[key] = np.pad(value, widths)
  return padded
