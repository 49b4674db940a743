"""One training step of configs/multimer_tiny.py on a real complex (the
multimer_small chains with PDB 1BD2's coordinates), from random weights
written and read back in the released multimer .npz format (fine-tuning):
AlphaFoldMultimer(..., compute_loss=True) inside train_step."""
import pathlib

import jax
import numpy as np

from alphafold_jax.data.multimer import cropping
from alphafold_jax.model.params import haiku_to_flat_shapes
from alphafold_jax.training import optimizer as optimizer_lib
from alphafold_jax.training import train_step as train_step_lib
from alphafold_jax.training import trainer
from alphafold_jax.training.config import load_config_file
from tests.losses.multimer_batch import load_example

CONFIG = pathlib.Path(__file__).parents[2] / 'configs' / 'multimer_tiny.py'
CROP_SIZE = 32


def test_finetuning_step_from_released_format_weights(tmp_path):
  config = load_config_file(CONFIG)
  config.model.num_recycle = 0
  assert config.model.global_config.multimer_mode
  example = cropping.crop_complex(load_example(), CROP_SIZE,
                                  np.random.default_rng(0))
  example = {k: v for k, v in example.items() if k != 'crop_index'}
  assert set(example['asym_id']) == {1., 2.}
  optimizer = optimizer_lib.make_optimizer(config.optimizer)
  model = train_step_lib.make_model(config.model)
  # Random weights in the released layout: one flat .npz of
  # 'alphafold/alphafold_iteration/...//name' arrays, loaded as fine-tuning
  # loads params_model_1_multimer_v3.npz.
  # (Shapes from tracing alone: no compilation of the initialiser.)
  shapes = jax.eval_shape(model.init, jax.random.PRNGKey(0), example)
  rng = np.random.default_rng(0)
  path = tmp_path / 'params_tiny_multimer.npz'
  np.savez(path, **{
      k: ((k.endswith('//scale') + 0.02 * rng.standard_normal(v.shape))
          .astype(v.dtype))
      for k, v in haiku_to_flat_shapes(shapes).items()})
  state = trainer.initial_state(config, example, optimizer,
                                jax.random.PRNGKey(1),
                                init_params_path=str(path))
  step = jax.jit(train_step_lib.make_train_step(config, optimizer))
  batch = jax.tree_util.tree_map(lambda x: np.asarray(x)[None], example)
  new_state, metrics = jax.device_get(step(state, batch))
  assert int(new_state.step) == 1 and int(metrics['skipped']) == 0
  for key in ('loss', 'structure_module_loss', 'intra_chain_fape',
              'interface_fape', 'chain_centre_mass_loss', 'masked_msa_loss',
              'lddt_ca', 'interface_lddt', 'dockq', 'grad_norm'):
    assert np.isfinite(metrics[key]), key
  # The crop's interface scores (complex_metrics.py) are in range.
  assert 0. <= metrics['interface_lddt'] <= 1.
  assert 0. <= metrics['dockq'] <= 1.
  assert metrics['interface_fape'] > 0 and metrics['grad_norm'] > 0
  # AlphaFoldMultimer(..., compute_loss=True)'s total is the weighted sum
  # of its heads' losses.
  heads = config.model.heads
  np.testing.assert_allclose(
      metrics['loss'],
      sum(heads[h].weight * metrics[f'{h}_loss'] for h in heads
          if heads[h].weight), rtol=1e-5)
  moved = [np.abs(a - b).max() for a, b in zip(
      jax.tree_util.tree_leaves(new_state.params),
      jax.tree_util.tree_leaves(jax.device_get(state.params)))]
  assert max(moved) > 0
