"""Output heads (Suppl. 1.9): logits from the final representations.

Heads only produce logits; their losses live in `alphafold_jax.losses`.
"""
import haiku as hk
import jax
import jax.numpy as jnp

from alphafold_jax.common import residue_constants
from alphafold_jax.model.layers import chunking
from alphafold_jax.model.layers.linear import float32_if_bfloat16
from alphafold_jax.model.layers.linear import LayerNorm
from alphafold_jax.model.layers.linear import Linear


def _pair_logits(linear, pair, symmetric, global_config, is_training):
  """linear(pair) [N, N, bins], plus its transpose over the residue axes
  when `symmetric`.

  The pair is read as the trunk left it (bfloat16 for a bfloat16 trunk) and
  cast to float32 where it is read. At inference with chunking (and
  without residue sharding) a block of rows at a time, each block's logits
  written into the result: no float32 copy of the pair, and no half logits
  and transposed copy beside the logits.
  """

  def rows(block, index, pair):
    """Logits of a block of rows, pair[index] ([R, N, c])."""
    x = linear(float32_if_bfloat16(block))
    if symmetric:
      if block.shape[0] == pair.shape[0]:  # every row: x's own transpose
        x = x + jnp.swapaxes(x, 0, 1)
      else:  # the same residues' columns, pair[:, index]
        columns = jax.lax.dynamic_slice_in_dim(pair, index[0], len(index), 1)
        x = x + jnp.swapaxes(linear(float32_if_bfloat16(columns)), 0, 1)
    return x

  chunk = chunking.inference_chunk(global_config, is_training)
  if global_config.get('shard_residues', False):
    chunk = None
  chunk = chunking.pair_row_chunk(chunk, pair.shape[0])
  return chunking.chunked_apply(rows, chunk, [pair, jnp.arange(pair.shape[0])],
                                [pair])


class DistogramHead(hk.Module):
  """Suppl. 1.9.8: symmetric logits over distance bins, pair [N, N, c_z] ->
  logits [N, N, num_bins] and the bin edges [num_bins - 1]."""

  def __init__(self, config, global_config, name='distogram_head'):
    super().__init__(name=name)
    self.config = config
    self.global_config = global_config

  def __call__(self, representations, batch, is_training):
    half_logits = Linear(self.config.num_bins, 'zeros', name='half_logits')
    logits = _pair_logits(half_logits, representations['pair'], True,
                          self.global_config, is_training)
    edges = jnp.linspace(self.config.first_break, self.config.last_break,
                         self.config.num_bins - 1, dtype=logits.dtype)
    return {'logits': logits, 'bin_edges': edges}


class MaskedMsaHead(hk.Module):
  """Suppl. 1.9.9: msa [N_seq, N, c_m] -> logits [N_seq, N, 23] (22 for
  the multimer)."""

  def __init__(self, config, global_config, name='masked_msa_head'):
    super().__init__(name=name)
    self.config = config
    self.global_config = global_config

  def __call__(self, representations, batch, is_training):
    # The multimer config has no num_output: its logits cover the 20
    # amino acids, unknown and gap.
    num_output = (len(residue_constants.restypes_with_x_and_gap)
                  if self.global_config.multimer_mode else self.config.num_output)
    return {'logits': Linear(num_output, 'zeros', name='logits')(
        float32_if_bfloat16(representations['msa']))}


class PredictedLDDTHead(hk.Module):
  """Suppl. Alg. 29: structure-module activations [N, c] -> logits [N, num_bins]."""

  def __init__(self, config, global_config, name='predicted_lddt_head'):
    super().__init__(name=name)
    self.config = config
    self.global_config = global_config

  def __call__(self, representations, batch, is_training):
    act = LayerNorm(name='input_layer_norm')(representations['structure_module'])
    act = jax.nn.relu(Linear(self.config.num_channels, 'relu', name='act_0')(act))
    act = jax.nn.relu(Linear(self.config.num_channels, 'relu', name='act_1')(act))
    return {'logits': Linear(self.config.num_bins, 'zeros', name='logits')(act)}


class ExperimentallyResolvedHead(hk.Module):
  """Suppl. 1.9.10: single [N, c_s] -> logits [N, 37] per atom."""

  def __init__(self, config, global_config, name='experimentally_resolved_head'):
    super().__init__(name=name)
    self.config = config
    self.global_config = global_config

  def __call__(self, representations, batch, is_training):
    return {'logits': Linear(residue_constants.atom_type_num, 'zeros',
                             name='logits')(representations['single'])}


class PredictedAlignedErrorHead(hk.Module):
  """Suppl. 1.9.7: pair [N, N, c_z] -> logits [N, N, num_bins] and breaks."""

  def __init__(self, config, global_config, name='predicted_aligned_error_head'):
    super().__init__(name=name)
    self.config = config
    self.global_config = global_config

  def __call__(self, representations, batch, is_training):
    logits = _pair_logits(Linear(self.config.num_bins, 'zeros', name='logits'),
                          representations['pair'], False, self.global_config,
                          is_training)
    breaks = jnp.linspace(0., self.config.max_error_bin, self.config.num_bins - 1,
                          dtype=logits.dtype)
    return {'logits': logits, 'breaks': breaks}
