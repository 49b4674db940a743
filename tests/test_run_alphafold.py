"""run_alphafold.py as a user runs it: flags in, files out, clear errors."""
import json
import os
import pathlib
import shutil
import subprocess
import sys

import pytest

from tests.inference import tiny_model

ROOT = pathlib.Path(__file__).resolve().parents[1]
DEMO = ROOT / 'demo'
SCRIPT = ROOT / 'run_alphafold.py'
TINY_CONFIG_FILE = ROOT / 'tests' / 'inference' / 'tiny_model.py'
# Seconds a failing run may take: it must stop before any heavy work.
BAD_INPUT_TIMEOUT_S = 120
RUN_TIMEOUT_S = 900


def _run(*args, timeout=RUN_TIMEOUT_S):
  env = dict(os.environ, PYTHONPATH=str(ROOT))
  return subprocess.run([sys.executable, str(SCRIPT), *args], cwd=ROOT,
                        env=env, capture_output=True, text=True,
                        timeout=timeout, check=False)


def test_bad_fasta_is_a_clear_error(tmp_path):
  fasta = tmp_path / 'dna.fasta'
  fasta.write_text('>x\nACGTNNXJ1\n')
  result = _run(f'--fasta_paths={fasta}', f'--output_dir={tmp_path / "out"}',
                f'--data_dir={tmp_path}', timeout=BAD_INPUT_TIMEOUT_S)
  assert result.returncode != 0
  assert 'not amino acids' in result.stderr
  assert 'Traceback' not in result.stderr
  assert not (tmp_path / 'out').exists()


def test_missing_params_is_a_clear_error(tmp_path):
  result = _run(f'--fasta_paths={DEMO / "2rbg_A.fasta"}',
                f'--output_dir={tmp_path / "out"}', f'--data_dir={tmp_path}',
                '--model_preset=monomer_ptm', timeout=BAD_INPUT_TIMEOUT_S)
  assert result.returncode != 0
  assert 'params_model_1_ptm.npz' in result.stderr
  assert 'Traceback' not in result.stderr


def test_prediction_with_a_checkpoint(tmp_path):
  params = tmp_path / 'tiny.npz'
  tiny_model.write_random_params(tiny_model.tiny_config(), params)
  msas = tmp_path / 'out' / '2rbg_A' / 'msas'
  msas.mkdir(parents=True)
  shutil.copy(DEMO / '2rbg_A_bfd_uniclust_hits.a3m',
              msas / 'bfd_uniclust_hits.a3m')
  database = DEMO / 'databases' / 'mini_uniref.fasta'
  result = _run(
      f'--fasta_paths={DEMO / "2rbg_A.fasta"}',
      f'--output_dir={tmp_path / "out"}',
      f'--checkpoint={params}', f'--checkpoint_config={TINY_CONFIG_FILE}',
      f'--uniref90_database_path={database}',
      f'--mgnify_database_path={database}', '--use_precomputed_msas',
      '--models_to_relax=none', '--random_seed=7', '--num_recycle=2',
      '--recycle_early_stop_tolerance=0.5', '--benchmark')
  assert result.returncode == 0, result.stderr[-3000:]
  assert 'best model model_checkpoint' in result.stdout
  out = tmp_path / 'out' / '2rbg_A'
  for name in ('ranked_0.pdb', 'ranked_0.cif', 'unrelaxed_model_checkpoint.pdb',
               'confidence_model_checkpoint.png', 'result_model_checkpoint.pkl',
               'msas/uniref90_hits.sto'):
    assert (out / name).is_file(), name
  assert not (out / 'relaxed_model_checkpoint.pdb').exists()
  assert json.loads((out / 'relax_metrics.json').read_text()) == {}
  assert json.loads((out / 'ranking_debug.json').read_text())['order'] == [
      'model_checkpoint']
  # --benchmark: the model ran a second time, timed without compilation.
  assert 'predict_benchmark_model_checkpoint' in json.loads(
      (out / 'timings.json').read_text())


@pytest.mark.parametrize('flag', ['--fasta_paths', '--output_dir'])
def test_required_flags(tmp_path, flag):
  args = {'--fasta_paths': f'--fasta_paths={DEMO / "2rbg_A.fasta"}',
          '--output_dir': f'--output_dir={tmp_path}'}
  del args[flag]
  result = _run(*args.values(), timeout=BAD_INPUT_TIMEOUT_S)
  assert result.returncode != 0
  assert flag.lstrip('-') in result.stderr
