"""Orbax checkpoints of the training state and the data position.

Layout of a workdir:
  config.json                 the training config of the latest start
                              (`load_config`)
  checkpoints/<step>/state/   the TrainState pytree (params, opt_state,
                              ema_params, rng, step, num_skipped)
  checkpoints/<step>/data/    the data stream's `get_state()` (JSON):
                              {"position": next batch} of
                              training.data.TrainingData, the grain
                              iterator's {"next_index": next batch} of
                              data.datasets.loader.TrainingStream
Orbax writes each step into a temporary directory and renames it when
complete, so a crash mid-write leaves the previous checkpoint intact; only
the last `keep` steps are kept.

For inference: `load_params_from_workdir(workdir)` returns the EMA
parameters of the latest checkpoint as a Haiku dict (save it with
`alphafold_jax.model.save_params` for the released .npz format), and
`load_config(workdir)` the config that builds the network they fit.
"""
from __future__ import annotations

import json
import pathlib
from typing import Any, Dict, Optional, Tuple

import jax
import ml_collections
import numpy as np
import orbax.checkpoint as ocp

from alphafold_jax.common import atomic

CHECKPOINT_DIR = 'checkpoints'
CONFIG_FILE = 'config.json'
_STATE = 'state'
_DATA = 'data'


class Checkpointer:
  """Saves and restores (TrainState, data position) under workdir/checkpoints.

  Args:
    workdir: the run's directory.
    every_steps: `maybe_save` saves when step is a multiple of this.
    keep: how many of the latest checkpoints to keep.
  """

  def __init__(self, workdir, every_steps: int = 1, keep: int = 3):
    self.directory = pathlib.Path(workdir).absolute() / CHECKPOINT_DIR
    self._every = every_steps
    options = ocp.CheckpointManagerOptions(
        max_to_keep=keep, create=True, enable_async_checkpointing=False)
    self._manager = ocp.CheckpointManager(
        self.directory, item_names=(_STATE, _DATA), options=options)

  def latest_step(self) -> Optional[int]:
    return self._manager.latest_step()

  def all_steps(self):
    return list(self._manager.all_steps())

  def save(self, step: int, state: Any, data_state: Dict[str, int]) -> None:
    """Writes step `step` (replacing nothing; a step already saved is kept)."""
    if step in self._manager.all_steps():
      return
    self._manager.save(step, args=ocp.args.Composite(**{
        _STATE: ocp.args.StandardSave(state),
        _DATA: ocp.args.JsonSave(dict(data_state))}), force=True)
    self._manager.wait_until_finished()

  def maybe_save(self, step: int, state: Any,
                 data_state: Dict[str, int]) -> bool:
    if step % self._every:
      return False
    self.save(step, state, data_state)
    return True

  def restore(self, abstract_state: Any, step: Optional[int] = None
              ) -> Tuple[Any, Dict[str, int]]:
    """(state, data position) of `step` (the latest by default), with the
    structure, dtypes and shardings of `abstract_state` (arrays or
    jax.ShapeDtypeStruct)."""
    step = self.latest_step() if step is None else step
    if step is None:
      raise FileNotFoundError(f'No checkpoint under {self.directory}.')
    restored = self._manager.restore(step, args=ocp.args.Composite(**{
        _STATE: ocp.args.StandardRestore(abstract_state),
        _DATA: ocp.args.JsonRestore()}))
    return restored[_STATE], dict(restored[_DATA])

  def close(self) -> None:
    self._manager.close()


def load_params_from_workdir(workdir, step: Optional[int] = None,
                             ema: bool = True) -> Dict[str, Dict[str, np.ndarray]]:
  """Parameters of a training run's checkpoint, for inference.

  Args:
    workdir: the `--workdir` of train/train.py.
    step: the checkpoint step; the latest when None.
    ema: the exponential moving average (Suppl. 1.11.7, what is evaluated)
      rather than the raw parameters.

  Returns:
    {module path: {name: np.ndarray}}, as `alphafold_jax.model.load_params`.
  """
  directory = pathlib.Path(workdir).absolute() / CHECKPOINT_DIR
  manager = ocp.CheckpointManager(directory, item_names=(_STATE, _DATA))
  step = manager.latest_step() if step is None else step
  if step is None:
    raise FileNotFoundError(f'No checkpoint under {directory}.')
  restored = manager.restore(step, args=ocp.args.Composite(**{
      _STATE: ocp.args.StandardRestore()}))
  manager.close()
  tree = restored[_STATE]
  params = tree['ema_params' if ema else 'params']
  return jax.tree_util.tree_map(np.asarray, params)


def save_config(workdir, config: ml_collections.ConfigDict) -> None:
  """Writes workdir/config.json atomically, replacing an earlier start's:
  it holds the config of the latest start, overrides included."""
  atomic.write_bytes(pathlib.Path(workdir) / CONFIG_FILE,
                     (config.to_json(indent=2, sort_keys=True) +
                      '\n').encode())


def saved_steps(workdir) -> list:
  """The steps saved under workdir/checkpoints, from the folder names alone
  (a write still in progress has a temporary name)."""
  directory = pathlib.Path(workdir) / CHECKPOINT_DIR
  if not directory.is_dir():
    return []
  return sorted(int(p.name) for p in directory.iterdir()
                if p.is_dir() and p.name.isdigit())


def load_config(workdir) -> ml_collections.ConfigDict:
  """The training config saved in a workdir by `save_config` (tuples come
  back as lists).

  Raises:
    FileNotFoundError: the workdir has no config.json.
    ValueError: naming the file: config.json is not a JSON object (e.g.
      cut short).
  """
  path = pathlib.Path(workdir) / CONFIG_FILE
  with open(path, 'rb') as f:
    data = f.read()
  try:
    config = json.loads(data.decode('utf-8'))
  except (UnicodeDecodeError, json.JSONDecodeError) as e:
    raise ValueError(f'{path}: not a JSON config: {e}') from e
  if not isinstance(config, dict):
    raise ValueError(f'{path}: not a training config (a JSON object).')
  return ml_collections.ConfigDict(config)
