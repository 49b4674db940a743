"""The training loop (Suppl. 1.11): data -> jitted step -> metrics and
checkpoints, resuming from the workdir's latest checkpoint when there is one.
The run's config is saved as workdir/config.json when it starts.

  from alphafold_jax.training.trainer import train
  state = train(config, workdir='/tmp/run')
"""
from __future__ import annotations

import logging
import os
import time
from typing import Optional

import jax
import ml_collections
import tqdm

from alphafold_jax.data.datasets import complex_records
from alphafold_jax.data.datasets import complexes as complexes_lib
from alphafold_jax.data.datasets import loader
from alphafold_jax.data.datasets import sources as sources_lib
from alphafold_jax.data.multimer import training as multimer_training
from alphafold_jax.model import load_params
from alphafold_jax.training import checkpoint as checkpoint_lib
from alphafold_jax.training import data as data_lib
from alphafold_jax.training import metrics as metrics_lib
from alphafold_jax.training import optimizer as optimizer_lib
from alphafold_jax.training import sharding
from alphafold_jax.training import train_step as train_step_lib
from alphafold_jax.training.train_state import TrainState
from alphafold_jax.training.train_state import create_train_state


def initial_state(config: ml_collections.ConfigDict, example,
                  optimizer, rng: jax.Array,
                  init_params_path: Optional[str] = None) -> TrainState:
  """Step-0 state: parameters initialised from `rng` (or read from a
  released-format .npz for fine-tuning, the EMA starting from them too)."""
  init_rng, state_rng = jax.random.split(rng)
  if init_params_path:
    params = load_params(init_params_path, config=config)
  else:
    model = train_step_lib.make_model(config.model)
    params = jax.jit(model.init)(init_rng, example)
  return create_train_state(params, optimizer, state_rng)


def is_multimer(config: ml_collections.ConfigDict) -> bool:
  return bool(config.model.global_config.get('multimer_mode', False))


def complex_file_record(path: str) -> dict:
  """The complex record (as the complexes set stores it) of every protein
  chain of a structure file, with single-sequence alignments."""
  complex_ = complexes_lib.read_structure_file(path)
  return complex_records.make_record(
      complex_, complexes_lib.single_sequence_alignments(complex_.chains),
      complexes_lib.interfaces(complex_.chains))


def make_complex_data(config: ml_collections.ConfigDict):
  """The training stream of a multimer config: the complexes set in
  config.dataset.complex_data_dir, complexes drawn by their sampling
  weights, or the structure files of config.dataset.pdb_files (each file's
  protein chains one complex, single-sequence, drawn alike); each made a
  multimer training example (data.multimer.training.training_example).

  Raises:
    ValueError: neither or both data sources, or a monomer config.
  """
  dataset, tc = config.dataset, config.train
  if not is_multimer(config):
    raise ValueError('config.dataset.complex_data_dir is set but the model '
                     'is not AlphaFold-Multimer (multimer_mode).')
  if dataset.get('complex_data_dir') and dataset.get('pdb_files'):
    raise ValueError('config.dataset sets both the complexes set '
                     '(complex_data_dir) and structure files (pdb_files); '
                     'set one.')
  if dataset.get('complex_data_dir'):
    source = sources_lib.open_dataset(dataset.complex_data_dir,
                                      sources_lib.COMPLEX_DATASET)
    weights = sources_lib.read_sampling_weights(dataset.complex_data_dir,
                                                sources_lib.COMPLEX_DATASET)
  elif dataset.get('pdb_files'):
    if any(dataset.get('chains') or ()):
      raise ValueError('a multimer config trains on every protein chain of '
                       'each structure file: config.dataset.chains must be '
                       f'empty, got {list(dataset.chains)}.')
    source = [complex_file_record(path) for path in dataset.pdb_files]
    weights = [1.] * len(source)
  else:
    raise ValueError('a multimer config trains on the complexes set '
                     '(config.dataset.complex_data_dir, or --data_dir) or on '
                     'structure files (config.dataset.pdb_files).')
  return loader.TrainingStream(
      loader.StreamSources(pdb=source, pdb_weights=weights), config,
      tc.batch_size, tc.seed, distillation_fraction=0.,
      make_example=multimer_training.training_example)


def set_data_dir(config: ml_collections.ConfigDict, data_dir: str) -> None:
  """Points config.dataset at the sets built under data_dir (the builders'
  --data_dir): complex_data_dir for a multimer config, else pdb_data_dir
  and, when a self-distillation set is built there, distillation_data_dir.
  """
  dataset = config.dataset
  if is_multimer(config):
    dataset.complex_data_dir = data_dir
    return
  dataset.pdb_data_dir = data_dir
  if os.path.isdir(sources_lib.dataset_dir(
      data_dir, sources_lib.DISTILLATION_DATASET)):
    dataset.distillation_data_dir = data_dir


def make_training_data(config: ml_collections.ConfigDict):
  """The training stream of `config.dataset`.

  For a multimer config, the complexes set or whole structure files
  (`make_complex_data`). Else the
  built PDB and self-distillation sets, mixed (`loader.TrainingStream`),
  when either data dir is set; else `data.TrainingData` over the structure
  files. Either way this process reads its share of each batch.

  Raises:
    ValueError: both kinds of data, or neither, are set.
  """
  dataset, tc = config.dataset, config.train
  if is_multimer(config) or dataset.get('complex_data_dir'):
    return make_complex_data(config)
  built = dataset.pdb_data_dir or dataset.distillation_data_dir
  if built and dataset.pdb_files:
    raise ValueError('config.dataset sets both built datasets (pdb_data_dir, '
                     'distillation_data_dir) and structure files '
                     '(pdb_files); set one.')
  if built:
    sources = loader.StreamSources.from_data_dirs(
        dataset.pdb_data_dir, dataset.distillation_data_dir)
    return loader.TrainingStream(
        sources, config, tc.batch_size, tc.seed,
        distillation_fraction=dataset.distillation_fraction)
  if not dataset.pdb_files:
    raise ValueError('config.dataset sets no data: pdb_data_dir and/or '
                     'distillation_data_dir (built datasets), or pdb_files.')
  examples = data_lib.load_structures(dataset.pdb_files, dataset.chains)
  return data_lib.TrainingData(examples, config, tc.batch_size, tc.seed,
                               process_index=jax.process_index(),
                               process_count=jax.process_count())


def jit_train_step(config: ml_collections.ConfigDict, optimizer,
                   mesh: jax.sharding.Mesh):
  """The train step compiled for `mesh`: state replicated (and donated),
  batch split over the data axis."""
  replicated = sharding.replicated(mesh)
  return jax.jit(
      train_step_lib.make_train_step(config, optimizer),
      in_shardings=(replicated, sharding.batch_sharding(mesh)),
      out_shardings=(replicated, replicated), donate_argnums=0)


def train(config: ml_collections.ConfigDict, workdir: str,
          init_params_path: Optional[str] = None,
          data=None,
          progress_bar: bool = True) -> TrainState:
  """Trains until `config.train.num_steps`, resuming from workdir.

  Args:
    config: a training config (see `alphafold_jax.training.config`).
    workdir: config.json, checkpoints, metrics.jsonl and TensorBoard files
      go here.
    init_params_path: released-format parameters to start from (ignored when
      the workdir already holds a checkpoint).
    data: the training stream: an iterator of this process's share of each
      batch with `example(j)` (one processed example, for shapes),
      `get_state()` (JSON-serialisable) and `set_state(state)`, such as
      `data.TrainingData` or `alphafold_jax.data.datasets.loader.
      TrainingStream`; when None, `make_training_data(config)`.
    progress_bar: show a tqdm bar on the console.

  Returns:
    The final TrainState (replicated over the mesh).
  """
  tc = config.train
  mesh = sharding.make_mesh()
  if jax.process_index() == 0:
    checkpoint_lib.save_config(workdir, config)
  if data is None:
    data = make_training_data(config)
  optimizer = optimizer_lib.make_optimizer(config.optimizer)
  rng = jax.random.PRNGKey(tc.seed)
  # An example with the stream's shapes (the stream is not advanced).
  example = data.example(0)
  checkpointer = checkpoint_lib.Checkpointer(
      workdir, every_steps=tc.checkpoint_every_steps,
      keep=tc.keep_checkpoints)
  replicated = sharding.replicated(mesh)

  if checkpointer.latest_step() is not None:
    # Resuming: the state's shapes are enough, no initialisation is run.
    abstract = jax.eval_shape(
        lambda r: initial_state(config, example, optimizer, r), rng)
    abstract = jax.tree_util.tree_map(
        lambda x: jax.ShapeDtypeStruct(x.shape, x.dtype, sharding=replicated),
        abstract)
    state, data_state = checkpointer.restore(abstract)
    data.set_state(data_state)
    logging.info('Resumed from step %d (batch %d).', int(state.step),
                 data.position)
  else:
    state = jax.device_put(
        initial_state(config, example, optimizer, rng, init_params_path),
        replicated)

  step_fn = jit_train_step(config, optimizer, mesh)
  writer = (metrics_lib.MetricsWriter(workdir)
            if jax.process_index() == 0 else None)
  step = int(state.step)
  bar = tqdm.tqdm(total=tc.num_steps, initial=step,
                  disable=not progress_bar or jax.process_index() != 0,
                  dynamic_ncols=True)
  consistent = True  # False while a step holds the (donated) state
  try:
    while step < tc.num_steps:
      batch = sharding.global_batch(next(data), mesh)
      start = time.perf_counter()
      consistent = False
      state, metrics = step_fn(state, batch)
      metrics = jax.device_get(metrics)
      consistent = True
      seconds = time.perf_counter() - start
      step = int(state.step)
      metrics.update(step_time=seconds,
                     examples_per_second=tc.batch_size / seconds)
      if metrics['skipped']:
        logging.warning('Step %d skipped: loss or gradient not finite '
                        '(%d skipped so far).', step,
                        int(metrics['num_skipped']))
      if writer is not None and (step % tc.log_every_steps == 0 or
                                 metrics['skipped']):
        writer.write(step, metrics)
      bar.update(1)
      bar.set_postfix(loss=float(metrics['loss']),
                      lddt_ca=float(metrics['lddt_ca']), refresh=False)
      checkpointer.maybe_save(step, state, data.get_state())
  finally:
    # At exit, also on an interrupt, as long as the state is whole.
    if consistent:
      checkpointer.save(step, state, data.get_state())
    checkpointer.close()
    bar.close()
    if writer is not None:
      writer.close()
  return state
