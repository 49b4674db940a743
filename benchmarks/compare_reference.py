"""Our inference against the reference's, side by side on the same inputs.

Full-size network (model_1_ptm by default) with the same random weights on
both sides (drawn for the parameter shapes of ours, written in the released
.npz format, read by both), the same eval features (a synthetic --num_seq-sequence MSA, 4
empty templates, --num_recycle recycles), one after the other in separate
processes: the inputs are prepared, then ours runs, then the reference
(benchmarks/reference_inference.py in its own environment, see there for
how to install it). One JSON line per length: each side's compile and run
seconds and peak resident memory, and ours / reference ratios.

  python -m benchmarks.compare_reference --num_res 64 128 \\
      [--reference_python=/tmp/ref16/bin/python] [--reference_bf16 default]

The reference (alphafold-colabfold 2.3.16) runs its trunk in bfloat16 by
default (`global_config.bfloat16`), ours in float32 unless --bf16;
`--reference_bf16 off` compares float32 with float32.
"""
import argparse
import json
import pathlib
import resource
import subprocess
import sys
import tempfile
import time

import numpy as np

REPO = pathlib.Path(__file__).resolve().parents[1]
_REFERENCE_SCRIPT = REPO / 'benchmarks' / 'reference_inference.py'


def _config(args):
  from alphafold_jax.model import model_config
  cfg = model_config(args.preset)
  cfg.model.num_recycle = args.num_recycle
  cfg.data.common.num_recycle = args.num_recycle
  cfg.model.global_config.bfloat16 = args.bf16
  return cfg


def random_flat_params(cfg, seed: int = 0) -> dict:
  """Random weights of `cfg`'s model as the released .npz holds them.

  Drawn in NumPy for the shapes the model creates (found without compiling
  anything: compiling the full model's initialiser costs as much as its
  forward pass): layer-norm scales and gates' biases 1, other biases and
  offsets 0, weights normal with variance 1 / fan-in. The values only have
  to keep the activations finite; run times do not depend on them.
  """
  from alphafold_jax.model.params import param_shapes
  rng = np.random.default_rng(seed)
  flat = {}
  for key, shape in param_shapes(cfg).items():
    name = key.split('//')[-1]
    if name in ('scale', 'gating_b'):
      flat[key] = np.ones(shape, np.float32)
    elif name in ('bias', 'offset', 'output_b', 'trainable_point_weights'):
      flat[key] = np.zeros(shape, np.float32)
    else:
      fan_in = int(np.prod(shape[:2] if name == 'output_w' else shape[:1]))
      flat[key] = rng.normal(0., fan_in**-0.5, shape).astype(np.float32)
  return flat


def prepare(num_res: int, args, workdir: pathlib.Path) -> None:
  """Writes workdir/batch.npz (eval features) and the random weights
  workdir/params_<preset>.npz in the released format."""
  from alphafold_jax.common import atomic
  from alphafold_jax.data.features import process_features
  from benchmarks.inference import synthetic_raw_features

  cfg = _config(args)
  batch = process_features(synthetic_raw_features(num_res, args.num_seq), cfg,
                           mode='eval', random_seed=0)
  atomic.write_npz(workdir / 'batch.npz',
                   {k: np.asarray(v) for k, v in batch.items()})
  atomic.write_npz(workdir / f'params_{args.preset}.npz',
                   random_flat_params(cfg))


def run_ours(args, workdir: pathlib.Path) -> dict:
  """Compiles and runs one whole inference (all recycles) of ours."""
  import haiku as hk
  import jax
  from alphafold_jax.common import confidence
  from alphafold_jax.inference import runner
  from alphafold_jax.model import AlphaFold
  from alphafold_jax.model import load_params

  cfg = _config(args)
  with np.load(workdir / 'batch.npz') as data:
    batch = {k: data[k] for k in data.files}
  # Kept between calls as the inference's runner keeps them.
  params = runner.held_params(
      load_params(workdir / f'params_{args.preset}.npz', config=cfg))
  model = hk.transform(lambda b: AlphaFold(cfg.model)(b, is_training=False))
  key = jax.random.PRNGKey(0)
  start = time.perf_counter()
  compiled = jax.jit(model.apply).lower(params, key, batch).compile()
  compile_s = time.perf_counter() - start
  # As the runner does after compiling (runner.run_compiled).
  runner.release_freed_host_memory()
  start = time.perf_counter()
  out = jax.device_get(compiled(params, key, batch))
  run_s = time.perf_counter() - start
  return {'model': 'ours', 'preset': args.preset,
          'num_res': int(batch['aatype'].shape[-1]),
          'num_recycle': args.num_recycle, 'bf16': args.bf16,
          'subbatch_size': cfg.model.global_config.subbatch_size,
          'backend': jax.default_backend(),
          'compile_s': round(compile_s, 2), 'run_s': round(run_s, 2),
          'peak_rss_mb': round(resource.getrusage(
              resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
          'mean_plddt': round(float(np.mean(confidence.compute_plddt(
              out['predicted_lddt']['logits']))), 3)}


def _last_json_line(cmd) -> dict:
  result = subprocess.run(cmd, capture_output=True, text=True, check=False)
  lines = [l for l in result.stdout.splitlines() if l.startswith('{')]
  if result.returncode or not lines:
    raise RuntimeError(f'{" ".join(map(str, cmd))} failed (exit '
                       f'{result.returncode}):\n{result.stderr[-3000:]}')
  return json.loads(lines[-1])


def compare(num_res: int, args, workdir: pathlib.Path) -> dict:
  own = [sys.executable, '-m', 'benchmarks.compare_reference',
         f'--preset={args.preset}', f'--num_seq={args.num_seq}',
         f'--num_recycle={args.num_recycle}', f'--num_res={num_res}',
         f'--workdir={workdir}'] + (['--bf16'] if args.bf16 else [])
  subprocess.run(own + ['--step=prepare'], check=True, cwd=REPO)
  ours = _last_json_line(own + ['--step=ours'])
  reference = _last_json_line([
      args.reference_python, str(_REFERENCE_SCRIPT),
      f'--batch={workdir / "batch.npz"}',
      f'--params={workdir / f"params_{args.preset}.npz"}',
      f'--preset={args.preset}', f'--bf16={args.reference_bf16}'])
  return {'benchmark': 'compare_reference', 'num_res': num_res,
          'num_seq': args.num_seq, 'num_recycle': args.num_recycle,
          'ours': ours, 'reference': reference,
          'ratios': {k: round(ours[k] / reference[k], 3)
                     for k in ('run_s', 'compile_s', 'peak_rss_mb')
                     if reference[k]}}


def main():
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument('--num_res', type=int, nargs='+', default=[64, 128])
  parser.add_argument('--preset', default='model_1_ptm')
  parser.add_argument('--num_seq', type=int, default=256)
  parser.add_argument('--num_recycle', type=int, default=3)
  parser.add_argument('--bf16', action='store_true',
                      help='our bfloat16 trunk (global_config.bfloat16)')
  parser.add_argument('--reference_python', default='/tmp/ref16/bin/python',
                      help="the reference environment's interpreter")
  parser.add_argument('--reference_bf16', choices=['default', 'on', 'off'],
                      default='default')
  parser.add_argument('--workdir', default='',
                      help='for the features and weights (default: a '
                      'temporary folder)')
  parser.add_argument('--step', choices=['prepare', 'ours'],
                      help='internal: one side, in this process')
  args = parser.parse_args()
  if args.step:
    workdir = pathlib.Path(args.workdir)
    if args.step == 'prepare':
      prepare(args.num_res[0], args, workdir)
    else:
      print(json.dumps(run_ours(args, workdir)), flush=True)
    return
  if not pathlib.Path(args.reference_python).exists():
    parser.error(f'{args.reference_python}: no such interpreter; install the '
                 f'reference as {_REFERENCE_SCRIPT.name} describes')
  with tempfile.TemporaryDirectory(dir=args.workdir or None) as tmp:
    for n in args.num_res:
      print(json.dumps(compare(n, args, pathlib.Path(tmp))), flush=True)


if __name__ == '__main__':
  main()
