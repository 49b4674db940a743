"""A tiny pTM model with random weights, for fast inference tests."""
import copy

import haiku as hk
import jax
import numpy as np

from alphafold_jax.model import AlphaFold
from alphafold_jax.model import model_config
from alphafold_jax.model import save_params
from alphafold_jax.model.params import dummy_batch

# Small enough to compile and run in seconds on two CPU cores.
NUM_RECYCLE = 1
MAX_MSA_CLUSTERS = 8
MAX_EXTRA_MSA = 16
# Scale of the random weights given to layers that initialise to zero.
ZERO_WEIGHT_SCALE = 0.1


def tiny_config(preset: str = 'model_5_ptm'):
  """A full config of `preset` shrunk to one block of each stack."""
  config = model_config(preset)
  config.data.common.num_recycle = NUM_RECYCLE
  config.data.common.max_extra_msa = MAX_EXTRA_MSA
  config.data.eval.max_msa_clusters = MAX_MSA_CLUSTERS
  model = config.model
  model.num_recycle = NUM_RECYCLE
  model.global_config.subbatch_size = None
  evo = model.embeddings_and_evoformer
  evo.evoformer_num_block = 1
  evo.extra_msa_stack_num_block = 1
  evo.msa_channel = 16
  evo.pair_channel = 16
  evo.seq_channel = 16
  evo.extra_msa_channel = 8
  for name in ('triangle_multiplication_outgoing',
               'triangle_multiplication_incoming'):
    evo.evoformer[name].num_intermediate_channel = 16
  evo.evoformer.outer_product_mean.num_outer_channel = 8
  heads = model.heads
  sm = heads.structure_module
  sm.num_layer = 2
  sm.num_channel = 16
  sm.sidechain.num_channel = 16
  heads.predicted_lddt.num_channels = 16
  heads.predicted_aligned_error.num_channels = 16
  return config


def random_params(config, seed: int = 0):
  """Random weights for `config`'s network.

  Without zero initialisation: zero-initialised final layers would put every
  residue at the origin, a structure no force field can relax.
  """
  model_config_ = copy.deepcopy(config.model)
  model_config_.global_config.zero_init = False
  model = hk.transform(lambda b: AlphaFold(model_config_)(
      b, is_training=False, compute_loss=False,
      ensemble_representations=False))
  batch = jax.tree_util.tree_map(
      lambda s: jax.numpy.zeros(s.shape, s.dtype), dummy_batch(config))
  params = jax.jit(model.init)(jax.random.PRNGKey(seed), batch)
  # Some heads' logits layers start at zero whatever zero_init says; give
  # them weights too so that confidences differ between residues.
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
