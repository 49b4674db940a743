"""predict_structure's bookkeeping with stand-in models (no network runs):
ranking, which models are relaxed, and a relaxation that fails."""
import json

import numpy as np
import pytest

from alphafold_jax.common import protein
from alphafold_jax.common import residue_constants
from alphafold_jax.inference import predict
from tests.inference.conftest import DEMO_PDB

NUM_RES = 96


@pytest.fixture(scope='module')
def experimental():
  with open(DEMO_PDB) as f:
    return protein.from_pdb_string(f.read())


class _Pipeline:

  def process(self, fasta_path, msa_dir):
    del fasta_path, msa_dir
    return {'sequence': np.array([b'X'])}


class _Runner:
  """Predicts the experimental structure with a fixed mean pLDDT."""

  def __init__(self, prot, plddt):
    self.prot, self.plddt = prot, plddt

  def process_features(self, raw, random_seed):
    del raw, random_seed
    return {'aatype': self.prot.aatype[None],
            'residue_index': np.arange(NUM_RES)[None]}

  def predict(self, batch, random_seed):
    del batch, random_seed
    plddt = np.full(NUM_RES, self.plddt)
    return {'structure_module': {
                'final_atom_positions': self.prot.atom_positions,
                'final_atom_mask': self.prot.atom_mask},
            'plddt': plddt, 'ranking_confidence': float(self.plddt),
            'num_recycles': np.asarray(3),
            'representations': {'single': np.zeros((NUM_RES, 4)),
                                'pair': np.zeros((NUM_RES, NUM_RES, 2))}}


class _Relaxer:

  def __init__(self, fail=()):
    self.fail = fail
    self.relaxed = []

  def process(self, prot):
    plddt = float(prot.b_factors[0, 0])
    if plddt in self.fail:
      raise RuntimeError('Particle coordinate is NaN')
    self.relaxed.append(plddt)
    return protein.to_pdb(prot), {}, [0.] * NUM_RES


def _runners(experimental, plddts):
  return {f'model_{i + 1}': _Runner(experimental, p)
          for i, p in enumerate(plddts)}


@pytest.mark.parametrize('models_to_relax,relaxed', [
    ('best', [80.]), ('all', [80., 60., 40.]), ('none', [])])
def test_models_to_relax(tmp_path, experimental, models_to_relax, relaxed):
  relaxer = _Relaxer()
  result = predict.predict_structure(
      'x.fasta', 'x', str(tmp_path), _Pipeline(),
      _runners(experimental, [60., 80., 40.]),
      relaxer if models_to_relax != 'none' else None,
      models_to_relax=models_to_relax)
  assert result['ranking']['order'] == ['model_2', 'model_1', 'model_3']
  assert relaxer.relaxed == relaxed
  out = tmp_path / 'x'
  for rank in range(3):
    assert (out / f'ranked_{rank}.pdb').is_file()
    assert (out / f'ranked_{rank}.cif').is_file()
  best = protein.from_pdb_string((out / 'ranked_0.pdb').read_text())
  assert best.b_factors[0, residue_constants.atom_order['CA']] == 80.
  assert len(json.loads((out / 'relax_metrics.json').read_text())) == len(
      relaxed)


def test_failed_relaxation_keeps_the_unrelaxed_structure(tmp_path,
                                                         experimental):
  result = predict.predict_structure(
      'x.fasta', 'x', str(tmp_path), _Pipeline(),
      _runners(experimental, [60., 80.]), _Relaxer(fail=(80.,)),
      models_to_relax='all')
  out = tmp_path / 'x'
  metrics = json.loads((out / 'relax_metrics.json').read_text())
  assert 'NaN' in metrics['model_2']['error']
  assert metrics['model_1']['remaining_violations_count'] == 0.
  assert not (out / 'relaxed_model_2.pdb').exists()
  assert (out / 'ranked_0.pdb').read_text() == (
      out / 'unrelaxed_model_2.pdb').read_text()
  assert 'relax_model_2' in result['timings']


def test_relaxing_needs_a_relaxer(tmp_path, experimental):
  with pytest.raises(ValueError, match='amber_relaxer'):
    predict.predict_structure('x.fasta', 'x', str(tmp_path), _Pipeline(),
                              _runners(experimental, [60.]), None,
                              models_to_relax='best')
