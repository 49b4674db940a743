"""run_alphafold.py as a user runs it: flags in, files out, clear errors."""
import json
import os
import pathlib
import re


import pickle
import shutil
import subprocess
import sys

import numpy as np
import pytest

from tests.inference import multimer_data
from tests.inference import tiny_model
from tests.inference import tiny_multimer

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


def _error_line(result, path) -> str:
  """The run failed with exactly one error line on stderr, naming `path`
  (absl's INFO/WARNING lines may come with it; no traceback, no second
  error)."""
  assert result.returncode != 0
  assert 'Traceback' not in result.stderr, result.stderr[-3000:]
  errors = [line for line in result.stderr.splitlines()
            if line.startswith('Error:') or re.match(r'[EF]\d{4} ', line)]
  assert len(errors) == 1, result.stderr[-3000:]
  assert str(path) in errors[0]
  return errors[0]


def test_bad_fasta_is_a_clear_error(tmp_path):
  fasta = tmp_path / 'dna.fasta'
  fasta.write_text('>x\nACGTNNXJ1\n')
  result = _run(f'--fasta_paths={fasta}', f'--output_dir={tmp_path / "out"}',
                f'--data_dir={tmp_path}', timeout=BAD_INPUT_TIMEOUT_S)
  assert 'not amino acids' in _error_line(result, fasta)
  assert not (tmp_path / 'out').exists()


def test_missing_params_is_a_clear_error(tmp_path):
  result = _run(f'--fasta_paths={DEMO / "2rbg_A.fasta"}',
                f'--output_dir={tmp_path / "out"}', f'--data_dir={tmp_path}',
                '--model_preset=monomer_ptm', timeout=BAD_INPUT_TIMEOUT_S)
  _error_line(result, tmp_path / 'params' / 'params_model_1_ptm.npz')


def test_shard_residues_builds_the_mesh(tmp_path):
  """--shard_residues reaches the run: the mesh is logged (before the
  checks, which then stop the run at the missing parameters)."""
  result = _run(f'--fasta_paths={DEMO / "2rbg_A.fasta"}',
                f'--output_dir={tmp_path / "out"}', f'--data_dir={tmp_path}',
                '--model_preset=monomer_ptm', '--shard_residues',
                timeout=BAD_INPUT_TIMEOUT_S)
  _error_line(result, tmp_path / 'params' / 'params_model_1_ptm.npz')
  assert re.search(r"Residue sharding over a mesh of \d+ devices \(axis "
                   r"'residues'\)", result.stderr), result.stderr[-3000:]


def _released_format_params(data_dir):
  """params/params_model_{1..5}_ptm.npz, one array each: archives that pass
  the checks before a run (which read the headers), never loaded here."""
  params = data_dir / 'params'
  params.mkdir(parents=True)
  for i in range(1, 6):
    np.savez(params / f'params_model_{i}_ptm.npz',
             **{'alphafold/linear//weights': np.zeros((2,), np.float32)})
  return params


def _damage_precomputed_a3m(tmp_path):
  """The issue's case: bfd_uniclust_hits.a3m with a row cut short."""
  msas = tmp_path / 'out' / '2rbg_A' / 'msas'
  msas.mkdir(parents=True)
  text = (DEMO / '2rbg_A_bfd_uniclust_hits.a3m').read_text()
  path = msas / 'bfd_uniclust_hits.a3m'
  path.write_text(text[:text.index('>hom3') + 60])
  checkpoint = tmp_path / 'tiny.npz'
  np.savez(checkpoint, **{'alphafold/linear//weights': np.zeros((2,))})
  # BFD's alignment is reused (full_dbs; the later flag wins).
  return path, [f'--checkpoint={checkpoint}',
                f'--checkpoint_config={TINY_CONFIG_FILE}',
                '--db_preset=full_dbs']


def _damage_params(tmp_path):
  path = _released_format_params(tmp_path / 'data') / 'params_model_2_ptm.npz'
  path.write_bytes(path.read_bytes()[:150])
  return path, [f'--data_dir={tmp_path / "data"}']


def _damage_obsolete_pdbs(tmp_path):
  _released_format_params(tmp_path / 'data')
  path = tmp_path / 'obsolete.dat'
  path.write_text('OBSLTE    31-JUL-94 116L     216L\nOBSLTE    31-JU')
  return path, [f'--data_dir={tmp_path / "data"}',
                f'--obsolete_pdbs_path={path}']


@pytest.mark.parametrize('damage', [
    _damage_precomputed_a3m, _damage_params, _damage_obsolete_pdbs])
def test_damaged_input_file_is_one_error_line(tmp_path, damage):
  """Each damaged file stops the run before any model is loaded, with one
  line '<file>: <problem>'."""
  path, flags = damage(tmp_path)
  database = DEMO / 'databases' / 'mini_uniref.fasta'
  (tmp_path / 'pdb70_a3m.ffdata').touch()
  (tmp_path / 'mmcif').mkdir()
  result = _run(
      f'--fasta_paths={DEMO / "2rbg_A.fasta"}',
      f'--output_dir={tmp_path / "out"}', '--model_preset=monomer_ptm',
      f'--uniref90_database_path={database}',
      f'--mgnify_database_path={database}',
      f'--small_bfd_database_path={database}', '--db_preset=reduced_dbs',
      f'--pdb70_database_path={tmp_path / "pdb70"}',
      f'--template_mmcif_dir={tmp_path / "mmcif"}',
      '--max_template_date=2020-05-14', '--use_precomputed_msas',
      '--models_to_relax=none', *flags, timeout=BAD_INPUT_TIMEOUT_S)
  _error_line(result, path)
  assert 'Loaded model' not in result.stderr


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


TINY_MULTIMER_CONFIG_FILE = ROOT / 'tests' / 'inference' / 'tiny_multimer.py'


def _chains_of_pdb(text):
  """{chain id: [residue numbers]} of the ATOM records of PDB text."""
  chains = {}
  for line in text.splitlines():
    if line.startswith('ATOM'):
      numbers = chains.setdefault(line[21], [])
      if not numbers or numbers[-1] != int(line[22:26]):
        numbers.append(int(line[22:26]))
  return chains


def test_multimer_prediction_end_to_end(tmp_path):
  """A heteromer with a copy (BPTI variant x2 + another chain) from real
  jackhmmer and hmmsearch searches of small databases to every output."""
  params = tmp_path / 'tiny_multimer.npz'
  tiny_multimer.write_random_params(tiny_multimer.tiny_config(), params)
  databases = multimer_data.write_databases(tmp_path / 'dbs')
  bpti, other = multimer_data.chain_sequences()
  fasta = tmp_path / 'complex.fasta'
  fasta.write_text(f'>bpti variant\n{bpti}\n>other\n{other}\n'
                   f'>bpti_copy\n{bpti}\n')
  out = tmp_path / 'out'
  args = [f'--fasta_paths={fasta}', f'--output_dir={out}',
          '--model_preset=multimer', '--db_preset=reduced_dbs',
          *[f'--{k}={v}' for k, v in databases.items()],
          f'--checkpoint={params}',
          f'--checkpoint_config={TINY_MULTIMER_CONFIG_FILE}',
          '--max_template_date=2020-01-01',
          '--num_multimer_predictions_per_model=2', '--random_seed=1',
          # Relaxing a random network's structure takes minutes; the
          # relaxation of complexes is tested in tests/inference/test_relax.py.
          '--models_to_relax=none']
  result = _run(*args)
  assert result.returncode == 0, result.stderr[-3000:]
  target = out / 'complex'
  names = ['model_checkpoint_pred_0', 'model_checkpoint_pred_1']

  # Searches: once per distinct sequence, in msas/<first chain id>/.
  chain_map = json.loads((target / 'msas' / 'chain_id_map.json').read_text())
  assert {k: v['sequence'] for k, v in chain_map.items()} == {
      'A': bpti, 'B': other, 'C': bpti}
  assert chain_map['A']['description'] == 'bpti variant'
  for chain in 'AB':
    for name in ('uniref90_hits.sto', 'mgnify_hits.sto', 'small_bfd_hits.sto',
                 'uniprot_hits.sto', 'pdb_hits.sto'):
      assert (target / 'msas' / chain / name).is_file(), (chain, name)
  assert not (target / 'msas' / 'C').exists()
  assert '5pti_A' in (target / 'msas' / 'A' / 'pdb_hits.sto').read_text()

  # Each prediction's files; ranking by 0.8 ipTM + 0.2 pTM.
  ranking = json.loads((target / 'ranking_debug.json').read_text())
  assert sorted(ranking) == ['iptm+ptm', 'order']
  assert sorted(ranking['order']) == names
  for name in names:
    with open(target / f'result_{name}.pkl', 'rb') as f:
      prediction = pickle.load(f)
    assert 0 < prediction['iptm'] < 1 and 0 < prediction['ptm'] < 1
    np.testing.assert_allclose(
        ranking['iptm+ptm'][name],
        0.8 * prediction['iptm'] + 0.2 * prediction['ptm'], rtol=1e-6)
    num_res = 2 * len(bpti) + len(other)
    assert prediction['predicted_aligned_error'].shape == (num_res, num_res)
    pae = json.loads((target / f'pae_{name}.json').read_text())
    assert len(pae[0]['predicted_aligned_error']) == num_res
    confidence = json.loads((target / f'confidence_{name}.json').read_text())
    assert len(confidence['confidenceScore']) == num_res
    assert (target / f'confidence_{name}.png').stat().st_size > 0
    # Chains in asym_id order, as v2.3 writes them: the copies of a
    # sequence next to each other (A, B: BPTI; C: the other chain), each
    # numbered from 1.
    chains = _chains_of_pdb((target / f'unrelaxed_{name}.pdb').read_text())
    assert chains == {'A': list(range(1, len(bpti) + 1)),
                      'B': list(range(1, len(bpti) + 1)),
                      'C': list(range(1, len(other) + 1))}
  first, second = ranking['order']
  assert ranking['iptm+ptm'][first] >= ranking['iptm+ptm'][second]
  # Two seeds, two MSA samples: two different predictions.
  assert (ranking['iptm+ptm'][first] != ranking['iptm+ptm'][second])

  ranked = (target / 'ranked_0.pdb').read_text()
  assert list(_chains_of_pdb(ranked)) == ['A', 'B', 'C']
  cif = (target / 'ranked_0.cif').read_text()
  assert {line.split()[6] for line in cif.splitlines()
          if line.startswith('ATOM')} == {'A', 'B', 'C'}
  assert ranked.count('TER') == 3
  assert json.loads((target / 'relax_metrics.json').read_text()) == {}
  with open(target / 'features.pkl', 'rb') as f:
    features = pickle.load(f)
  np.testing.assert_array_equal(
      features['asym_id'], np.repeat([1, 2, 3], [len(bpti), len(bpti),
                                                 len(other)]))
  timings = json.loads((target / 'timings.json').read_text())
  assert {f'predict_and_compile_{n}' for n in names} <= set(timings)


def test_multimer_without_uniprot_is_one_line_before_any_search(tmp_path):
  bpti, other = multimer_data.chain_sequences()
  fasta = tmp_path / 'complex.fasta'
  fasta.write_text(f'>a\n{bpti}\n>b\n{other}\n')
  # The weight files are checked first (that each is a readable archive).
  (tmp_path / 'params').mkdir()
  for i in range(1, 6):
    np.savez(tmp_path / 'params' / f'params_model_{i}_multimer_v3.npz',
             **{'alphafold/alphafold_iteration//placeholder': np.zeros(1)})
  result = _run(f'--fasta_paths={fasta}', f'--output_dir={tmp_path / "out"}',
                f'--data_dir={tmp_path}', '--model_preset=multimer',
                '--pdb_seqres_database_path=seqres.txt',
                '--max_template_date=2020-01-01',
                timeout=BAD_INPUT_TIMEOUT_S)
  assert result.returncode != 0
  assert 'Traceback' not in result.stderr
  assert result.stderr.splitlines()[-1] == ('Error: --uniprot_database_path must be set for '
                        '--model_preset=multimer.')
  assert not (tmp_path / 'out').exists()
