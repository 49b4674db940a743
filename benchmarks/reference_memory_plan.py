"""XLA's planned memory of the reference's network on our benchmark's features.

The peer is AlphaFold 2.3 as packaged by `alphafold-colabfold` (2.3.16, the
release benchmarks/reference_features.py uses), whose `AlphaFold` module
runs one recycling iteration per call (ColabFold drives the recycling from
Python): its plan is the memory of one iteration, the same peak that our
single compiled inference (all iterations in one while loop) reaches. Same
preset, subbatch size and features: the feature shapes and dtypes come from
`benchmarks/memory_plan.py --save_batch_spec=DIR`, cut to one iteration.

It needs its own environment (the reference never enters ours):

  python3.11 -m venv /tmp/ref16
  /tmp/ref16/bin/pip install --no-deps alphafold-colabfold==2.3.16
  /tmp/ref16/bin/pip install jax==0.10.2 jaxlib==0.10.2 dm-haiku==0.0.17 \\
      ml-collections dm-tree absl-py immutabledict chex biopython

then, from the repository root:

  .venv/bin/python -m benchmarks.memory_plan --num_res 1024 \\
      --save_batch_spec=/tmp/spec
  /tmp/ref16/bin/python benchmarks/reference_memory_plan.py \\
      --batch_spec=/tmp/spec/batch_1024.json

Prints one JSON line in memory_plan.py's format, with `"model": "reference"`.
"""
import argparse
import json
import time

import haiku as hk
import jax
import jax.numpy as jnp
from alphafold.model import config as ref_config
from alphafold.model import modules as ref_modules


def main():
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument('--batch_spec', required=True)
  parser.add_argument('--preset', default='model_1_ptm')
  parser.add_argument('--bf16', choices=['default', 'on', 'off'],
                      default='default',
                      help="the reference's global_config.bfloat16 (its "
                      'default: on)')
  args = parser.parse_args()
  with open(args.batch_spec) as f:
    spec = json.load(f)
  # One recycling iteration's features: the first slice of the leading axis.
  batch = {k: jax.ShapeDtypeStruct((1,) + tuple(shape[1:]), jnp.dtype(dtype))
           for k, (shape, dtype) in spec.items()}
  cfg = ref_config.model_config(args.preset)
  if args.bf16 != 'default':
    cfg.model.global_config.bfloat16 = args.bf16 == 'on'
  num_res = batch['aatype'].shape[-1]

  def forward(b):
    return ref_modules.AlphaFold(cfg.model)(b, is_training=False)

  model = hk.transform(forward)
  params = jax.eval_shape(model.init, jax.random.PRNGKey(0), batch)
  start = time.perf_counter()
  compiled = jax.jit(model.apply).lower(params, jax.random.PRNGKey(1),
                                        batch).compile()
  memory = compiled.memory_analysis()
  print(json.dumps({
      'benchmark': 'memory_plan', 'model': 'reference',
      'package': 'alphafold-colabfold 2.3.16', 'preset': args.preset,
      'num_res': num_res, 'devices': 1,
      'subbatch_size': cfg.model.global_config.subbatch_size,
      'bf16': bool(cfg.model.global_config.bfloat16),
      'backend': jax.default_backend(),
      'temp_bytes': int(memory.temp_size_in_bytes),
      'argument_bytes': int(memory.argument_size_in_bytes),
      'output_bytes': int(memory.output_size_in_bytes),
      'compile_s': round(time.perf_counter() - start, 1)}))


if __name__ == '__main__':
  main()
