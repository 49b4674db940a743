"""One inference of the reference's network, timed, in its own environment.

The peer is AlphaFold 2.3 as packaged by `alphafold-colabfold` (2.3.16),
driven as ColabFold drives it: its `AlphaFold_noE` module runs one recycling
iteration per call and Python feeds the previous iteration's outputs back
(kept in float16 between calls, as ColabFold's `RunModel.predict` keeps
them). `RunModel` itself is not used: it imports TensorFlow at the top,
which this environment does not need. The features and the released-format
weights come from benchmarks/compare_reference.py, which runs this script:

  /tmp/ref16/bin/python benchmarks/reference_inference.py \\
      --batch=DIR/batch.npz --params=DIR/params_model_1_ptm.npz

Environment (as for benchmarks/reference_memory_plan.py):

  python3.11 -m venv /tmp/ref16
  /tmp/ref16/bin/pip install --no-deps alphafold-colabfold==2.3.16
  /tmp/ref16/bin/pip install jax==0.10.2 jaxlib==0.10.2 dm-haiku==0.0.17 \\
      ml-collections dm-tree absl-py immutabledict chex biopython

Prints one JSON line: compile and run seconds (the run: every recycling
iteration, with the outputs brought back to the host as ColabFold does),
peak resident memory of this process, and the reference's bfloat16 setting.
"""
import argparse
import json
import resource
import time

import haiku as hk
import jax
import numpy as np
from alphafold.model import config as ref_config
from alphafold.model import modules as ref_modules
from alphafold.model import utils as ref_utils

# ColabFold's recycled values: the first MSA row [N, c_m], the pair
# representation [N, N, c_z] and the atom positions [N, 37, 3].
_MSA_CHANNEL = 256
_PAIR_CHANNEL = 128
_ATOMS = 37


def _to_host(tree):
  """The outputs as float16 NumPy arrays, as ColabFold keeps them."""
  return jax.tree_util.tree_map(lambda x: np.asarray(x, np.float16), tree)


def main():
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument('--batch', required=True,
                      help='our eval batch (.npz), one slice per iteration')
  parser.add_argument('--params', required=True, help='released-format .npz')
  parser.add_argument('--preset', default='model_1_ptm')
  parser.add_argument('--bf16', choices=['default', 'on', 'off'],
                      default='default',
                      help="the reference's global_config.bfloat16 "
                      '(its default is on)')
  args = parser.parse_args()

  with np.load(args.batch) as data:
    feat = {k: data[k] for k in data.files}
  with np.load(args.params) as data:
    params = ref_utils.flat_params_to_haiku({k: data[k] for k in data.files})
  num_iters, num_res = feat['aatype'].shape[:2]
  cfg = ref_config.model_config(args.preset)
  cfg.data.eval.num_ensemble = 1
  cfg.model.num_recycle = num_iters - 1
  cfg.model.calc_extended_ptm = False
  cfg.model.use_probs_extended = False
  if args.bf16 != 'default':
    cfg.model.global_config.bfloat16 = args.bf16 == 'on'

  model = hk.transform(lambda b: ref_modules.AlphaFold_noE(cfg.model)(
      b, is_training=False))
  prev = {'prev_msa_first_row': np.zeros((num_res, _MSA_CHANNEL), np.float16),
          'prev_pair': np.zeros((num_res, num_res, _PAIR_CHANNEL), np.float16),
          'prev_pos': np.zeros((num_res, _ATOMS, 3), np.float16)}

  def iteration_features(r):
    return {k: v[r:r + 1] for k, v in feat.items()}

  key = jax.random.PRNGKey(0)
  start = time.perf_counter()
  compiled = jax.jit(model.apply).lower(
      params, key, {**iteration_features(0), 'prev': prev}).compile()
  compile_s = time.perf_counter() - start

  start = time.perf_counter()
  for r in range(num_iters):
    key, sub_key = jax.random.split(key)
    result = _to_host(compiled(params, sub_key,
                               {**iteration_features(r), 'prev': prev}))
    prev = result.pop('prev')
  run_s = time.perf_counter() - start
  print(json.dumps({
      'model': 'reference', 'package': 'alphafold-colabfold 2.3.16',
      'preset': args.preset, 'num_res': int(num_res),
      'num_recycle': int(num_iters - 1),
      'bf16': bool(cfg.model.global_config.bfloat16),
      'subbatch_size': cfg.model.global_config.subbatch_size,
      'backend': jax.default_backend(),
      'compile_s': round(compile_s, 2), 'run_s': round(run_s, 2),
      'peak_rss_mb': round(resource.getrusage(
          resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
      'mean_plddt': round(float(np.mean(result['plddt'].astype(np.float32))),
                          3)}), flush=True)


if __name__ == '__main__':
  main()
