"""A whole run of run_alphafold.py: every input checked, then each target.

`run(options)` checks every input first (FASTA files, sequence lengths
against memory, parameter files or checkpoint, databases, template inputs,
and each reused search output, parsed), so that a bad input fails in
seconds rather than after hours of searches or after loading the weights;
then it loads the models once and predicts each FASTA file in turn.
"""
from __future__ import annotations

import dataclasses
import datetime
import logging
import os
from typing import Any, Dict, Optional, Sequence

import jax
import ml_collections

from alphafold_jax.data import parsers
from alphafold_jax.data import templates as templates_lib
from alphafold_jax.inference import databases as databases_lib
from alphafold_jax.inference import inputs
from alphafold_jax.inference import memory_budget
from alphafold_jax.inference import models
from alphafold_jax.inference import predict
from alphafold_jax.inference import run_multimer
from alphafold_jax.inference import runner as runner_lib
from alphafold_jax.inference.relax import AmberRelaxation
from alphafold_jax.inference.relax import amber_minimize
from alphafold_jax.model.layers import sharding


@dataclasses.dataclass(frozen=True)
class RunOptions:
  """The settings of a run (run_alphafold.py's flags, same names).

  checkpoint/checkpoint_config replace the released parameters of
  model_preset by one model of ours: a training workdir or .npz, and the
  training config that built it (for a workdir, the config saved there when
  checkpoint_config is None).
  """
  fasta_paths: Sequence[str]
  output_dir: str
  data_dir: Optional[str] = None
  model_preset: str = 'monomer'
  databases: databases_lib.DatabasePaths = databases_lib.DatabasePaths()
  db_preset: str = 'full_dbs'
  max_template_date: Optional[str] = None
  use_precomputed_msas: bool = False
  models_to_relax: str = 'best'
  random_seed: int = 0
  benchmark: bool = False
  num_recycle: Optional[int] = None
  # None: the model's own (0 for the monomer, 0.5 Å for the multimer).
  recycle_early_stop_tolerance: Optional[float] = None
  checkpoint: Optional[str] = None
  checkpoint_config: Optional[ml_collections.ConfigDict] = None
  save_embeddings: bool = False
  use_gpu_relax: bool = True
  use_buckets: bool = True
  # Residue sharding over a mesh of all local devices (monomer presets;
  # alphafold_jax/model/layers/sharding.py).
  shard_residues: bool = False
  # The trunk in bfloat16 (monomer presets; runner.configure).
  bfloat16: bool = False
  # GiB for the activations; sets the chunk size (inference/memory_budget.py).
  # None: the device's free memory on a GPU/TPU, the configs' own on the CPU.
  memory_budget_gb: Optional[float] = None
  # The released relaxation's settings; tests bound them to stay fast.
  relax_max_iterations: int = amber_minimize.MAX_ITERATIONS
  relax_max_outer_iterations: int = amber_minimize.MAX_OUTER_ITERATIONS
  # --model_preset=multimer (run_multimer.py): seeds per model, and the
  # HMMER binaries to search templates with instead of pyhmmer.
  num_multimer_predictions_per_model: int = (
      models.NUM_MULTIMER_PREDICTIONS_PER_MODEL)
  hmmsearch_binary_path: Optional[str] = None
  hmmbuild_binary_path: Optional[str] = None


@dataclasses.dataclass(frozen=True)
class _Target:
  fasta_path: str
  name: str
  sequence: str


def _model_configs(options: RunOptions
                   ) -> Dict[str, ml_collections.ConfigDict]:
  if options.checkpoint:
    config = options.checkpoint_config
    if config is None:
      if not os.path.exists(options.checkpoint):
        raise inputs.InputError(f'--checkpoint: {options.checkpoint} does '
                                'not exist.')
      config = models.load_checkpoint_config(options.checkpoint)
    configs = {models.CHECKPOINT_MODEL_NAME: config}
  else:
    configs = models.preset_configs(options.model_preset)
  return {name: runner_lib.configure(
      config, options.num_recycle, options.recycle_early_stop_tolerance,
      bfloat16=options.bfloat16)
          for name, config in configs.items()}


def _refuse_monomer_only_options(options: RunOptions) -> None:
  for flag in ('shard_residues', 'bfloat16'):
    if getattr(options, flag):
      raise inputs.InputError(f'--{flag} is for the monomer presets only.')


def check_inputs(options: RunOptions) -> tuple:
  """Every check of the run, before any heavy work.

  Returns:
    (targets, {model name: config}).

  Raises:
    InputError: the first bad input found, explained.
  """
  if models.is_multimer_preset(options.model_preset):
    _refuse_monomer_only_options(options)
    return run_multimer.check_inputs(options)
  if not options.fasta_paths:
    raise inputs.InputError('--fasta_paths names no FASTA file.')
  if options.models_to_relax not in predict.MODELS_TO_RELAX:
    raise inputs.InputError(
        f'--models_to_relax must be one of {", ".join(predict.MODELS_TO_RELAX)}'
        f', got {options.models_to_relax!r}.')
  inputs.check_fasta_names(options.fasta_paths)
  targets = []
  for path in options.fasta_paths:
    _, sequence = inputs.read_fasta(path)
    name = os.path.splitext(os.path.basename(path))[0]
    targets.append(_Target(path, name, sequence))

  configs = _model_configs(options)
  longest = max(targets, key=lambda t: len(t.sequence))
  # --shard_residues splits the residues over all local devices; the
  # budget is per device.
  configs = memory_budget.apply_chunk_size(
      configs, len(longest.sequence),
      memory_budget.budget_bytes(options.memory_budget_gb),
      longest.fasta_path, options.use_buckets,
      devices=jax.local_device_count() if options.shard_residues else 1)
  available = inputs.available_memory_bytes()
  for target in targets:
    for config in configs.values():
      inputs.check_memory(config, len(target.sequence), target.fasta_path,
                          available)

  if options.checkpoint:
    models.check_checkpoint(options.checkpoint)
  else:
    if not options.data_dir:
      raise inputs.InputError('--data_dir is not set (it holds params/'
                              'params_<model>.npz); or use --checkpoint.')
    models.check_params_files(options.data_dir, configs)

  use_templates = any(c.data.common.use_templates for c in configs.values())
  if use_templates:
    _check_template_inputs(options)
  for target in targets:
    msa_dir = os.path.join(options.output_dir, target.name, 'msas')
    databases_lib.searches_to_run(
        options.databases, options.db_preset, msa_dir,
        options.use_precomputed_msas, use_templates)
    for path in databases_lib.reused_outputs(
        options.db_preset, msa_dir, options.use_precomputed_msas,
        use_templates):
      inputs.check_search_output(path, len(target.sequence))
  return targets, configs


def _check_template_inputs(options: RunOptions) -> None:
  """--max_template_date is a date; obsolete.dat, when given, parses (the
  mmCIF folder's existence is checked with the databases; each mmCIF file
  is checked when a hit reads it)."""
  if not options.max_template_date:
    raise inputs.InputError('--max_template_date is not set; the models of '
                            f'{options.model_preset} use templates.')
  try:
    datetime.date.fromisoformat(options.max_template_date)
  except ValueError:
    raise inputs.InputError(f'--max_template_date={options.max_template_date}'
                            ' is not a date (YYYY-MM-DD).') from None
  mmcif_dir = options.databases.template_mmcif_dir
  if mmcif_dir and os.path.exists(mmcif_dir) and not os.path.isdir(mmcif_dir):
    raise inputs.InputError(f'--template_mmcif_dir: {mmcif_dir} is not a '
                            'folder.')
  if options.databases.obsolete_pdbs_path:
    try:
      templates_lib.read_obsolete_pdbs(options.databases.obsolete_pdbs_path)
    except parsers.ParseError as e:
      raise inputs.InputError(str(e)) from e


def run(options: RunOptions) -> Dict[str, Any]:
  """Checks the inputs, then predicts every FASTA file.

  Returns:
    {target name: predict_structure's result}.
  """
  if models.is_multimer_preset(options.model_preset):
    _refuse_monomer_only_options(options)
    return run_multimer.run(options)
  mesh = None
  if options.shard_residues:
    mesh = sharding.residue_mesh()
    logging.info('Residue sharding over a mesh of %d devices (axis %r): %s',
                 mesh.size, sharding.RESIDUE_AXIS,
                 ', '.join(str(d) for d in mesh.devices.flat))
  targets, configs = check_inputs(options)
  runners = {}
  for name, config in configs.items():
    if options.checkpoint:
      params = models.load_checkpoint_params(options.checkpoint, config)
    else:
      params = models.load_released_params(options.data_dir, name, config)
    runners[name] = runner_lib.ModelRunner(
        config, params, use_buckets=options.use_buckets, mesh=mesh,
        return_representations=options.save_embeddings)
    logging.info('Loaded %s: %s', name, runner_lib.config_summary(config))
  # The runners keep what they need (runner.held_params); the last model's
  # loaded arrays need not stay alive through the predictions.
  params = None
  relaxer = None
  if options.models_to_relax != 'none':
    relaxer = AmberRelaxation(
        max_iterations=options.relax_max_iterations,
        max_outer_iterations=options.relax_max_outer_iterations,
        use_gpu=options.use_gpu_relax)
  use_templates = any(c.data.common.use_templates for c in configs.values())

  results = {}
  for target in targets:
    logging.info('Predicting %s (%d residues)', target.name,
                 len(target.sequence))
    data_pipeline = databases_lib.make_data_pipeline(
        options.databases, options.db_preset,
        os.path.join(options.output_dir, target.name, 'msas'),
        options.use_precomputed_msas, use_templates,
        options.max_template_date)
    try:
      results[target.name] = predict.predict_structure(
          target.fasta_path, target.name, options.output_dir, data_pipeline,
          runners, relaxer, models_to_relax=options.models_to_relax,
          random_seed=options.random_seed, benchmark=options.benchmark,
          save_embeddings=options.save_embeddings)
    # A file that the features read and that could not be checked before
    # (a new search's output, a hit's template mmCIF): its message names it.
    except parsers.ParseError as e:
      raise inputs.InputError(str(e)) from e
  return results
