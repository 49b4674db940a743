"""A run of run_alphafold.py with --model_preset=multimer: complexes.

As `run.run` for the monomer: every input is checked first (the FASTA
records, the complex's length against memory, parameter files, the
databases including UniProt and PDB seqres, the template date, and each
reused search output of each chain, parsed), so that a bad input fails in
seconds; then the models are loaded once and each FASTA file (one record
per chain) is predicted with `num_multimer_predictions_per_model` seeds per
model, as AlphaFold v2.3 does.
"""
from __future__ import annotations

import dataclasses
import datetime
import logging
import os
from typing import Any, Dict, List, Tuple

import ml_collections

from alphafold_jax.data import parsers
from alphafold_jax.data.multimer import pipeline as multimer_pipeline
from alphafold_jax.data.tools import subprocess_tool
from alphafold_jax.inference import databases as databases_lib
from alphafold_jax.inference import inputs
from alphafold_jax.inference import memory_budget
from alphafold_jax.inference import models
from alphafold_jax.inference import predict
from alphafold_jax.inference import runner_multimer
from alphafold_jax.inference.relax import AmberRelaxation

InputError = inputs.InputError


@dataclasses.dataclass(frozen=True)
class ComplexTarget:
  fasta_path: str
  name: str
  # [(record name, sequence)], one per chain, in FASTA order.
  chains: Tuple[Tuple[str, str], ...]

  @property
  def num_res(self) -> int:
    return sum(len(s) for _, s in self.chains)


def _model_configs(options) -> Dict[str, ml_collections.ConfigDict]:
  if options.checkpoint:
    config = options.checkpoint_config
    if config is None:
      if not os.path.exists(options.checkpoint):
        raise inputs.InputError(f'--checkpoint: {options.checkpoint} does '
                                'not exist.')
      config = models.load_checkpoint_config(options.checkpoint)
    if not config.model.global_config.get('multimer_mode', False):
      raise inputs.InputError(
          '--model_preset=multimer needs a multimer network; the '
          '--checkpoint_config builds a monomer one.')
    configs = {models.CHECKPOINT_MODEL_NAME: config}
  else:
    configs = models.preset_configs(options.model_preset)
  try:
    return {name: runner_multimer.configure(
        config, options.num_recycle, options.recycle_early_stop_tolerance)
            for name, config in configs.items()}
  except ValueError as e:
    raise inputs.InputError(f'--num_recycle/--recycle_early_stop_tolerance: '
                            f'{e}') from e


def _searched_chains(target: ComplexTarget) -> Dict[str, str]:
  """{chain id: sequence} of the chains whose searches run (the first copy
  of each sequence; msas/<chain id>/ holds their outputs)."""
  chains = {}
  for chain_id, (_, sequence) in zip(multimer_pipeline.PDB_CHAIN_IDS,
                                     target.chains):
    if sequence not in chains.values():
      chains[chain_id] = sequence
  return chains


def _reused_outputs(chain_dir: str, needed) -> List[str]:
  if not os.path.isdir(chain_dir):
    return []
  return [os.path.join(chain_dir, name) for name in sorted(os.listdir(
      chain_dir)) if name not in needed and (
          name.endswith('.sto') or name.endswith('.a3m'))]


def check_reused_output(path: str, sequence: str) -> None:
  """A reused search output of a chain parses and has the chain's sequence
  as its query: inputs.check_search_output, plus the hmmsearch output of
  pdb_seqres, which is aligned to the chain's sequence as it is parsed.

  Raises:
    InputError: '<path>: <problem>'.
  """
  if os.path.basename(path) != databases_lib.PDB_SEQRES_OUTPUT:
    inputs.check_search_output(path, len(sequence))
    return
  try:
    parsers.parse_hmmsearch_stockholm(parsers.read_text(path), sequence, path)
  except parsers.ParseError as e:
    raise InputError(str(e)) from e


def check_inputs(options) -> tuple:
  """Every check of a multimer run, before any search or model runs.

  Returns:
    (targets [ComplexTarget], {model name: config}).

  Raises:
    InputError: the first bad input found, in one line.
  """
  if not options.fasta_paths:
    raise InputError('--fasta_paths names no FASTA file.')
  if options.models_to_relax not in predict.MODELS_TO_RELAX:
    raise InputError(
        f'--models_to_relax must be one of {", ".join(predict.MODELS_TO_RELAX)}'
        f', got {options.models_to_relax!r}.')
  inputs.check_fasta_names(options.fasta_paths)
  targets = []
  for path in options.fasta_paths:
    chains = tuple(inputs.read_multimer_fasta(path))
    name = os.path.splitext(os.path.basename(path))[0]
    targets.append(ComplexTarget(path, name, chains))

  configs = _model_configs(options)
  longest = max(targets, key=lambda t: t.num_res)
  configs = memory_budget.apply_chunk_size(
      configs, longest.num_res,
      memory_budget.budget_bytes(options.memory_budget_gb),
      f'{longest.fasta_path} (all chains)', options.use_buckets)
  models.prediction_names(configs, options.num_multimer_predictions_per_model)
  available = inputs.available_memory_bytes()
  for target in targets:
    for config in configs.values():
      inputs.check_memory(config, target.num_res,
                          f'{target.fasta_path} (all chains)', available)

  if options.checkpoint:
    if not os.path.exists(options.checkpoint):
      raise InputError(f'--checkpoint: {options.checkpoint} does not exist.')
  else:
    if not options.data_dir:
      raise InputError('--data_dir is not set (it holds params/'
                       'params_<model>.npz); or use --checkpoint.')
    models.check_params_files(options.data_dir, configs)

  if not options.max_template_date:
    raise InputError('--max_template_date is not set; the multimer models '
                     'use templates.')
  try:
    datetime.date.fromisoformat(options.max_template_date)
  except ValueError:
    raise InputError(f'--max_template_date={options.max_template_date} is '
                     'not a date (YYYY-MM-DD).') from None
  if options.hmmsearch_binary_path:
    for flag, binary in (('hmmsearch_binary_path',
                          options.hmmsearch_binary_path),
                         ('hmmbuild_binary_path',
                          options.hmmbuild_binary_path or 'hmmbuild')):
      try:
        subprocess_tool.find_binary(binary)
      except subprocess_tool.ToolError as e:
        raise InputError(f'--{flag}: {e}') from None

  for target in targets:
    msa_dir = os.path.join(options.output_dir, target.name, 'msas')
    searched = _searched_chains(target)
    for chain_id, sequence in searched.items():
      chain_dir = os.path.join(msa_dir, chain_id)
      needed = databases_lib.multimer_searches_to_run(
          options.databases, options.db_preset, chain_dir,
          options.use_precomputed_msas, is_heteromer=len(searched) > 1)
      if options.use_precomputed_msas:
        for path in _reused_outputs(chain_dir, needed):
          check_reused_output(path, sequence)
  return targets, configs


def run(options) -> Dict[str, Any]:
  """Checks the inputs, then predicts every complex.

  Returns:
    {target name: predict.predict_structure's result}.
  """
  targets, configs = check_inputs(options)
  runners = {}
  for name, config in configs.items():
    if options.checkpoint:
      params = models.load_checkpoint_params(options.checkpoint, config)
    else:
      params = models.load_released_params(options.data_dir, name, config)
    runners[name] = runner_multimer.MultimerModelRunner(
        config, params, use_buckets=options.use_buckets,
        return_representations=options.save_embeddings)
    logging.info('Loaded %s (up to %d recycles, early stop at %.2f Å)', name,
                 config.model.num_recycle,
                 config.model.recycle_early_stop_tolerance)
  prediction_runners = {
      prediction: runners[model] for prediction, model in
      models.prediction_names(configs,
                              options.num_multimer_predictions_per_model)}
  relaxer = None
  if options.models_to_relax != 'none':
    relaxer = AmberRelaxation(
        max_iterations=options.relax_max_iterations,
        max_outer_iterations=options.relax_max_outer_iterations,
        use_gpu=options.use_gpu_relax)

  results = {}
  for target in targets:
    logging.info('Predicting %s (%d chains, %d residues)', target.name,
                 len(target.chains), target.num_res)
    data_pipeline = databases_lib.make_multimer_data_pipeline(
        options.databases, options.db_preset, options.use_precomputed_msas,
        options.max_template_date,
        hmmsearch_binary_path=options.hmmsearch_binary_path,
        hmmbuild_binary_path=options.hmmbuild_binary_path)
    try:
      results[target.name] = predict.predict_structure(
          target.fasta_path, target.name, options.output_dir, data_pipeline,
          prediction_runners, relaxer,
          models_to_relax=options.models_to_relax,
          random_seed=options.random_seed, benchmark=options.benchmark,
          save_embeddings=options.save_embeddings)
    except parsers.ParseError as e:
      # A search output or template file that does not parse is the user's
      # to fix (or to delete, so that the search runs again).
      raise InputError(str(e)) from e
  return results
