"""Two-layer transition MLP (Suppl. Alg. 9 and 15)."""
import haiku as hk
import jax

from alphafold_jax.model.layers.chunking import chunked_apply
from alphafold_jax.model.layers.chunking import inference_chunk
from alphafold_jax.model.layers import sharding
from alphafold_jax.model.layers.linear import LayerNorm
from alphafold_jax.model.layers.linear import Linear


class Transition(hk.Module):
  """act [..., c] -> update [..., c] through a factor-n wider ReLU layer.

  residue_axis: the axis of `act` split under residue sharding (0 for the
  pair representation, 1 for the MSA); chunks run along axis 0 either way.
  """

  def __init__(self, config, global_config, name='transition_block',
               residue_axis: int = 0):
    super().__init__(name=name)
    self.config = config
    self.global_config = global_config
    self.residue_axis = residue_axis

  def __call__(self, act, mask, is_training=False):
    c = act.shape[-1]
    num_intermediate = int(c * self.config.num_intermediate_factor)
    gc = self.global_config
    act = sharding.shard(LayerNorm(name='input_layer_norm')(act),
                         self.residue_axis, gc)
    final_init = 'zeros' if self.global_config.zero_init else 'linear'

    def mlp(x):
      x = Linear(num_intermediate, 'relu', name='transition1')(x)
      return Linear(c, final_init, name='transition2')(jax.nn.relu(x))

    return chunked_apply(mlp, inference_chunk(gc, is_training), [act],
                         in_place=True,
                         shard_config=gc if self.residue_axis == 0 else None)
