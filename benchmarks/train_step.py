"""Compile time, step time and peak memory of one training step at the
initial-training model sizes (Suppl. Table 4: 48 Evoformer blocks, 128 MSA
clusters, 1,024 extra sequences, 4 templates, 3 recyclings), one example per
step, one JSON line per crop size.

  python benchmarks/train_step.py --crop_sizes=64,128 [--steps 3]
  python benchmarks/train_step.py --plan_only --crop_sizes=256,384 \
      [--config=configs/finetuning.py] [--bf16]

`--plan_only` runs nothing: it compiles the step on abstract state (no
parameters are initialised) and prints XLA's memory plan of it
(`compiled.memory_analysis()`: `temp_bytes`, the activations and the
backward pass's buffers; `argument_bytes`, the train state and the batch;
`output_bytes`), with the config's remat setting. `--bf16` turns on
bfloat16 training (`global_config.bfloat16`) whatever the config says.

Each crop size runs in its own process so that its peak resident memory
(ru_maxrss) is its own. The example is a real chain, single sequence (the
MSA and template stacks still run at their padded sizes); the recycling count
is fixed at its maximum so every step does the same work.
"""
import json
import pathlib
import resource
import subprocess
import sys
import time

from absl import app
from absl import flags
import jax
import numpy as np

from alphafold_jax.training import config as config_lib
from alphafold_jax.training import data as data_lib
from alphafold_jax.training import optimizer as optimizer_lib
from alphafold_jax.training import sharding
from alphafold_jax.training import trainer

REPO = pathlib.Path(__file__).resolve().parents[1]

_CROP_SIZES = flags.DEFINE_list('crop_sizes', ['64', '128'],
                                'Crop sizes measured (one process each).')
_STEPS = flags.DEFINE_integer('steps', 3, 'Timed steps after the first.')
_CONFIG = flags.DEFINE_string(
    'config', str(REPO / 'configs' / 'initial_training.py'), 'Config file.')
_STRUCTURE = flags.DEFINE_string(
    'structure', str(REPO / 'tests' / 'fixtures' / 'data' / '1ahsA.pdb.gz'),
    'The structure trained on (cropped or padded to the crop size).')
_PLAN_ONLY = flags.DEFINE_bool(
    'plan_only', False, 'Print the compiled step\'s memory plan; run nothing.')
_BF16 = flags.DEFINE_bool(
    'bf16', False, 'bfloat16 training (global_config.bfloat16): bfloat16 '
    'trunk activations, float32 parameters, structure module and losses.')
_KIB = 1024


def _setup(crop_size: int):
  """(config, optimizer, data, mesh) of one example per step at crop_size."""
  config = config_lib.load_config_file(_CONFIG.value)
  config.data.train.crop_size = crop_size
  config.train.batch_size = 1
  if _BF16.value:
    config.model.global_config.bfloat16 = True
  optimizer = optimizer_lib.make_optimizer(config.optimizer)
  examples = data_lib.load_structures([_STRUCTURE.value])
  data = data_lib.TrainingData(examples, config, 1, seed=0)
  return config, optimizer, data, sharding.make_mesh(jax.devices()[:1])


def plan(crop_size: int) -> dict:
  """XLA's memory plan of one compiled train step; nothing initialised or
  run (the state is abstract: shapes and dtypes only)."""
  config, optimizer, data, mesh = _setup(crop_size)
  example = data.example(0)
  state = jax.eval_shape(
      lambda key: trainer.initial_state(config, example, optimizer, key),
      jax.random.PRNGKey(0))
  batch = sharding.global_batch(next(data), mesh)
  start = time.perf_counter()
  compiled = trainer.jit_train_step(config, optimizer, mesh).lower(
      state, batch).compile()
  memory = compiled.memory_analysis()
  return {
      'benchmark': 'train_step_plan',
      'config': pathlib.Path(_CONFIG.value).stem, 'crop_size': crop_size,
      'use_remat': bool(config.model.global_config.use_remat),
      'bf16': bool(config.model.global_config.get('bfloat16', False)),
      'backend': jax.default_backend(),
      'temp_bytes': int(memory.temp_size_in_bytes),
      'argument_bytes': int(memory.argument_size_in_bytes),
      'output_bytes': int(memory.output_size_in_bytes),
      'alias_bytes': int(memory.alias_size_in_bytes),
      'compile_seconds': round(time.perf_counter() - start, 1),
  }


def _peak_device_mb() -> dict:
  """{'peak_device_mb': ...} where the device reports it (GPUs), else {}."""
  stats = jax.devices()[0].memory_stats() or {}
  if 'peak_bytes_in_use' not in stats:
    return {}
  return {'peak_device_mb': round(stats['peak_bytes_in_use'] / 2**20, 1)}


def measure(crop_size: int) -> dict:
  config, optimizer, data, mesh = _setup(crop_size)

  def next_batch():
    batch = next(data)
    # Every step runs all recycling iterations: comparable step times.
    return sharding.global_batch(dict(batch, num_iter_recycling=np.full_like(
        batch['num_iter_recycling'], config.model.num_recycle)), mesh)

  start = time.perf_counter()
  state = trainer.initial_state(config, data.example(0), optimizer,
                                jax.random.PRNGKey(0))
  jax.block_until_ready(state)
  init_seconds = time.perf_counter() - start
  step_fn = trainer.jit_train_step(config, optimizer, mesh)
  batch = next_batch()
  start = time.perf_counter()
  compiled = step_fn.lower(state, batch).compile()
  compile_seconds = time.perf_counter() - start
  state, metrics = compiled(state, batch)
  jax.block_until_ready(metrics)
  times = []
  for _ in range(_STEPS.value):
    batch = next_batch()
    start = time.perf_counter()
    state, metrics = compiled(state, batch)
    jax.block_until_ready(metrics)
    times.append(time.perf_counter() - start)
  return {
      'config': pathlib.Path(_CONFIG.value).stem, 'crop_size': crop_size,
      'bf16': bool(config.model.global_config.bfloat16),
      'device': jax.devices()[0].device_kind,
      'num_params': int(sum(x.size for x in
                            jax.tree_util.tree_leaves(state.params))),
      'init_seconds': round(init_seconds, 1),
      'compile_seconds': round(compile_seconds, 1),
      'step_seconds': round(float(np.median(times)), 2),
      'peak_rss_gib': round(resource.getrusage(
          resource.RUSAGE_SELF).ru_maxrss / _KIB / _KIB, 2),
      'loss': round(float(metrics['loss']), 4),
      **_peak_device_mb(),
  }


def main(argv):
  del argv
  if len(_CROP_SIZES.value) == 1:
    run = plan if _PLAN_ONLY.value else measure
    print(json.dumps(run(int(_CROP_SIZES.value[0]))), flush=True)
    return
  for crop in _CROP_SIZES.value:
    result = subprocess.run(
        [sys.executable, __file__, f'--crop_sizes={crop}',
         f'--steps={_STEPS.value}', f'--config={_CONFIG.value}',
         f'--structure={_STRUCTURE.value}',
         f'--plan_only={_PLAN_ONLY.value}', f'--bf16={_BF16.value}'],
        capture_output=True, text=True, check=False)
    lines = result.stdout.strip().splitlines()
    if result.returncode or not lines:
      print(json.dumps({'crop_size': int(crop), 'error':
                        result.stderr.strip().splitlines()[-1:]}), flush=True)
    else:
      print(lines[-1], flush=True)


if __name__ == '__main__':
  app.run(main)
