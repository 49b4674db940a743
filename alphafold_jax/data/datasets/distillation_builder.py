"""The self-distillation set (Suppl. 1.3): confident predictions of the
model on sequences with MSAs, as a TFDS ArrayRecord dataset.

Two stages, both safe to interrupt:
  1. `distillation_predictions.predict_sequences` predicts the sequences in
     batches into `<data_dir>/self_distillation.work/` (one result file per
     sequence, resumable);
  2. the `SelfDistillation` builder turns the kept results into examples
     (`is_distillation = 1`, the predicted structure as ground truth with
     low-confidence residues masked, the MSA, the per-residue pLDDT and the
     provenance: model preset, parameter hash, date). TFDS renames the
     finished split into place, so the dataset is whole or absent.

  report = build_distillation_dataset(
      data_dir, fasta_path='seqs.fasta', msa_dir='msas/',
      predictor=BatchedPredictor(config, params),
      provenance=Provenance('model_1', file_sha256(npz), today()))
"""
from __future__ import annotations

import os
from typing import Any, Dict, Iterator, Tuple

import numpy as np
import tensorflow_datasets as tfds

from alphafold_jax.data import templates as templates_lib
from alphafold_jax.data.datasets import alignments
from alphafold_jax.data.datasets import build_report
from alphafold_jax.data.datasets import distillation_predictions as predictions
from alphafold_jax.data.datasets import provenance as provenance_lib
from alphafold_jax.data.datasets import records
from alphafold_jax.data.datasets import sources as sources_lib

DISTILLATION_DATASET = sources_lib.DISTILLATION_DATASET
WORK_SUFFIX = '.work'
# Self-distillation examples are drawn uniformly within their set.
SAMPLING_WEIGHT = 1.
# No experimental resolution: the losses restricted to a resolution window
# (Suppl. 1.9.6, 1.9.10) leave distillation examples out.
NO_RESOLUTION = 0.


def distillation_features() -> Dict[str, Any]:
  """The set's TFDS features: the core ones, pLDDT and provenance."""
  features = records.core_features()
  features.update({
      'plddt': tfds.features.Tensor(shape=(None,), dtype=np.float32),
      'model_preset': tfds.features.Text(),
      'params_sha256': tfds.features.Text(),
      'prediction_date': tfds.features.Text(),
  })
  return features


class SelfDistillation(tfds.core.GeneratorBasedBuilder):
  """Confident predictions with their MSAs (Suppl. 1.3)."""

  VERSION = tfds.core.Version(sources_lib.DATASET_VERSION)
  RELEASE_NOTES = {sources_lib.DATASET_VERSION:
                   'Predicted structures, pLDDT masking, provenance.'}

  def __init__(self, *, fasta_path: str, msa_dir: str, work_dir: str,
               provenance: provenance_lib.Provenance, **kwargs):
    self._fasta_path = fasta_path
    self._msa_dir = msa_dir
    self._work_dir = work_dir
    self._provenance = provenance
    self.report = build_report.BuildReport(DISTILLATION_DATASET)
    super().__init__(**kwargs)

  def _info(self) -> tfds.core.DatasetInfo:
    return tfds.core.DatasetInfo(
        builder=self,
        description='AlphaFold2 self-distillation set (Suppl. 1.3).',
        features=tfds.features.FeaturesDict(distillation_features()),
        citation='Jumper et al., Nature 596, 583-589 (2021).')

  def _split_generators(self, dl_manager):
    del dl_manager  # Everything is local.
    return {sources_lib.SPLIT: self._generate_examples()}

  def _generate_examples(self) -> Iterator[Tuple[str, Dict[str, Any]]]:
    source = os.path.basename(self._fasta_path)
    for name, sequence in predictions.read_sequences(self._fasta_path):
      result = predictions.read_result(self._work_dir, name)
      if result is None:
        raise RuntimeError(f'{name} has no prediction in {self._work_dir}.')
      status, reason = str(result['status']), str(result['reason'])
      if status != predictions.KEPT:
        kind = (build_report.REJECTED if status == predictions.REJECTED
                else str(result['kind']))
        self.report.skip(name, source, kind, reason)
        continue
      yield name, self._record(name, sequence, source, result)
      self.report.keep(name)

  def _record(self, name, sequence, source, result) -> Dict[str, Any]:
    msa = alignments.msa_features(os.path.join(self._msa_dir, name),
                                  sequence)
    record = records.make_record(
        name=name, sequence=sequence, source=source,
        residue_index=np.arange(len(sequence), dtype=np.int32),
        msa_features=msa,
        template_features=templates_lib.empty_template_features(
            len(sequence)),
        all_atom_positions=result['all_atom_positions'],
        all_atom_mask=result['all_atom_mask'], resolution=NO_RESOLUTION,
        is_distillation=True, sampling_weight=SAMPLING_WEIGHT)
    record.update(plddt=np.asarray(result['plddt'], np.float32),
                  **self._provenance.to_json())
    return record


def build_distillation_dataset(
    data_dir: str, fasta_path: str, msa_dir: str, predictor,
    provenance: provenance_lib.Provenance,
    settings: predictions.PredictionSettings = (
        predictions.PredictionSettings())
) -> build_report.BuildReport:
  """Predicts (resuming any earlier run) and writes the dataset under
  data_dir/self_distillation/<version>/, with its build report and index.

  An existing complete build is kept as it is (the returned report is then
  empty); delete its folder to rebuild.
  """
  work_dir = os.path.join(os.fspath(data_dir),
                          DISTILLATION_DATASET + WORK_SUFFIX)
  provenance = predictions.fix_provenance(work_dir, provenance)
  sequences = predictions.read_sequences(fasta_path)
  predictions.predict_sequences(work_dir, sequences, msa_dir, predictor,
                                settings)
  builder = SelfDistillation(
      fasta_path=fasta_path, msa_dir=msa_dir, work_dir=work_dir,
      provenance=provenance, data_dir=data_dir,
      file_format=sources_lib.FILE_FORMAT)
  builder.download_and_prepare()
  if builder.report.kept or builder.report.skipped:
    builder.report.write(builder.data_dir)
  if not os.path.exists(os.path.join(builder.data_dir,
                                     sources_lib.INDEX_FILE)):
    sources_lib.write_index(data_dir, DISTILLATION_DATASET)
  return builder.report
