"""Where a run's parameters come from: released files or our checkpoints."""
import numpy as np
import pytest

from alphafold_jax.inference import inputs
from alphafold_jax.inference import models
from alphafold_jax.model import load_params
from alphafold_jax.training import checkpoint as checkpoint_lib
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
