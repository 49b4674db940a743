"""predict_structure's bookkeeping with stand-in models (no network runs):
ranking, which models are relaxed, a relaxation that fails, --benchmark;
and the ranking of two real (tiny) models by mean pLDDT."""
import json

import jax
import numpy as np
import pytest

from alphafold_jax.common import protein
from alphafold_jax.common import residue_constants
from alphafold_jax.inference import predict
from alphafold_jax.inference import runner as runner_lib
from alphafold_jax.model import load_params
from tests.inference.conftest import DEMO_PDB
from tests.inference.conftest import raw_features_from_a3m

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

  def __init__(self, prot, plddt, return_representations=True):
    self.prot, self.plddt = prot, plddt
    self.return_representations = return_representations
    self.num_predictions = 0

  def process_features(self, raw, random_seed):
    del raw, random_seed
    return {'aatype': self.prot.aatype[None],
            'residue_index': np.arange(NUM_RES)[None]}

  def predict(self, batch, random_seed):
    del batch, random_seed
    self.num_predictions += 1
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


def test_embeddings_need_runners_that_return_them(tmp_path, experimental):
  runners = {'model_1': _Runner(experimental, 60.),
             'model_2': _Runner(experimental, 80.,
                                return_representations=False)}
  with pytest.raises(ValueError, match=r"\['model_2'\] do not"):
    predict.predict_structure('x.fasta', 'x', str(tmp_path), _Pipeline(),
                              runners, None, models_to_relax='none',
                              save_embeddings=True)
  assert not (tmp_path / 'x').exists()


@pytest.mark.parametrize('benchmark', [False, True])
def test_benchmark_times_a_second_run(tmp_path, experimental, benchmark):
  runners = _runners(experimental, [60., 80.])
  result = predict.predict_structure(
      'x.fasta', 'x', str(tmp_path), _Pipeline(), runners, None,
      models_to_relax='none', benchmark=benchmark)
  assert [r.num_predictions for r in runners.values()] == [
      2 if benchmark else 1] * 2
  timed = sorted(k for k in result['timings'] if 'benchmark' in k)
  assert timed == (['predict_benchmark_model_1', 'predict_benchmark_model_2']
                   if benchmark else [])
  assert json.loads((tmp_path / 'x' / 'timings.json').read_text()) == (
      result['timings'])


class _FeaturePipeline:
  """The demo chain's features from its bundled alignment, cut short."""

  def process(self, fasta_path, msa_dir):
    del fasta_path, msa_dir
    return raw_features_from_a3m(REAL_NUM_RES)


REAL_NUM_RES = 40


def test_real_models_rank_by_mean_plddt(tmp_path, tiny_config,
                                        tiny_params_path):
  """Two tiny pTM models (the second's weights perturbed): the ranking
  confidence is each one's mean pLDDT, not its pTM, and ranked_0 is the
  unrelaxed structure of the model with the higher one."""
  config = runner_lib.configure(tiny_config)
  params = load_params(tiny_params_path, config=config)
  rng = np.random.default_rng(1)
  perturbed = jax.tree_util.tree_map(
      lambda x: x + 0.05 * rng.standard_normal(x.shape).astype(x.dtype),
      params)
  runners = {'model_1': runner_lib.ModelRunner(config, params),
             'model_2': runner_lib.ModelRunner(config, perturbed)}
  result = predict.predict_structure(
      'x.fasta', 'x', str(tmp_path), _FeaturePipeline(), runners, None,
      models_to_relax='none')
  predictions = result['predictions']
  mean_plddt = {name: float(np.mean(p['plddt']))
                for name, p in predictions.items()}
  assert mean_plddt['model_1'] != mean_plddt['model_2']
  for name, p in predictions.items():
    assert p['ranking_confidence'] == pytest.approx(mean_plddt[name])
    assert 0. < float(p['ptm']) < 1.
  order = sorted(mean_plddt, key=mean_plddt.get, reverse=True)
  ranking = json.loads((tmp_path / 'x' / 'ranking_debug.json').read_text())
  assert ranking['order'] == order
  assert ranking['plddts'] == pytest.approx(mean_plddt)
  assert (tmp_path / 'x' / 'ranked_0.pdb').read_text() == (
      tmp_path / 'x' / f'unrelaxed_{order[0]}.pdb').read_text()
