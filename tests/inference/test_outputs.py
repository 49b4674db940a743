"""The AlphaFold DB JSON formats, the ranking and atomic writes."""
import json
import os

import numpy as np
import pytest

from alphafold_jax.inference import outputs
from alphafold_jax.inference import plots


@pytest.mark.parametrize('score,band', [(0., 'D'), (49.99, 'D'), (50., 'L'),
                                        (70., 'M'), (89.9, 'M'), (90., 'H'),
                                        (100., 'H')])
def test_confidence_bands(score, band):
  assert outputs.confidence_category(score) == band


def test_confidence_json():
  data = outputs.confidence_json(np.array([91.234, 12.5]))
  assert data == {'residueNumber': [1, 2], 'confidenceScore': [91.23, 12.5],
                  'confidenceCategory': ['H', 'D']}


def test_pae_json():
  pae = np.array([[0.04, 3.26], [5.55, 0.]])
  data = outputs.pae_json(pae, 31.75)
  assert data == [{'predicted_aligned_error': [[0.0, 3.3], [5.6, 0.0]],
                   'max_predicted_aligned_error': 31.75}]


def test_ranking_orders_best_first():
  ranking = outputs.ranking({'model_1': 70., 'model_2': 90., 'model_3': 80.})
  assert ranking['order'] == ['model_2', 'model_3', 'model_1']
  assert ranking['plddts']['model_2'] == 90.


def test_relax_metrics():
  assert outputs.relax_metrics({'m': [0., 1., 1.]}) == {
      'm': {'remaining_violations': [0., 1., 1.],
            'remaining_violations_count': 2.}}


def test_atomic_write_leaves_no_temporary_file(tmp_path):
  path = tmp_path / 'x.json'
  outputs.write_json(str(path), {'a': 1})
  assert json.loads(path.read_text()) == {'a': 1}
  with pytest.raises(TypeError):
    outputs.write_json(str(path), {'a': object()})
  # The failed write kept the old file and cleaned up after itself.
  assert json.loads(path.read_text()) == {'a': 1}
  assert os.listdir(tmp_path) == ['x.json']


def test_plots_are_png(tmp_path):
  plddt = np.linspace(20, 95, 30)
  pae = np.abs(np.subtract.outer(np.arange(30.), np.arange(30.)))
  plots.write_confidence_png(str(tmp_path / 'a.png'), plddt, title='m')
  plots.write_confidence_png(str(tmp_path / 'b.png'), plddt, pae, 31.75, 'm')
  for name in ('a.png', 'b.png'):
    assert (tmp_path / name).read_bytes()[:4] == b'\x89PNG'
  assert (tmp_path / 'b.png').stat().st_size > (tmp_path / 'a.png').stat(
      ).st_size
