"""The dataset command lines: flags in, a built dataset out."""
import json
import os
import pathlib
import subprocess
import sys

import numpy as np

from alphafold_jax.data.datasets import provenance as provenance_lib
from alphafold_jax.data.datasets import records
from alphafold_jax.data.datasets import sources

ROOT = pathlib.Path(__file__).parents[3]


def _examples(data_dir):
  source = sources.open_dataset(str(data_dir), sources.DISTILLATION_DATASET)
  return {records.text(source[i], 'name'): source[i]
          for i in range(len(source))}


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


def test_build_distillation_dataset_command(distillation_inputs,
                                            distillation_data_dir,
                                            tiny_config, tmp_path):
  """The command with --config (tiny preset, its MSA sizes as the in-process
  build's) and --params builds the set the library builds: the same
  examples, with the preset and the parameter file's hash as provenance."""
  params = distillation_inputs.params_path
  data_dir = tmp_path / 'tfds'
  result = subprocess.run(
      [sys.executable,
       str(ROOT / 'train' / 'build_distillation_dataset.py'),
       f'--config={ROOT / "configs" / "tiny.py"}',
       '--config.data.eval.max_msa_clusters='
       f'{tiny_config.data.eval.max_msa_clusters}',
       '--config.data.common.max_extra_msa='
       f'{tiny_config.data.common.max_extra_msa}',
       f'--params={params}', f'--fasta={distillation_inputs.fasta}',
       f'--msa_dir={distillation_inputs.msa_dir}', f'--data_dir={data_dir}',
       f'--batch_size={distillation_inputs.batch_size}', '--seed=0',
       '--min_mean_plddt=0', '--noprogress_bar'],
      capture_output=True, text=True, cwd=ROOT,
      env=dict(os.environ, PYTHONPATH=str(ROOT)))
  assert result.returncode == 0, result.stderr[-3000:]
  built = _examples(data_dir)
  expected = _examples(distillation_data_dir)
  assert sorted(built) == sorted(expected) == sorted(
      distillation_inputs.predicted)
  provenance = {'model_preset': 'tiny',
                'params_sha256': provenance_lib.file_sha256(params),
                'prediction_date': provenance_lib.today()}
  for name, example in built.items():
    for key, value in provenance.items():
      assert records.text(example, key) == value, (name, key)
    for key in example:
      if key not in provenance:
        np.testing.assert_array_equal(example[key], expected[name][key],
                                      err_msg=f'{name} {key}')
