"""The presets of configs/ carry Suppl. Table 4's numbers."""
import pytest

from alphafold_jax.training import config as config_lib

from tests.training.conftest import REPO

CONFIGS = REPO / 'configs'


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
