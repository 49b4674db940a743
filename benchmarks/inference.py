"""Inference speed and memory of a full-size model (model_1_ptm by default).

Random weights, a synthetic 256-sequence MSA, 3 recycles. Prints one JSON
line per sequence length: compile and run seconds, peak resident memory and,
on a GPU, peak device memory. Each length runs in its own process so that
the memory figures do not carry over.

  python benchmarks/inference.py [--num_res 64 128 256] [--preset model_1_ptm]

A multimer preset (e.g. --preset model_1_multimer_v3) predicts a synthetic
heterodimer: --num_res is the complex's total length, split into two chains,
with the MSA padded to 512 rows as the multimer pipeline does, four empty
templates, and exactly --num_recycle recycles (no early stop).
"""
import argparse
import json
import resource
import subprocess
import sys
import time

import numpy as np


def synthetic_raw_features(num_res: int, num_seq: int, seed: int = 0):
  from alphafold_jax.common import residue_constants
  rng = np.random.default_rng(seed)
  query = rng.integers(0, residue_constants.restype_num, num_res)
  msa = np.tile(query, (num_seq, 1))
  mutate = rng.random((num_seq, num_res)) < 0.3
  msa[mutate] = rng.integers(0, 21, int(mutate.sum()))  # 20 = gap in HHblits ids
  msa[0] = query
  aatype = np.eye(residue_constants.restype_num + 1, dtype=np.int32)[query]
  return {
      'aatype': aatype,
      'residue_index': np.arange(num_res, dtype=np.int32),
      'seq_length': np.full(num_res, num_res, np.int32),
      'between_segment_residues': np.zeros(num_res, np.int32),
      'msa': msa.astype(np.int32),
      'deletion_matrix_int': (rng.random((num_seq, num_res)) < 0.05).astype(np.int32),
      'num_alignments': np.full(num_res, num_seq, np.int32),
  }


# Rows of a multimer example's MSA at the least (the pipeline pads to it).
MULTIMER_MIN_MSA_ROWS = 512
MULTIMER_NUM_TEMPLATES = 4


def synthetic_multimer_batch(num_res: int, num_seq: int, seed: int = 0):
  """The model input of a heterodimer of num_res residues in all."""
  from alphafold_jax.common import residue_constants
  raw = synthetic_raw_features(num_res, num_seq, seed)
  rows = max(num_seq, MULTIMER_MIN_MSA_ROWS)
  # HHblits ids to the model's order (the multimer example's msa).
  msa = np.asarray(residue_constants.MAP_HHBLITS_AATYPE_TO_OUR_AATYPE,
                   np.int32)[raw['msa']]
  msa_mask = np.zeros((rows, num_res), np.float32)
  msa_mask[:num_seq] = 1.
  first = num_res // 2
  asym_id = np.repeat([1, 2], [first, num_res - first]).astype(np.int32)
  atoms = residue_constants.atom_type_num
  return {
      'aatype': msa[0], 'seq_mask': np.ones(num_res, np.float32),
      'residue_index': np.concatenate([np.arange(first),
                                       np.arange(num_res - first)]
                                      ).astype(np.int32),
      'asym_id': asym_id, 'entity_id': asym_id,
      'sym_id': np.ones(num_res, np.int32),
      'msa': np.pad(msa, ((0, rows - num_seq), (0, 0))),
      'deletion_matrix': np.pad(raw['deletion_matrix_int'].astype(np.float32),
                                ((0, rows - num_seq), (0, 0))),
      'msa_mask': msa_mask, 'bert_mask': msa_mask.copy(),
      'cluster_bias_mask': np.eye(1, rows, dtype=np.float32)[0],
      'template_aatype': np.zeros((MULTIMER_NUM_TEMPLATES, num_res), np.int32),
      'template_all_atom_positions': np.zeros(
          (MULTIMER_NUM_TEMPLATES, num_res, atoms, 3), np.float32),
      'template_all_atom_mask': np.zeros(
          (MULTIMER_NUM_TEMPLATES, num_res, atoms), np.float32),
  }


def run_one(num_res: int, preset: str, num_seq: int, num_recycle: int,
            bf16: bool = False, fused_attention: bool = False):
  import haiku as hk
  import jax
  from alphafold_jax.data.features import process_features
  from alphafold_jax.inference import runner_multimer
  from alphafold_jax.model import AlphaFold, AlphaFoldMultimer, model_config

  cfg = model_config(preset)
  cfg.model.global_config.bfloat16 = bf16
  cfg.model.global_config.fused_attention = fused_attention
  if cfg.model.global_config.multimer_mode:
    # Every recycle runs, so that the timing does not depend on when the
    # random network's structure settles.
    cfg = runner_multimer.configure(cfg, num_recycle, 0.)
    batch = synthetic_multimer_batch(num_res, num_seq)
    model = hk.transform(lambda b: AlphaFoldMultimer(cfg.model)(
        b, is_training=False))
  else:
    cfg.model.num_recycle = num_recycle
    cfg.data.common.num_recycle = num_recycle
    batch = process_features(synthetic_raw_features(num_res, num_seq), cfg,
                             mode='eval', random_seed=0)
    model = hk.transform(lambda b: AlphaFold(cfg.model)(b, is_training=False))
  params = jax.jit(model.init)(jax.random.PRNGKey(0), batch)
  apply = jax.jit(model.apply)

  start = time.perf_counter()
  compiled = apply.lower(params, jax.random.PRNGKey(1), batch).compile()
  compile_s = time.perf_counter() - start
  start = time.perf_counter()
  out = compiled(params, jax.random.PRNGKey(1), batch)
  jax.block_until_ready(out)
  run_s = time.perf_counter() - start

  result = {'benchmark': 'inference', 'preset': preset, 'num_res': num_res,
            'num_seq': num_seq, 'num_recycle': num_recycle, 'bf16': bf16,
            'fused_attention': fused_attention,
            'backend': jax.default_backend(),
            'device': jax.devices()[0].device_kind,
            'compile_s': round(compile_s, 2), 'run_s': round(run_s, 2),
            'peak_rss_mb': round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)}
  stats = jax.devices()[0].memory_stats() or {}
  if 'peak_bytes_in_use' in stats:
    result['peak_device_mb'] = round(stats['peak_bytes_in_use'] / 2**20, 1)
  print(json.dumps(result), flush=True)


def main():
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument('--num_res', type=int, nargs='+', default=[64, 128, 256])
  parser.add_argument('--preset', default='model_1_ptm')
  parser.add_argument('--num_seq', type=int, default=256)
  parser.add_argument('--num_recycle', type=int, default=3)
  parser.add_argument('--bf16', action='store_true',
                      help='bfloat16 trunk (global_config.bfloat16)')
  parser.add_argument('--fused_attention', action='store_true',
                      help='global_config.fused_attention (cuDNN on a GPU)')
  parser.add_argument('--in_process', action='store_true',
                      help='run a single length in this process')
  args = parser.parse_args()
  if args.in_process:
    for n in args.num_res:
      run_one(n, args.preset, args.num_seq, args.num_recycle, args.bf16,
              args.fused_attention)
    return
  switches = (['--bf16'] if args.bf16 else []) + (
      ['--fused_attention'] if args.fused_attention else [])
  for n in args.num_res:
    subprocess.run([sys.executable, __file__, '--in_process', '--num_res', str(n),
                    '--preset', args.preset, '--num_seq', str(args.num_seq),
                    '--num_recycle', str(args.num_recycle), *switches],
                   check=True)


if __name__ == '__main__':
  main()
