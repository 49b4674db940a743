"""Run by test_sharding.py in a subprocess with 4 host devices: one step on
a 1-device mesh and on the 4-device mesh from the same state and global
batch; prints the losses and how far the updates differ, as JSON."""
import json
import sys

import jax
import numpy as np

from alphafold_jax.training import config as config_lib
from alphafold_jax.training import data as data_lib
from alphafold_jax.training import optimizer as optimizer_lib
from alphafold_jax.training import sharding
from alphafold_jax.training import trainer
from tests.training.conftest import PROTEIN
from tests.training.conftest import tiny_config

NUM_DEVICES = 4


def main():
  if jax.device_count() != NUM_DEVICES:
    sys.exit(f'expected {NUM_DEVICES} devices, got {jax.device_count()}')
  config = tiny_config(batch_size=NUM_DEVICES)
  # The supplement's Adam epsilon (the full presets'), not the tiny preset's
  # 1e-9: a first Adam step moves every element with |gradient| >> epsilon
  # by the learning rate whatever its size, so at 1e-9 gradient elements at
  # float32 rounding level (whose sign a different summation order can flip)
  # would move by the full step and the comparison would measure that, not
  # the sharding. Loss and gradient norm are compared as well.
  config.optimizer.eps = config_lib.ADAM_EPS
  optimizer = optimizer_lib.make_optimizer(config.optimizer)
  examples = data_lib.load_structures([str(PROTEIN)], ['A'])
  data = data_lib.TrainingData(examples, config, NUM_DEVICES, seed=5)
  state = jax.device_get(trainer.initial_state(
      config, data.example(0), optimizer, jax.random.PRNGKey(0)))
  batch = next(data)
  results = {}
  for name, devices in (('one', jax.devices()[:1]), ('all', jax.devices())):
    mesh = sharding.make_mesh(devices)
    step = trainer.jit_train_step(config, optimizer, mesh)
    new_state, metrics = step(jax.tree_util.tree_map(np.array, state),
                              sharding.global_batch(batch, mesh))
    results[name] = (jax.device_get(new_state), jax.device_get(metrics))
  (one, metrics_one), (all_, metrics_all) = results['one'], results['all']

  def update(new):
    return [n - o for n, o in zip(jax.tree_util.tree_leaves(new.params),
                                  jax.tree_util.tree_leaves(state.params))]

  update_one, update_all = update(one), update(all_)
  difference = np.sqrt(sum(np.sum(np.square(a - b))
                           for a, b in zip(update_one, update_all)))
  norm = np.sqrt(sum(np.sum(np.square(a)) for a in update_one))
  print(json.dumps({
      'loss_one': float(metrics_one['loss']),
      'loss_all': float(metrics_all['loss']),
      'grad_norm_one': float(metrics_one['grad_norm']),
      'grad_norm_all': float(metrics_all['grad_norm']),
      'update_relative_difference': float(difference / norm),
      'batch_sharded': len(sharding.global_batch(
          batch, sharding.make_mesh()).get('aatype').sharding.device_set),
  }))


if __name__ == '__main__':
  main()
