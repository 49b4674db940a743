"""Two-layer transition MLP (Suppl. Alg. 9 and 15)."""
import haiku as hk
import jax

from alphafold_jax.model.layers.chunking import chunked_apply
from alphafold_jax.model.layers.chunking import inference_chunk
from alphafold_jax.model.layers.linear import LayerNorm
from alphafold_jax.model.layers.linear import Linear


class Transition(hk.Module):
  """act [..., c] -> update [..., c] through a factor-n wider ReLU layer."""

  def __init__(self, config, global_config, name='transition_block'):
    super().__init__(name=name)
    self.config = config
    self.global_config = global_config

  def __call__(self, act, mask, is_training=False):
    c = act.shape[-1]
    num_intermediate = int(c * self.config.num_intermediate_factor)
    act = LayerNorm(name='input_layer_norm')(act)
    final_init = 'zeros' if self.global_config.zero_init else 'linear'

    def mlp(x):
      x = Linear(num_intermediate, 'relu', name='transition1')(x)
      return Linear(c, final_init, name='transition2')(jax.nn.relu(x))

    return chunked_apply(mlp, inference_chunk(self.global_config, is_training),
                         [act], in_place=True)
