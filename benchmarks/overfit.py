"""Overfits the tiny preset to one protein and reports the lDDT-Cα reached.

  python benchmarks/overfit.py --pdb tests/fixtures/data/3a4rA.pdb.gz \
      [--chain A] [--max_seconds 600]

A file with two or more protein chains, given without --chain, is a complex:
benchmarks/overfit_multimer.py overfits the tiny multimer preset on it.

Trains on single-sequence examples of the structure, the crop holding the
whole chain, and scores each step's prediction of the chain (lDDT-Cα of the
final structure, Suppl. 1.9.6, as the train step's metric: no separate
evaluation program to compile). Stops once the mean over the last 10 steps
reaches --target_lddt, or after --max_seconds (wall clock, compilation
included) or --max_steps. Prints one JSON line:
  {"lddt_ca": mean of the last 10 steps, "steps": steps trained,
   "seconds": wall clock, ...setup and compile seconds, steps per second
   after the first, process CPU seconds, the load average at start and end
   (the CPU may be shared), final loss, violations per residue}.
Dropout is off (`global_config.deterministic`): this measures memorisation.
"""
import json
import os
import pathlib
import sys
import time

import argparse

import jax
import numpy as np

from alphafold_jax.training import config as config_lib
from alphafold_jax.training import data as data_lib
from alphafold_jax.training import optimizer as optimizer_lib
from alphafold_jax.training import sharding
from alphafold_jax.training import trainer

REPO = pathlib.Path(__file__).resolve().parents[1]

_CONFIG = REPO / 'configs' / 'tiny.py'
# lDDT-Cα is averaged over this many steps (recycling counts vary).
_WINDOW = 10
# Loss terms shown in the progress lines besides the total.
_LOGGED_TERMS = ('fape', 'sidechain_fape', 'distogram_loss',
                 'masked_msa_loss', 'predicted_lddt_loss',
                 'violations/violations_per_residue')


def parse_args(argv=None) -> argparse.Namespace:
  # argparse, not absl: absl.app already owns --pdb (the debugger switch).
  parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
  parser.add_argument('--pdb', required=True,
                      help='PDB or mmCIF file (optionally .gz).')
  parser.add_argument('--chain', default=None,
                      help='Chain id (default: the first).')
  parser.add_argument('--max_seconds', type=float, default=600.,
                      help='Wall-clock budget, compilation included.')
  parser.add_argument('--max_steps', type=int, default=0,
                      help='Stop after this many steps (0: no limit).')
  parser.add_argument('--target_lddt', type=float, default=0.9,
                      help='Stop once reached.')
  parser.add_argument('--log_every_steps', type=int, default=25,
                      help='Steps between progress lines (stderr).')
  parser.add_argument('--crop_size', type=int, default=0,
                      help='Training crop; 0: the chain length (no padding).')
  parser.add_argument('--learning_rate', type=float, default=None,
                      help='Peak learning rate (default: the tiny preset\'s).')
  parser.add_argument('--config', default=str(_CONFIG),
                      help='Training config file (default: the tiny preset).')
  parser.add_argument('--seed', type=int, default=0,
                      help='Seed of the data and the initialisation.')
  return parser.parse_args(argv)


def main(args: argparse.Namespace) -> None:
  start = time.perf_counter()
  cpu_start = time.process_time()
  load_start = os.getloadavg()[0]
  examples = data_lib.load_structures([args.pdb], [args.chain or ''])
  num_res = examples[0]['aatype'].shape[0]
  config = config_lib.load_config_file(args.config)
  config.model.global_config.deterministic = True
  config.data.train.crop_size = args.crop_size or num_res
  if args.learning_rate is not None:
    config.optimizer.learning_rate = args.learning_rate
  config.train.batch_size = 1

  optimizer = optimizer_lib.make_optimizer(config.optimizer)
  data = data_lib.TrainingData(examples, config, 1, seed=args.seed)
  mesh = sharding.make_mesh(jax.devices()[:1])
  # Replicated over the mesh, as trainer.train places it.
  state = jax.device_put(
      trainer.initial_state(config, data.example(0), optimizer,
                            jax.random.PRNGKey(args.seed)),
      sharding.replicated(mesh))
  step_fn = trainer.jit_train_step(config, optimizer, mesh)

  setup_seconds = time.perf_counter() - start
  scores, losses, terms, steps = [], [], [], 0
  # At least one step, whatever the limits: the report needs its figures.
  while not steps or (time.perf_counter() - start < args.max_seconds and
                      not (args.max_steps and steps >= args.max_steps)):
    state, metrics = step_fn(state, sharding.global_batch(next(data), mesh))
    steps += 1
    scores.append(float(metrics['lddt_ca']))
    losses.append(float(metrics['loss']))
    terms.append({k: float(metrics[k]) for k in _LOGGED_TERMS if k in metrics})
    if steps == 1:
      compile_seconds = time.perf_counter() - start - setup_seconds
      first_step_end = time.perf_counter()
    recent = float(np.mean(scores[-_WINDOW:]))
    if steps % args.log_every_steps == 0:
      print(json.dumps({'step': steps, 'lddt_ca': round(recent, 4),
                        'loss': round(float(np.mean(losses[-_WINDOW:])), 4),
                        **{k: round(float(np.mean([t[k] for t in
                                                   terms[-_WINDOW:]])), 4)
                           for k in terms[-1]},
                        'seconds': round(time.perf_counter() - start, 1)}),
            file=sys.stderr, flush=True)
    if len(scores) >= _WINDOW and recent >= args.target_lddt:
      break
  seconds = time.perf_counter() - start
  print(json.dumps({
      'lddt_ca': round(float(np.mean(scores[-_WINDOW:])), 4),
      'steps': steps,
      'seconds': round(seconds, 1),
      'pdb': pathlib.Path(args.pdb).name, 'num_res': int(num_res),
      'crop_size': int(config.data.train.crop_size),
      'setup_seconds': round(setup_seconds, 1),
      'compile_seconds': round(compile_seconds, 1),
      # Steps after the first (compiled) one, per second of wall clock.
      'steps_per_second': round((steps - 1) / max(
          start + seconds - first_step_end, 1e-9), 3),
      'cpu_seconds': round(time.process_time() - cpu_start, 1),
      # The CPU is shared: the 1-minute load average at start and end.
      'load': [round(load_start, 2), round(os.getloadavg()[0], 2)],
      'final_loss': round(float(np.mean(losses[-_WINDOW:])), 4),
      # Fraction of residues with a bond, angle or clash violation.
      'violations_per_residue': round(float(np.mean(
          [t['violations/violations_per_residue'] for t in
           terms[-_WINDOW:]])), 4)}))


if __name__ == '__main__':
  import overfit_multimer  # pylint: disable=g-import-not-at-top
  if overfit_multimer.wants_complex(sys.argv[1:]):
    # Two or more protein chains: the tiny multimer preset on the complex.
    overfit_multimer.main(overfit_multimer.parse_args())
  else:
    main(parse_args())
