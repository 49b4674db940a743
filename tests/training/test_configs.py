"""The presets of configs/ carry Suppl. Table 4's numbers."""
import json

import pytest

from alphafold_jax.model.params import param_shapes
from alphafold_jax.training import config as config_lib

from tests.training.conftest import REPO

CONFIGS = REPO / 'configs'
MULTIMER_MANIFEST = (REPO / 'tests' / 'fixtures' / 'params_manifest_multimer' /
                     'model_1_multimer_v3.json')


@pytest.mark.parametrize('name, crop, clusters, extra, violation, resolved, lr', [
    ('initial_training', 256, 128, 1024, 0., 0., 1e-3),
    ('finetuning', 384, 512, 5120, 1., 0.01, 5e-4),
])
def test_presets_follow_table_4(name, crop, clusters, extra, violation,
                                resolved, lr):
  config = config_lib.load_config_file(CONFIGS / f'{name}.py')
  train = config.data.train
  assert (train.crop_size, train.max_msa_clusters, train.max_extra_msa) == (
      crop, clusters, extra)
  heads = config.model.heads
  assert heads.structure_module.structural_violation_loss_weight == violation
  assert heads.experimentally_resolved.weight == resolved
  assert config.optimizer.learning_rate == lr
  assert config.optimizer.per_example_clip_norm == 0.1
  assert config.optimizer.ema_decay == 0.999
  assert config.train.batch_size == 128
  assert config.model.global_config.use_remat
  # Suppl. 1.11.5: FAPE clamped in 90% of the examples; 0.3 on the distogram.
  assert train.clamped_fape_probability == 0.9
  assert heads.distogram.weight == 0.3
  # The data draws the recycling count the model runs.
  assert config.data.common.num_recycle == config.model.num_recycle == 3


def test_finetuning_fits_the_released_ptm_weights():
  config = config_lib.load_config_file(CONFIGS / 'finetuning.py')
  assert config.model.heads.predicted_aligned_error.weight > 0
  assert config.model.embeddings_and_evoformer.template.enabled


def test_tiny_preset_is_small_and_overridable():
  config = config_lib.load_config_file(CONFIGS / 'tiny.py')
  evo = config.model.embeddings_and_evoformer
  assert evo.evoformer_num_block == 2 and config.data.train.crop_size == 64
  assert config.model.global_config.subbatch_size is None
  assert config.data.common.num_recycle == config.model.num_recycle == 1
  config.model.global_config.bfloat16 = True  # the optional bfloat16 trunk


def test_multimer_finetuning_fits_params_model_1_multimer_v3():
  config = config_lib.load_config_file(CONFIGS / 'multimer_finetuning.py')
  model = config.model
  assert model.global_config.multimer_mode and model.align_chains
  # The released file's tree, array by array (eval_shape: no compile).
  manifest = json.loads(MULTIMER_MANIFEST.read_text())['params']
  assert param_shapes(config) == {k: tuple(v) for k, v in manifest.items()}
  train, evo = config.data.train, model.embeddings_and_evoformer
  assert train.crop_size == 384
  assert (train.max_msa_clusters, train.max_extra_msa) == (
      evo.num_msa, evo.num_extra_msa) == (508, 2048)
  assert config.data.common.num_recycle == model.num_recycle == 3
  assert model.recycle_early_stop_tolerance == 0.
  heads = model.heads
  sm = heads.structure_module
  assert sm.structural_violation_loss_weight == 1.
  assert sm.chain_centre_mass.weight == 1.
  assert (sm.intra_chain_fape.atom_clamp_distance,
          sm.intra_chain_fape.loss_unit_distance) == (10., 10.)
  assert {h: heads[h].weight for h in heads} == {
      'distogram': 0.3, 'experimentally_resolved': 0.01, 'masked_msa': 2.,
      'predicted_aligned_error': 0.1, 'predicted_lddt': 0.01,
      'structure_module': 1.}
  opt = config.optimizer
  assert (opt.learning_rate, opt.warmup_steps) == (5e-4, 0)
  assert (opt.per_example_clip_norm, opt.ema_decay) == (0.1, 0.999)
  assert config.train.batch_size == 128
  assert model.global_config.use_remat
