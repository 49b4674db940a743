"""The resumable prediction stage of the self-distillation build (Suppl. 1.3).

Every sequence of the FASTA file ends as one result file,
`<work_dir>/predictions/<name>.npz`, written atomically:
  status 'kept'      the prediction passed: predicted positions, the atom
                     mask with low-confidence residues masked, pLDDT;
  status 'rejected'  the prediction is not confident enough: pLDDT, reason;
  status 'skipped'   not predicted (filters of Suppl. 1.2.5, or unusable
                     alignments): kind (a build_report kind) and reason.
A run skips the sequences that already have a result, so a killed build
continues where it stopped and never leaves half a result. The model's
provenance is fixed in `<work_dir>/provenance.json` by the first run; a
later run with other parameters is refused rather than mixing models.
Each sequence's seed depends on the build seed and its name only, so its
prediction does not depend on where a run was interrupted.
"""
from __future__ import annotations

import collections
import dataclasses
import json
import os
import re
import zlib
from typing import Dict, List, Optional, Sequence, Tuple

from absl import logging
import numpy as np
import tqdm

from alphafold_jax.data import parsers
from alphafold_jax.data import pipeline
from alphafold_jax.data.datasets import alignments
from alphafold_jax.common import atomic
from alphafold_jax.data.datasets import build_report
from alphafold_jax.data.datasets import confidence_filter
from alphafold_jax.data.datasets import filters
from alphafold_jax.data.datasets import provenance as provenance_lib

PREDICTIONS = 'predictions'
PROVENANCE_FILE = 'provenance.json'
KEPT, REJECTED, SKIPPED = 'kept', 'rejected', 'skipped'
# Sequence names become file names.
_SAFE_NAME = re.compile(r'^[A-Za-z0-9][A-Za-z0-9_.-]*$')
# Suppl. 1.2.5's sequence filters; dates and resolutions do not apply.
DISTILLATION_FILTERS = filters.FilterConfig(max_release_date=None)


@dataclasses.dataclass(frozen=True)
class PredictionSettings:
  """Attributes:
    seed: build seed (each sequence's seed derives from it and its name).
    confidence: the pLDDT thresholds.
    sequence_filters: the Suppl. 1.2.5 filters applied before predicting.
    progress_bar: show a tqdm bar of sequences done, kept and rejected.
  """
  seed: int = 0
  confidence: confidence_filter.ConfidenceConfig = (
      confidence_filter.ConfidenceConfig())
  sequence_filters: filters.FilterConfig = DISTILLATION_FILTERS
  progress_bar: bool = True


def read_sequences(fasta_path: str) -> List[Tuple[str, str]]:
  """(name, sequence) of each FASTA record; the name is the description's
  first word and names a file, so it must be unique and plain."""
  with open(fasta_path) as f:
    records = parsers.parse_query_fasta(f.read(), fasta_path)
  out, seen = [], set()
  for description, sequence in records:
    name = description.split()[0] if description.split() else ''
    if not _SAFE_NAME.match(name):
      raise ValueError(f'{fasta_path}: sequence name {name!r} is not a plain '
                       'file name ([A-Za-z0-9_.-]).')
    if name in seen:
      raise ValueError(f'{fasta_path}: sequence name {name!r} appears twice.')
    seen.add(name)
    out.append((name, sequence))
  return out


def sequence_seed(seed: int, name: str) -> int:
  return int(np.random.SeedSequence(
      [seed, zlib.crc32(name.encode())]).generate_state(1)[0])


def result_path(work_dir: str, name: str) -> str:
  return os.path.join(work_dir, PREDICTIONS, f'{name}.npz')


def read_result(work_dir: str, name: str) -> Optional[Dict[str, np.ndarray]]:
  """A sequence's result, or None when it has none yet."""
  path = result_path(work_dir, name)
  if not os.path.exists(path):
    return None
  with np.load(path, allow_pickle=False) as data:
    return {k: data[k] for k in data.files}


def _write_result(work_dir: str, name: str, status: str, reason: str = '',
                  **arrays) -> None:
  """status and reason as 0-d unicode arrays (np.load needs no pickle)."""
  atomic.write_npz(result_path(work_dir, name),
                   {'status': np.asarray(status), 'reason': np.asarray(reason),
                    **arrays})


def fix_provenance(work_dir: str, provenance: provenance_lib.Provenance
                   ) -> provenance_lib.Provenance:
  """The work dir's provenance: written on the first run; a resumed run must
  use the same model and keeps the first run's date.

  Raises:
    ValueError: the work dir holds predictions of another model.
  """
  path = os.path.join(work_dir, PROVENANCE_FILE)
  if not os.path.exists(path):
    atomic.write_json(path, provenance.to_json())
    return provenance
  with open(path) as f:
    stored = provenance_lib.Provenance(**json.load(f))
  if (stored.model_preset, stored.params_sha256) != (
      provenance.model_preset, provenance.params_sha256):
    raise ValueError(
        f'{work_dir} holds predictions of {stored.model_preset} (parameters '
        f'{stored.params_sha256[:12]}...), not of {provenance.model_preset} '
        f'({provenance.params_sha256[:12]}...); use another data_dir.')
  return stored


def _pre_check(name: str, sequence: str, msa_dir: str,
               settings: PredictionSettings):
  """(raw features to predict from, None, None), or (None, kind, reason)
  when the sequence is skipped."""
  reason = filters.rejection_reason(sequence, 0., None,
                                    settings.sequence_filters)
  if reason:
    return None, build_report.FILTERED, reason
  try:
    return _raw_features(sequence, alignments.msa_features(
        os.path.join(msa_dir, name), sequence)), None, None
  except alignments.AlignmentError as e:
    return None, build_report.NO_ALIGNMENT, str(e)


def _raw_features(sequence: str, msa_features) -> Dict[str, np.ndarray]:
  features = pipeline.make_sequence_features(sequence, 'query')
  features = {k: v for k, v in features.items()
              if k not in ('domain_name', 'sequence')}
  features.update(msa_features)
  return features


def predict_sequences(work_dir: str, sequences: Sequence[Tuple[str, str]],
                      msa_dir: str, predictor, settings: PredictionSettings
                      ) -> Dict[str, int]:
  """Predicts every sequence without a result yet and writes its result.

  Args:
    work_dir: where results are kept between runs.
    sequences: (name, sequence) in FASTA order.
    msa_dir: '<name>/' alignment folders (see `alignments`).
    predictor: a `batched_prediction.BatchedPredictor`.
    settings: batch size, seed, thresholds, progress bar.

  Returns:
    Counts of results by status after this run.
  """
  statuses = collections.Counter()
  pending = []
  for name, sequence in sequences:
    result = read_result(work_dir, name)
    if result is None:
      pending.append((name, sequence))
    else:
      statuses[str(result['status'])] += 1
  bar = tqdm.tqdm(total=len(sequences), initial=len(sequences) - len(pending),
                  desc='self-distillation', unit='seq',
                  disable=not settings.progress_bar, dynamic_ncols=True)

  def done(status):
    statuses[status] += 1
    bar.update(1)
    bar.set_postfix(kept=statuses[KEPT], rejected=statuses[REJECTED],
                    skipped=statuses[SKIPPED], refresh=False)

  by_bucket = collections.defaultdict(list)
  for name, sequence in pending:
    raw, kind, reason = _pre_check(name, sequence, msa_dir, settings)
    if raw is None:
      logging.warning('self-distillation: skipping %s: %s', name, reason)
      _write_result(work_dir, name, SKIPPED, reason, kind=np.asarray(kind))
      done(SKIPPED)
      continue
    by_bucket[predictor.bucket(len(sequence))].append((name, raw))
  try:
    for bucket in by_bucket:  # In order of first appearance.
      group = by_bucket[bucket]
      for start in range(0, len(group), predictor.batch_size):
        batch = group[start:start + predictor.batch_size]
        predictions = predictor.predict(
            [raw for _, raw in batch],
            [sequence_seed(settings.seed, name) for name, _ in batch])
        for (name, _), prediction in zip(batch, predictions):
          done(_record_prediction(work_dir, name, prediction,
                                  settings.confidence))
  finally:
    bar.close()
  return dict(statuses)


def _record_prediction(work_dir: str, name: str, prediction,
                       config: confidence_filter.ConfidenceConfig) -> str:
  plddt = prediction['plddt']
  reason = confidence_filter.rejection_reason(plddt, config)
  if reason:
    _write_result(work_dir, name, REJECTED, reason, plddt=plddt)
    return REJECTED
  _write_result(
      work_dir, name, KEPT, plddt=plddt,
      all_atom_positions=prediction['final_atom_positions'],
      all_atom_mask=confidence_filter.confident_atom_mask(
          prediction['final_atom_mask'], plddt, config))
  return KEPT
