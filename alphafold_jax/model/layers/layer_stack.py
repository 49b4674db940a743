"""Repeating a block with separate weights, as one scanned computation.

The parameters of every layer are stacked along a new leading axis, as in
the released weights (e.g. the 48 Evoformer blocks), and the block is traced
once and run under `hk.scan`, so compile time does not grow with depth.
Parameter paths are those of the modules as constructed: modules built
inside the block get the stack's scope, `__layer_stack_no_state`.
"""
from typing import Callable

import haiku as hk
import jax
import jax.numpy as jnp

# Initialisers whose values are drawn independently per element: one call
# with the stacked shape samples every layer at once (one random op per
# parameter instead of one per layer: much faster to compile at depth 48).
# Others, such as VarianceScaling, read the shape and are called per layer.
_ELEMENTWISE_INITIALIZERS = (hk.initializers.Constant,
                             hk.initializers.RandomNormal,
                             hk.initializers.TruncatedNormal)


class LayerStack(hk.Module):
  """Applies `block` (carry -> carry) `num_layers` times, each with its own weights."""

  def __init__(self, num_layers: int, block: Callable, unroll: bool = False,
               name: str = '__layer_stack_no_state'):
    super().__init__(name=name)
    self.num_layers = num_layers
    self.block = block
    self.unroll = unroll

  def __call__(self, carry):
    num_layers = self.num_layers

    def create_stacked(next_creator, shape, dtype, init, context):
      def stacked_init(stacked_shape, dtype):
        if isinstance(init, _ELEMENTWISE_INITIALIZERS):
          return init(stacked_shape, dtype)
        return jnp.stack([init(stacked_shape[1:], dtype) for _ in range(num_layers)])
      return next_creator((num_layers,) + tuple(shape), dtype, stacked_init)

    if hk.running_init():
      # Creating the stacked weights needs one pass only.
      with hk.custom_creator(create_stacked), \
           hk.custom_getter(lambda next_getter, value, context: next_getter(value[0])):
        return self.block(carry)

    def body(carry, layer):
      def select(next_getter, value, context):
        return next_getter(jax.lax.dynamic_index_in_dim(value, layer, 0, keepdims=False))
      with hk.custom_getter(select):
        return self.block(carry), None

    # Unrolled, the layers run as straight-line code: no loop carrying the
    # activations saved for the gradient, written into and read back from
    # stacked buffers one layer at a time (a tenth of a tiny-preset training
    # step at 2 blocks), for a compile that grows with depth.
    carry, _ = hk.scan(body, carry, jnp.arange(num_layers),
                       unroll=num_layers if self.unroll else 1)
    return carry


def layer_stack(num_layers: int, block: Callable, carry, unroll: bool = False):
  """`block` applied `num_layers` times (LayerStack); `unroll` traces every
  layer separately instead of looping (global_config.unroll_layer_stacks)."""
  return LayerStack(num_layers, block, unroll)(carry)
