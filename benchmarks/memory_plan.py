"""XLA's planned memory for one whole inference, from compiling alone.

Full-size model (model_1_ptm by default), a synthetic MSA of --num_seq
sequences, --max_extra_msa extra sequences, 4 (empty) templates, 3 recycles;
nothing runs, so lengths this machine could never run can be planned:

  python benchmarks/memory_plan.py --num_res 1024 2048 4096 6144 [--bf16] \
      [--devices 4] [--subbatch_size 0]

Prints one JSON line per length with `num_res`, `devices`, `temp_bytes`
(XLA's temporary buffers: the activations), `argument_bytes` (parameters
and features) and `output_bytes`, as reported by
`jax.jit(apply).lower(...).compile().memory_analysis()` on the default
backend. Each length compiles in its own process.

`--devices D` (D > 1) compiles for a mesh of D devices (on the CPU, D host
devices: XLA_FLAGS=--xla_force_host_platform_device_count=D, set before jax
is imported) with residue sharding (`global_config.shard_residues`,
alphafold_jax/model/layers/sharding.py; `sharding: "residues"` in the
line): parameters are replicated, the features (as the runner gives
them, `sharding.feature_shardings`) and the pair and MSA representations
split along residues, and the byte counts are per device.
With one device nothing is sharded (`sharding: "none"`).

`--save_batch_spec=DIR` also writes each length's feature shapes and dtypes
(`DIR/batch_<num_res>.json`) for benchmarks/reference_memory_plan.py, which
plans the reference's network on the same features in its own environment.
"""
import argparse
import json
import os
import subprocess
import sys
import time


def plan_one(num_res: int, args) -> dict:
  import haiku as hk
  import jax
  from alphafold_jax.data.features import process_features
  from alphafold_jax.model import AlphaFold, model_config
  from alphafold_jax.model.layers import sharding
  from benchmarks.inference import synthetic_raw_features

  cfg = model_config(args.preset)
  cfg.model.num_recycle = args.num_recycle
  cfg.data.common.num_recycle = args.num_recycle
  cfg.data.common.max_extra_msa = args.max_extra_msa
  cfg.model.global_config.bfloat16 = args.bf16
  if args.subbatch_size is not None:
    # 0: no chunking (None in the config).
    cfg.model.global_config.subbatch_size = args.subbatch_size or None
  batch = process_features(synthetic_raw_features(num_res, args.num_seq), cfg,
                           mode='eval', random_seed=0)
  if args.save_batch_spec:
    spec = {k: [list(v.shape), str(v.dtype)] for k, v in batch.items()}
    with open(f'{args.save_batch_spec}/batch_{num_res}.json', 'w') as f:
      json.dump(spec, f)
  sharded = args.devices > 1
  cfg.model.global_config.shard_residues = sharded
  model = hk.transform(lambda b: AlphaFold(cfg.model)(b, is_training=False))
  devices = jax.devices()[:args.devices]
  if len(devices) < args.devices:
    raise ValueError(f'--devices={args.devices} but jax sees {len(devices)} '
                     f'{jax.default_backend()} devices')
  mesh = sharding.residue_mesh(devices)
  # Parameters replicated, features split along residues (as the runner
  # gives them); the activations (and outputs) as the model splits them.
  replicated = jax.sharding.NamedSharding(mesh, jax.sharding.PartitionSpec())
  features = (sharding.feature_shardings(batch, cfg.data.eval.feat, mesh)
              if sharded else replicated)
  with jax.set_mesh(mesh):
    params = jax.eval_shape(model.init, jax.random.PRNGKey(0), batch)
    start = time.perf_counter()
    compiled = jax.jit(model.apply, in_shardings=(
        replicated, replicated, features)).lower(
            params, jax.random.PRNGKey(1), batch).compile()
  memory = compiled.memory_analysis()
  return {'benchmark': 'memory_plan', 'preset': args.preset,
          'num_res': num_res, 'devices': args.devices,
          'sharding': 'residues' if sharded else 'none', 'bf16': args.bf16,
          'num_seq': args.num_seq, 'max_extra_msa': args.max_extra_msa,
          'num_recycle': args.num_recycle,
          'subbatch_size': cfg.model.global_config.subbatch_size,
          'backend': jax.default_backend(),
          'temp_bytes': int(memory.temp_size_in_bytes),
          'argument_bytes': int(memory.argument_size_in_bytes),
          'output_bytes': int(memory.output_size_in_bytes),
          'compile_s': round(time.perf_counter() - start, 1)}


def main():
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument('--num_res', type=int, nargs='+',
                      default=[1024, 2048, 4096, 6144])
  parser.add_argument('--preset', default='model_1_ptm')
  parser.add_argument('--num_seq', type=int, default=256)
  parser.add_argument('--max_extra_msa', type=int, default=1024)
  parser.add_argument('--num_recycle', type=int, default=3)
  parser.add_argument('--bf16', action='store_true',
                      help='bfloat16 trunk (global_config.bfloat16), as '
                      'run_alphafold.py --bfloat16')
  parser.add_argument('--save_batch_spec', default='',
                      help='folder for batch_<num_res>.json feature specs')
  parser.add_argument('--devices', type=int, default=1,
                      help='devices in the mesh (host devices on the CPU); '
                      'bytes are per device')
  parser.add_argument('--subbatch_size', type=int, default=None,
                      help="global_config.subbatch_size (0: no chunking); "
                      "default: the preset's")
  parser.add_argument('--in_process', action='store_true',
                      help='plan the lengths in this process')
  args = parser.parse_args()
  if args.devices < 1:
    parser.error('--devices must be at least 1')
  if args.devices > 1:
    # Read when jax initialises its backends, so before the first import.
    os.environ['XLA_FLAGS'] = (
        os.environ.get('XLA_FLAGS', '') +
        f' --xla_force_host_platform_device_count={args.devices}').strip()
  if args.in_process:
    for n in args.num_res:
      print(json.dumps(plan_one(n, args)), flush=True)
    return
  flags = [f'--preset={args.preset}', f'--num_seq={args.num_seq}',
           f'--max_extra_msa={args.max_extra_msa}',
           f'--num_recycle={args.num_recycle}', f'--devices={args.devices}',
           f'--save_batch_spec={args.save_batch_spec}'] + (
               ['--bf16'] if args.bf16 else []) + (
                   [f'--subbatch_size={args.subbatch_size}']
                   if args.subbatch_size is not None else [])
  for n in args.num_res:
    subprocess.run([sys.executable, '-m', 'benchmarks.memory_plan',
                    '--in_process', '--num_res', str(n), *flags], check=True)


if __name__ == '__main__':
  main()
