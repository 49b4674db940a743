"""Data parallelism: on 4 (host) devices the step gives the loss and update
of one device on the same global batch."""
import json
import os
import subprocess
import sys

from tests.training.conftest import REPO

# Float32 sums over the batch reduce in a different order across devices.
TOLERANCE = 1e-5


def test_four_devices_match_one():
  env = dict(os.environ)
  env['XLA_FLAGS'] = ('--xla_force_host_platform_device_count=4 '
                      '--xla_cpu_multi_thread_eigen=false')
  env['PYTHONPATH'] = os.pathsep.join(
      [str(REPO)] + [p for p in [env.get('PYTHONPATH')] if p])
  result = subprocess.run(
      [sys.executable, '-m', 'tests.training.multi_device_step'],
      cwd=REPO, env=env, capture_output=True, text=True, check=False)
  assert result.returncode == 0, result.stderr[-3000:]
  report = json.loads(result.stdout.strip().splitlines()[-1])
  assert report['batch_sharded'] == 4
  assert abs(report['loss_one'] - report['loss_all']) <= TOLERANCE * abs(
      report['loss_one'])
  assert abs(report['grad_norm_one'] - report['grad_norm_all']) <= (
      TOLERANCE * report['grad_norm_one'])
  assert report['update_relative_difference'] < TOLERANCE
