"""Stochastic recycling (Suppl. 1.10): the earlier iterations run under
stop-gradient, so the gradient of the loss equals that of the last iteration
alone with the earlier iterations' outputs fed in as constants."""
import haiku as hk
import jax
import numpy as np

from alphafold_jax.model import AlphaFold
from alphafold_jax.model.alphafold import AlphaFoldIteration
from alphafold_jax.training import data as data_lib

from tests.training.conftest import tiny_config

# Float32, two differently-fused programs computing the same thing.
RELATIVE_TOLERANCE = 1e-5


class _LastIteration(hk.Module):
  """The last recycling iteration alone, under AlphaFold's parameter scope."""

  def __init__(self, config):
    super().__init__(name='alphafold')
    self.config = config

  def __call__(self, iteration_batch, prev):
    return AlphaFoldIteration(self.config, self.config.global_config)(
        iteration_batch, prev, is_training=True, compute_loss=True)[1]


def test_gradient_equals_last_iteration_with_constant_inputs(examples):
  config = tiny_config()
  config.model.global_config.deterministic = True  # same dropout-free paths
  model_config = config.model
  assert model_config.num_recycle == 1
  example = data_lib.TrainingData(examples, config, 1, seed=0).example(0)
  example = dict(example, num_iter_recycling=np.ones_like(
      example['num_iter_recycling']))
  first_pass = dict(example, num_iter_recycling=np.zeros_like(
      example['num_iter_recycling']))

  full = hk.transform(lambda b: AlphaFold(model_config)(
      b, is_training=True, compute_loss=True)[1])
  first = hk.transform(lambda b: AlphaFold(model_config)(
      b, is_training=True, return_representations=True))
  last = hk.transform(lambda b, p: _LastIteration(model_config)(b, p))
  rng = jax.random.PRNGKey(0)
  params = jax.jit(full.init)(rng, example)

  # Iteration 0 run on its own, its outputs kept as constants.
  outputs = jax.jit(first.apply)(params, rng, first_pass)
  prev = {'prev_pos': outputs['structure_module']['final_atom_positions'],
          'prev_msa_first_row': outputs['representations']['msa_first_row'],
          'prev_pair': outputs['representations']['pair']}
  last_slice = {k: v[1:2] for k, v in example.items()}

  loss_full, grad_full = jax.jit(jax.value_and_grad(
      lambda p: full.apply(p, rng, example)))(params)
  loss_last, grad_last = jax.jit(jax.value_and_grad(
      lambda p: last.apply(p, rng, last_slice, prev)))(params)

  np.testing.assert_allclose(loss_full, loss_last, rtol=RELATIVE_TOLERANCE)
  assert set(grad_full) == set(grad_last)
  leaves_full = jax.tree_util.tree_leaves(grad_full)
  leaves_last = jax.tree_util.tree_leaves(grad_last)
  difference = np.sqrt(sum(np.sum(np.square(a - b))
                           for a, b in zip(leaves_full, leaves_last)))
  norm = np.sqrt(sum(np.sum(np.square(a)) for a in leaves_full))
  assert norm > 0
  assert difference / norm < RELATIVE_TOLERANCE
