"""Model presets of run_alphafold.py and where their parameters come from.

  monomer         model_1..model_5 (Suppl. 1.12, Table 5)
  monomer_ptm     model_1_ptm..model_5_ptm (with the PAE head, Suppl. 1.9.7)
  monomer_casp14  model_1..model_5 with 8 ensemble members (Suppl. 1.11.2)
  multimer        model_1..5_multimer_v3 (AlphaFold-Multimer, v2.3 weights),
                  each run with several seeds: model_1_multimer_v3_pred_0...

Released parameters are read from <data_dir>/params/params_<model>.npz; a
training run of ours from its workdir (orbax checkpoint; the config saved
there builds the network) or from an .npz in the released format, with the
training config that built it.
"""
from __future__ import annotations

import os
from typing import Dict, Mapping

import ml_collections

from alphafold_jax.inference import inputs
from alphafold_jax.model import load_params
from alphafold_jax.model import model_config
from alphafold_jax.model import params as params_lib

MODEL_PRESETS = {
    'monomer': tuple(f'model_{i}' for i in range(1, 6)),
    'monomer_ptm': tuple(f'model_{i}_ptm' for i in range(1, 6)),
    'monomer_casp14': tuple(f'model_{i}' for i in range(1, 6)),
    'multimer': tuple(f'model_{i}_multimer_v3' for i in range(1, 6)),
}
MULTIMER_PRESET = 'multimer'
# Predictions per multimer model (v2.3's --num_multimer_predictions_per_model).
NUM_MULTIMER_PREDICTIONS_PER_MODEL = 5
# CASP14 ran eight ensemble members per recycling iteration (Suppl. 1.11.2).
CASP14_NUM_ENSEMBLE = 8
# The name of the single model of a --checkpoint run.
CHECKPOINT_MODEL_NAME = 'model_checkpoint'


def preset_configs(model_preset: str) -> Dict[str, ml_collections.ConfigDict]:
  """{model name: full config} of a preset."""
  if model_preset not in MODEL_PRESETS:
    raise inputs.InputError(f'Unknown --model_preset {model_preset!r}; '
                            f'expected one of {", ".join(MODEL_PRESETS)}.')
  configs = {}
  for name in MODEL_PRESETS[model_preset]:
    config = model_config(name)
    if model_preset == 'monomer_casp14':
      config.data.eval.num_ensemble = CASP14_NUM_ENSEMBLE
    configs[name] = config
  return configs


def is_multimer_preset(model_preset: str) -> bool:
  return model_preset == MULTIMER_PRESET


def prediction_names(model_names, num_predictions: int):
  """[(prediction name, model name)]: each multimer model run with
  `num_predictions` seeds, named '<model>_pred_<i>', model by model."""
  if num_predictions < 1:
    raise inputs.InputError('--num_multimer_predictions_per_model must be '
                            f'at least 1, got {num_predictions}.')
  return [(f'{name}_pred_{i}', name) for name in model_names
          for i in range(num_predictions)]


def params_path(data_dir: str, model_name: str) -> str:
  return os.path.join(data_dir, 'params', f'params_{model_name}.npz')


def check_params_file(path: str) -> None:
  """An .npz of parameters is an archive of named arrays (from the array
  headers alone; the shapes are checked against the model when loaded).

  Raises:
    InputError: '<path>: <problem>'.
  """
  try:
    params_lib.read_param_shapes(path)
  except OSError as e:
    raise inputs.InputError(f'{path}: cannot read: {e.strerror or e}') from e
  except ValueError as e:
    raise inputs.InputError(str(e)) from e


def check_params_files(data_dir: str, model_names) -> None:
  """Raises InputError naming every missing released parameter file, or the
  first that is not a readable archive of parameters."""
  missing = [params_path(data_dir, n) for n in model_names
             if not os.path.isfile(params_path(data_dir, n))]
  if missing:
    raise inputs.InputError(
        'Missing parameter files (--data_dir must hold params/'
        'params_<model>.npz, the released AlphaFold2 weights): ' +
        ', '.join(missing) + '.')
  for name in model_names:
    check_params_file(params_path(data_dir, name))


def check_checkpoint(checkpoint: str) -> None:
  """--checkpoint is an .npz of parameters, or a train/train.py workdir with
  a saved checkpoint.

  Raises:
    InputError: naming the checkpoint and what is wrong.
  """
  if not os.path.exists(checkpoint):
    raise inputs.InputError(f'--checkpoint: {checkpoint} does not exist.')
  if not os.path.isdir(checkpoint):
    check_params_file(checkpoint)
    return
  # Imported here: orbax is needed only for training checkpoints.
  from alphafold_jax.training import checkpoint as checkpoint_lib  # pylint: disable=g-import-not-at-top
  if not checkpoint_lib.saved_steps(checkpoint):
    raise inputs.InputError(
        f'{checkpoint}: no checkpoint under {checkpoint_lib.CHECKPOINT_DIR}/ '
        '(train/train.py saves one every checkpoint_every_steps).')


def load_released_params(data_dir: str, model_name: str,
                         config: ml_collections.ConfigDict) -> Mapping:
  """Raises InputError naming the file when it is damaged or does not fit
  the model."""
  try:
    return load_params(params_path(data_dir, model_name), config=config)
  except ValueError as e:
    raise inputs.InputError(str(e)) from e


def load_checkpoint_config(checkpoint: str) -> ml_collections.ConfigDict:
  """The training config that a train/train.py workdir saved.

  Raises:
    InputError: `checkpoint` is not a workdir, or its saved config is
      missing, does not parse or lacks the model or data section.
  """
  if not os.path.isdir(checkpoint):
    raise inputs.InputError(
        f'--checkpoint={checkpoint} is not a train/train.py workdir; give '
        '--checkpoint_config, the training config it was made with.')
  # Imported here: orbax is needed only for training checkpoints.
  from alphafold_jax.training import checkpoint as checkpoint_lib  # pylint: disable=g-import-not-at-top
  try:
    config = checkpoint_lib.load_config(checkpoint)
  except FileNotFoundError as e:
    raise inputs.InputError(
        f'--checkpoint: {checkpoint} has no {checkpoint_lib.CONFIG_FILE} '
        '(saved when training starts); give --checkpoint_config, the '
        'training config it was made with.') from e
  except ValueError as e:
    raise inputs.InputError(str(e)) from e
  missing = [k for k in ('model', 'data') if k not in config]
  if missing:
    raise inputs.InputError(
        f'{os.path.join(checkpoint, checkpoint_lib.CONFIG_FILE)}: the saved '
        f'config has no {" or ".join(missing)} section.')
  return config


def load_checkpoint_params(checkpoint: str,
                           config: ml_collections.ConfigDict) -> Mapping:
  """Parameters of a training run: a workdir of train/train.py (the EMA
  parameters of its latest checkpoint) or a released-format .npz.

  Raises:
    InputError: the checkpoint does not exist or does not fit the config.
  """
  if not os.path.exists(checkpoint):
    raise inputs.InputError(f'--checkpoint: {checkpoint} does not exist.')
  if os.path.isdir(checkpoint):
    # Imported here: orbax is needed only for training checkpoints.
    from alphafold_jax.training import checkpoint as checkpoint_lib  # pylint: disable=g-import-not-at-top
    from alphafold_jax.model import params as params_lib  # pylint: disable=g-import-not-at-top
    try:
      params = checkpoint_lib.load_params_from_workdir(checkpoint)
    # Orbax reports a missing or damaged file as FileNotFoundError or
    # ValueError (JSON and tensorstore errors).
    except (OSError, ValueError) as e:
      raise inputs.InputError(f'{checkpoint}: cannot restore its latest '
                              f'checkpoint: {e}') from e
    flat = params_lib.haiku_to_flat(params)
    try:
      params_lib.check_params({k: v.shape for k, v in flat.items()},
                              params_lib.param_shapes(config), checkpoint)
    except ValueError as e:
      raise inputs.InputError(f'--checkpoint does not fit '
                              f'--checkpoint_config: {e}') from e
    return params
  try:
    return load_params(checkpoint, config=config)
  except ValueError as e:
    raise inputs.InputError(f'--checkpoint: {e}') from e
