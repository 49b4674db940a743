"""The self-distillation set with the tiny preset: filtering, masking,
provenance, kill-and-resume and determinism (issue 4, "Must show")."""
import json
import os

import numpy as np
import pytest

from alphafold_jax.common import residue_constants
from alphafold_jax.data.datasets import build_report
from alphafold_jax.data.datasets import confidence_filter
from alphafold_jax.data.datasets import distillation_builder
from alphafold_jax.data.datasets import distillation_predictions as predictions
from alphafold_jax.data.datasets import provenance as provenance_lib
from alphafold_jax.data.datasets import records
from alphafold_jax.data.datasets import sources


def _examples(data_dir):
  source = sources.open_dataset(str(data_dir), sources.DISTILLATION_DATASET)
  return {records.text(source[i], 'name'): source[i]
          for i in range(len(source))}


def test_examples_mask_low_confidence_residues_and_carry_provenance(
    distillation_data_dir, distillation_inputs):
  report = build_report.read(sources.dataset_dir(
      distillation_data_dir, sources.DISTILLATION_DATASET))
  assert report['kept'] == list(distillation_inputs.predicted)
  kinds = {s['name']: s['kind'] for s in report['skipped']}
  assert kinds == {'polyA': build_report.FILTERED,
                   'no_msa': build_report.NO_ALIGNMENT}
  masked_somewhere = kept_somewhere = False
  for example in _examples(distillation_data_dir).values():
    plddt = example['plddt']
    aatype = example['aatype']
    assert example['is_distillation'] == 1
    assert example['resolution'] == 0.
    assert records.text(example, 'model_preset') == 'tiny'
    assert (records.text(example, 'params_sha256') ==
            distillation_inputs.provenance.params_sha256)
    assert (records.text(example, 'prediction_date') ==
            distillation_inputs.prediction_date)
    assert np.all(np.isfinite(example['all_atom_positions']))
    # Suppl. 1.3: residues under pLDDT 50 have no supervised atom.
    low = plddt < confidence_filter.MIN_RESIDUE_PLDDT
    assert not example['all_atom_mask'][low].any()
    np.testing.assert_array_equal(
        example['all_atom_mask'][~low],
        residue_constants.STANDARD_ATOM_MASK[aatype[~low]])
    masked_somewhere |= bool(low.any())
    kept_somewhere |= bool((~low).any())
  assert masked_somewhere and kept_somewhere


def test_unconfident_predictions_are_rejected(
    distillation_data_dir, distillation_inputs, distillation_builder_fn,
    tmp_path):
  means = {n: float(e['plddt'].mean())
           for n, e in _examples(distillation_data_dir).items()}
  threshold = float(np.median(list(means.values())))
  report = distillation_builder_fn(tmp_path, distillation_inputs,
                                   min_mean_plddt=threshold)
  assert sorted(report.kept) == sorted(n for n, m in means.items()
                                       if m >= threshold)
  rejected = [s for s in report.skipped if s['kind'] == build_report.REJECTED]
  assert {s['name'] for s in rejected} == {n for n, m in means.items()
                                            if m < threshold}
  assert rejected and all('mean pLDDT' in s['reason'] for s in rejected)


class _KilledInSecondBatch:
  """A predictor whose process dies in its second network call."""

  def __init__(self, predictor):
    self._predictor = predictor
    self.batch_size = predictor.batch_size
    self.bucket = predictor.bucket
    self.calls = 0

  def predict(self, raw_features, seeds):
    self.calls += 1
    if self.calls == 2:
      raise KeyboardInterrupt
    return self._predictor.predict(raw_features, seeds)


def test_a_killed_build_resumes_to_the_same_dataset(
    distillation_data_dir, distillation_inputs, distillation_builder_fn,
    tmp_path):
  killed = _KilledInSecondBatch(distillation_inputs.predictor)
  with pytest.raises(KeyboardInterrupt):
    distillation_builder_fn(tmp_path, distillation_inputs, predictor=killed)
  work = tmp_path / (sources.DISTILLATION_DATASET +
                     distillation_builder.WORK_SUFFIX)
  done = sorted(os.listdir(work / predictions.PREDICTIONS))
  # The first batch and the two skipped sequences; nothing half-written
  # (no temporary file left), and no dataset yet.
  assert done == ['1i8n_A.npz', '2xcj_A.npz', 'no_msa.npz', 'polyA.npz']
  assert not os.path.exists(sources.dataset_dir(
      str(tmp_path), sources.DISTILLATION_DATASET))
  with open(work / predictions.PROVENANCE_FILE) as f:
    assert json.load(f)['model_preset'] == 'tiny'

  distillation_builder_fn(tmp_path, distillation_inputs)
  resumed = _examples(tmp_path)
  uninterrupted = _examples(distillation_data_dir)
  # Building twice (here: once interrupted) gives identical examples.
  assert resumed.keys() == uninterrupted.keys()
  for name in resumed:
    for key in resumed[name]:
      np.testing.assert_array_equal(resumed[name][key],
                                    uninterrupted[name][key],
                                    err_msg=f'{name} {key}')


def test_a_resumed_build_refuses_other_parameters(
    distillation_inputs, distillation_builder_fn, tmp_path):
  distillation_builder_fn(tmp_path, distillation_inputs)
  other = provenance_lib.Provenance('tiny', '0' * 64,
                                    distillation_inputs.prediction_date)
  with pytest.raises(ValueError, match='holds predictions of'):
    distillation_builder_fn(tmp_path, distillation_inputs, provenance=other)


def test_provenance_hash_of_arrays_is_order_independent():
  a = {'m': {'w': np.ones((2, 3), np.float32), 'b': np.zeros(3, np.float32)}}
  b = {'m': {'b': np.zeros(3, np.float32), 'w': np.ones((2, 3), np.float32)}}
  assert provenance_lib.params_sha256(a) == provenance_lib.params_sha256(b)
  c = {'m': {'w': np.ones((3, 2), np.float32), 'b': np.zeros(3, np.float32)}}
  assert provenance_lib.params_sha256(a) != provenance_lib.params_sha256(c)


def _snapshot(folder):
  """{path: (modification time, bytes)} of every file under `folder`."""
  files = {}
  for root, _, names in os.walk(folder):
    for name in names:
      path = os.path.join(root, name)
      with open(path, 'rb') as f:
        files[os.path.relpath(path, folder)] = (os.stat(path).st_mtime_ns,
                                                f.read())
  return files


class _CountingPredictor:

  def __init__(self, predictor):
    self._predictor = predictor
    self.calls = 0

  def predict(self, raw_features, seeds):
    self.calls += 1
    return self._predictor.predict(raw_features, seeds)


def test_a_complete_build_is_not_redone(distillation_data_dir,
                                        distillation_inputs,
                                        distillation_builder_fn):
  """Building again into a complete build predicts nothing, writes nothing
  and reports nothing."""
  before = _snapshot(distillation_data_dir)
  counting = _CountingPredictor(distillation_inputs.predictor)
  report = distillation_builder_fn(distillation_data_dir, distillation_inputs,
                                   predictor=counting)
  assert counting.calls == 0
  assert report.kept == [] and report.skipped == []
  assert _snapshot(distillation_data_dir) == before
