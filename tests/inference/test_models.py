"""Where a run's parameters come from: released files or our checkpoints."""
import io
import os
import tempfile

import hypothesis
import numpy as np
import pytest

from alphafold_jax.inference import inputs
from alphafold_jax.inference import models
from alphafold_jax.model import load_params
from alphafold_jax.training import checkpoint as checkpoint_lib
from tests import damaged_files
from tests.inference import tiny_model


def test_presets():
  assert list(models.preset_configs('monomer_ptm')) == [
      f'model_{i}_ptm' for i in range(1, 6)]
  casp14 = models.preset_configs('monomer_casp14')
  assert casp14['model_1'].data.eval.num_ensemble == (
      models.CASP14_NUM_ENSEMBLE)
  multimer = models.preset_configs('multimer')
  assert list(multimer) == [f'model_{i}_multimer_v3' for i in range(1, 6)]
  assert multimer['model_4_multimer_v3'].model.global_config.multimer_mode
  with pytest.raises(inputs.InputError, match='model_preset'):
    models.preset_configs('multimer_v1')


def test_multimer_prediction_names():
  assert models.prediction_names(['model_1_multimer_v3',
                                  'model_2_multimer_v3'], 2) == [
      ('model_1_multimer_v3_pred_0', 'model_1_multimer_v3'),
      ('model_1_multimer_v3_pred_1', 'model_1_multimer_v3'),
      ('model_2_multimer_v3_pred_0', 'model_2_multimer_v3'),
      ('model_2_multimer_v3_pred_1', 'model_2_multimer_v3')]
  with pytest.raises(inputs.InputError, match='at least 1'):
    models.prediction_names(['model_1_multimer_v3'], 0)


def test_params_path():
  assert models.params_path('/data', 'model_2_ptm') == (
      '/data/params/params_model_2_ptm.npz')


def test_training_workdir_checkpoint(tmp_path, tiny_config, tiny_params_path):
  params = load_params(tiny_params_path, config=tiny_config)
  ema = {k: {n: v + 1. for n, v in p.items()} for k, p in params.items()}
  checkpointer = checkpoint_lib.Checkpointer(tmp_path)
  checkpointer.save(5, {'params': params, 'ema_params': ema}, {'position': 5})
  checkpointer.close()
  loaded = models.load_checkpoint_params(str(tmp_path), tiny_config)
  key = next(iter(ema))
  name = next(iter(ema[key]))
  # The EMA parameters are the ones evaluated (Suppl. 1.11.7).
  np.testing.assert_array_equal(loaded[key][name], ema[key][name])


def test_checkpoint_of_another_network(tmp_path, tiny_params_path):
  other = tiny_model.tiny_config()
  other.model.embeddings_and_evoformer.msa_channel = 24
  with pytest.raises(inputs.InputError, match='--checkpoint'):
    models.load_checkpoint_params(str(tiny_params_path), other)


def test_workdir_without_checkpoint(tmp_path, tiny_config):
  with pytest.raises(inputs.InputError, match='No checkpoint'):
    models.load_checkpoint_params(str(tmp_path), tiny_config)


def test_workdir_config_builds_its_network(tmp_path, tiny_config,
                                           tiny_params_path):
  params = load_params(tiny_params_path, config=tiny_config)
  checkpointer = checkpoint_lib.Checkpointer(tmp_path)
  checkpointer.save(5, {'params': params, 'ema_params': params},
                    {'position': 5})
  checkpointer.close()
  checkpoint_lib.save_config(tmp_path, tiny_config)
  config = models.load_checkpoint_config(str(tmp_path))
  assert config.to_dict() == tiny_config.to_dict()
  # The saved config's network takes the checkpoint's parameters.
  models.load_checkpoint_params(str(tmp_path), config)


def test_checkpoint_config_is_needed_without_a_saved_one(tmp_path,
                                                         tiny_params_path):
  for checkpoint in (tiny_params_path, tmp_path):
    with pytest.raises(inputs.InputError, match='--checkpoint_config'):
      models.load_checkpoint_config(str(checkpoint))


def _released_format_npz(path):
  """A small archive in the released format: '<module path>//<name>'."""
  np.savez(path, **{'alphafold/linear//weights': np.ones((4, 3), np.float32),
                    'alphafold/linear//bias': np.zeros((3,), np.float32)})
  return path


def test_damaged_parameter_files_are_named(tmp_path):
  good = _released_format_npz(tmp_path / 'good.npz')
  models.check_params_file(str(good))
  truncated = tmp_path / 'params_model_1.npz'
  truncated.write_bytes(good.read_bytes()[:200])
  keys = tmp_path / 'keys.npz'
  np.savez(keys, weights=np.ones(2))
  for path, problem in ((truncated, 'not a readable parameter file'),
                        (keys, 'is not named "<module path>//<name>"'),
                        (tmp_path / 'absent.npz', 'No such file')):
    with pytest.raises(inputs.InputError, match=f'{path}.*{problem}'):
      models.check_params_file(str(path))


def test_damaged_released_parameters_fail_to_load_with_their_name(
    tmp_path, tiny_config):
  data_dir = tmp_path / 'data'
  (data_dir / 'params').mkdir(parents=True)
  path = models.params_path(str(data_dir), 'model_1')
  # The archive reads, but its arrays are not the model's.
  _released_format_npz(path)
  with pytest.raises(inputs.InputError,
                     match=f'{path}: parameters do not fit the model'):
    models.load_released_params(str(data_dir), 'model_1', tiny_config)


@damaged_files.FUZZ_SETTINGS
@hypothesis.given(data=damaged_files.damaged_copies(
    _released_format_npz(io.BytesIO()).getvalue()))
def test_damaged_npz_is_rejected_or_loads(data):
  """A damaged archive fails the check before the run, or fails to load
  with the file's name (a changed array byte is only found by the CRC when
  the array is read), or loads."""
  with tempfile.TemporaryDirectory() as folder:
    path = os.path.join(folder, 'params_damaged.npz')
    with open(path, 'wb') as f:
      f.write(data)
    try:
      models.check_params_file(path)
    except inputs.InputError as e:
      assert path in str(e)
      return
    try:
      load_params(path)
    except ValueError as e:
      assert path in str(e)


def _workdir_with_checkpoint(workdir):
  params = {'alphafold/linear': {'weights': np.ones((4, 3), np.float32)}}
  checkpointer = checkpoint_lib.Checkpointer(workdir)
  checkpointer.save(5, {'params': params, 'ema_params': params},
                    {'position': 5})
  checkpointer.close()
  return workdir


def test_workdir_checks_name_the_workdir(tmp_path):
  with pytest.raises(inputs.InputError, match=f'{tmp_path}: no checkpoint'):
    models.check_checkpoint(str(tmp_path))
  models.check_checkpoint(str(_workdir_with_checkpoint(tmp_path)))
  with pytest.raises(inputs.InputError, match='does not exist'):
    models.check_checkpoint(str(tmp_path / 'absent'))


def test_damaged_checkpoint_fails_to_load_with_its_name(tmp_path, tiny_config):
  workdir = _workdir_with_checkpoint(tmp_path)
  metadata = workdir / 'checkpoints' / '5' / 'state' / '_METADATA'
  metadata.write_bytes(metadata.read_bytes()[:40])
  with pytest.raises(inputs.InputError,
                     match=f'{workdir}: cannot restore its latest checkpoint'):
    models.load_checkpoint_params(str(workdir), tiny_config)


def test_damaged_saved_config_is_named(tmp_path, tiny_config):
  checkpoint_lib.save_config(tmp_path, tiny_config)
  path = tmp_path / checkpoint_lib.CONFIG_FILE
  text = path.read_text()
  path.write_text(text[:len(text) // 2])
  with pytest.raises(inputs.InputError, match=f'{path}: not a JSON config'):
    models.load_checkpoint_config(str(tmp_path))
  path.write_text('{"train": {}}')
  with pytest.raises(inputs.InputError,
                     match=f'{path}: the saved config has no model or data'):
    models.load_checkpoint_config(str(tmp_path))
