"""AlphaFoldMultimer(..., compute_loss=True): (outputs, total loss) on the
multimer_small complex with its experimental structure (PDB 1BD2)."""
import haiku as hk
import jax
import numpy as np

from alphafold_jax.model import AlphaFoldMultimer
from tests.losses.multimer_batch import load_example
from tests.losses.multimer_batch import training_config


def test_loss_is_the_weighted_sum_of_the_heads():
  cfg = training_config()
  cfg.model.num_recycle = 0
  cfg.model.embeddings_and_evoformer.evoformer_num_block = 1
  cfg.model.heads.structure_module.num_layer = 2
  cfg.model.embeddings_and_evoformer.template.enabled = False
  batch = load_example()

  def forward(b):
    return AlphaFoldMultimer(cfg.model)(b, is_training=True,
                                        compute_loss=True)

  model = hk.transform(forward)
  key = jax.random.PRNGKey(0)
  params = jax.jit(model.init)(key, batch)

  outputs, total = jax.jit(model.apply)(params, key, batch)
  heads = cfg.model.heads
  expected = sum(heads[name].weight * outputs[name]['loss']
                 for name in heads if heads[name].weight)
  np.testing.assert_allclose(float(total), float(expected), rtol=1e-5)
  assert np.isfinite(float(total)) and float(total) > 0
  # Multimer head sizes: 22 MSA classes, and the interface term is scored.
  assert outputs['masked_msa']['logits'].shape[-1] == 22
  assert float(outputs['structure_module']['interface_fape']) > 0
