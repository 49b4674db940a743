"""Residue sharding (alphafold_jax/model/layers/sharding.py): on 4 host
devices the golden small model gives the one-device outputs, and the
compiled program is split (its planned temporary memory per device is a
fraction of the one-device plan)."""
import json
import os
import subprocess
import sys

import ml_collections
import numpy as np
import pytest

from alphafold_jax.model import model_config
from alphafold_jax.model.layers import sharding
from tests.training.conftest import REPO

# Float64; only the order of the sums over split axes differs.
TOLERANCE = 1e-9
# The trunk's planned temporary bytes per device over the one-device plan.
# Split evenly over 4 devices the activations would take 0.25; the operands
# gathered whole (attention biases, a chunk of a triangle multiplication's
# channels, a block of the outer product's right side) and the per-device
# copies of the inputs add to it (0.31 measured at 96 residues). With 98
# residues XLA splits unevenly (0.26 measured); the runner pads anyway. The
# trunk is planned rather than the whole model: the small model's whole
# plan peaks in the heads' [N, N, bins] logits (outputs, gathered whole when
# the devices do not divide the residues), not in the split representations.
EVEN_PLAN_RATIO = 0.35
UNEVEN_PLAN_RATIO = 0.75


@pytest.fixture(scope='module')
def report():
  env = dict(os.environ)
  env['XLA_FLAGS'] = '--xla_force_host_platform_device_count=4'
  env['PYTHONPATH'] = os.pathsep.join(
      [str(REPO)] + [p for p in [env.get('PYTHONPATH')] if p])
  result = subprocess.run(
      [sys.executable, '-m', 'tests.model.residue_sharding_run'],
      cwd=REPO, env=env, capture_output=True, text=True, check=False)
  assert result.returncode == 0, result.stderr[-3000:]
  return json.loads(result.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize('num_res', ['96', '98'])
def test_sharded_outputs_equal_one_device(report, num_res):
  case = report['lengths'][num_res]
  assert report['devices'] == 4
  assert case['outputs'] > 30
  assert case['max_relative_difference'] < TOLERANCE


@pytest.mark.parametrize('num_res,ratio', [('96', EVEN_PLAN_RATIO),
                                           ('98', UNEVEN_PLAN_RATIO)])
def test_sharded_program_is_split(report, num_res, ratio):
  case = report['lengths'][num_res]
  assert case['temp_bytes_sharded'] < ratio * case['temp_bytes_one_device']


def test_runner_pads_to_a_multiple_of_the_devices(report):
  runner = report['runner']
  assert runner['padded_size_98'] == 100 and runner['shard_residues']
  # Its prediction (through runner.run_compiled, under the mesh) is the
  # one-device run's on the protein's residues.
  assert set(runner['relative_difference']) == {'positions', 'distogram'}
  for key, difference in runner['relative_difference'].items():
    assert difference < TOLERANCE, key


def test_switch_off_or_absent_is_one_shard():
  assert sharding.num_shards(ml_collections.ConfigDict({})) == 1
  assert sharding.num_shards(
      ml_collections.ConfigDict({'shard_residues': False})) == 1


def test_switch_on_without_a_mesh_is_a_clear_error():
  with pytest.raises(ValueError, match="mesh with the axis 'residues'"):
    sharding.num_shards(ml_collections.ConfigDict({'shard_residues': True}))


def test_features_split_along_their_first_residue_axis():
  """After the leading ensemble axis: the MSA features along residues, the
  templates' along their first residue axis, scalars per example whole."""
  schema = model_config('model_1_ptm').data.eval.feat
  batch = {'msa_feat': np.zeros((4, 508, 96, 49)),
           'aatype': np.zeros((4, 96), np.int32),
           'template_all_atom_positions': np.zeros((4, 4, 96, 37, 3)),
           'seq_length': np.zeros((4,), np.int32)}
  specs = {k: tuple(v.spec) for k, v in sharding.feature_shardings(
      batch, schema, sharding.residue_mesh()).items()}
  axis = sharding.RESIDUE_AXIS
  assert specs == {'msa_feat': (None, None, axis, None),
                   'aatype': (None, axis),
                   'template_all_atom_positions': (None, None, axis, None,
                                                   None),
                   'seq_length': (None,)}
