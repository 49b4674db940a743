"""The dataset command lines: flags in, a built dataset out."""
import json
import os
import pathlib
import subprocess
import sys

from alphafold_jax.data.datasets import sources

ROOT = pathlib.Path(__file__).parents[3]


def test_build_pdb_dataset_command(pdb_sources, tmp_path):
  subprocess.run(
      [sys.executable, str(ROOT / 'train' / 'build_pdb_dataset.py'),
       f'--structure_dir={pdb_sources.structure_dir}',
       f'--alignment_dir={pdb_sources.alignment_dir}',
       f'--clusters={pdb_sources.clusters_path}',
       f'--data_dir={tmp_path}', '--min_length=5'],
      check=True, capture_output=True, cwd=ROOT)
  folder = sources.dataset_dir(str(tmp_path), sources.PDB_DATASET)
  with open(os.path.join(folder, 'build_report.json')) as f:
    report = json.load(f)
  # --min_length=5 lets the 7-residue 1YJP peptide in.
  assert '1yjp_A' in report['kept']
  assert len(sources.open_dataset(str(tmp_path), sources.PDB_DATASET)) == (
      len(report['kept']))
  weights = sources.read_sampling_weights(str(tmp_path), sources.PDB_DATASET)
  assert len(weights) == len(report['kept'])


def test_build_distillation_dataset_command_checks_its_flags(tmp_path):
  result = subprocess.run(
      [sys.executable, str(ROOT / 'train' / 'build_distillation_dataset.py'),
       '--fasta=x.fasta', '--msa_dir=msas', f'--data_dir={tmp_path}'],
      capture_output=True, text=True, cwd=ROOT)
  assert result.returncode != 0
  assert 'exactly one of --config and --model_preset' in result.stderr
