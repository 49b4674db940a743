"""A tiny AlphaFold-Multimer model with random weights, for fast tests."""
import copy

import haiku as hk
import jax
import numpy as np

from alphafold_jax.model import AlphaFoldMultimer
from alphafold_jax.model import model_config
from alphafold_jax.model import save_params
from alphafold_jax.model.params import dummy_multimer_batch

NUM_RECYCLE = 2
NUM_MSA = 8
NUM_EXTRA_MSA = 16
CHANNELS = 16
# Scale of the random weights given to layers that initialise to zero.
ZERO_WEIGHT_SCALE = 0.1


def tiny_config(preset: str = 'model_1_multimer_v3'):
  """The multimer config of `preset` shrunk to one block of each stack."""
  config = model_config(preset)
  model = config.model
  model.num_recycle = NUM_RECYCLE
  model.global_config.subbatch_size = None
  evo = model.embeddings_and_evoformer
  evo.evoformer_num_block = 1
  evo.extra_msa_stack_num_block = 1
  evo.num_msa = NUM_MSA
  evo.num_extra_msa = NUM_EXTRA_MSA
  evo.msa_channel = CHANNELS
  evo.pair_channel = CHANNELS
  evo.seq_channel = CHANNELS
  evo.extra_msa_channel = 8
  for name in ('triangle_multiplication_outgoing',
               'triangle_multiplication_incoming'):
    evo.evoformer[name].num_intermediate_channel = CHANNELS
    evo.template.template_pair_stack[name].num_intermediate_channel = 8
  evo.evoformer.outer_product_mean.num_outer_channel = 8
  evo.template.num_channels = 8
  evo.template.template_pair_stack.num_block = 1
  heads = model.heads
  sm = heads.structure_module
  sm.num_layer = 2
  sm.num_channel = CHANNELS
  sm.sidechain.num_channel = CHANNELS
  heads.predicted_lddt.num_channels = CHANNELS
  heads.predicted_aligned_error.num_channels = CHANNELS
  return config


def random_params(config, seed: int = 0):
  """Random weights for `config`'s network, none zero (zero-initialised
  final layers would put every atom at the origin)."""
  model_cfg = copy.deepcopy(config.model)
  model_cfg.global_config.zero_init = False
  model = hk.transform(lambda b: AlphaFoldMultimer(model_cfg)(
      b, is_training=False))
  batch = jax.tree_util.tree_map(lambda s: jax.numpy.zeros(s.shape, s.dtype),
                                 dummy_multimer_batch())
  params = jax.jit(model.init)(jax.random.PRNGKey(seed), batch)
  flat, treedef = jax.tree_util.tree_flatten(params)
  keys = jax.random.split(jax.random.PRNGKey(seed + 1), len(flat))
  flat = [x if np.any(x) else ZERO_WEIGHT_SCALE * jax.random.normal(
      k, x.shape, x.dtype) for x, k in zip(flat, keys)]
  return jax.tree_util.tree_map(
      np.asarray, jax.tree_util.tree_unflatten(treedef, flat))


def write_random_params(config, path, seed: int = 0):
  save_params(random_params(config, seed), path)


# A config file for --checkpoint_config (ml_collections reads get_config).
get_config = tiny_config
