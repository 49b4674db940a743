"""Linear layers and layer norm with the reference's parameter names.

Parameters are kept in float32 (float64 when the inputs are float64); the
computation runs in the dtype of the inputs, so a bfloat16 trunk reads
float32 weights cast to bfloat16.
"""
from typing import Sequence, Union

import haiku as hk
import jax.numpy as jnp
import numpy as np

# Correction so that a normal truncated at two standard deviations has the
# requested standard deviation.
TRUNCATED_NORMAL_STDDEV_FACTOR = np.asarray(.87962566103423978, dtype=np.float32)


def param_dtype(x) -> jnp.dtype:
  """The dtype parameters are created in for inputs `x`."""
  return jnp.float64 if x.dtype == jnp.float64 else jnp.float32


def float32_if_bfloat16(x):
  """`x` in float32 if it is bfloat16, else as it is (float32, float64).

  A bfloat16 trunk's pair and MSA representations stay in bfloat16; the
  structure module and the heads, which run in float32, cast them where
  they use them. The cast is exact, and no float32 copy of the pair is held
  beside the bfloat16 one.
  """
  return x.astype(jnp.float32) if x.dtype == jnp.bfloat16 else x


def _initializer(name: str, fan_in: int):
  if name == 'zeros':
    return hk.initializers.Constant(0.)
  if name == 'glorot':
    return hk.initializers.VarianceScaling(1., 'fan_avg', 'uniform')
  scale = {'linear': 1., 'relu': 2.}[name]
  stddev = np.sqrt(scale / max(1, fan_in)) / TRUNCATED_NORMAL_STDDEV_FACTOR
  return hk.initializers.TruncatedNormal(mean=0., stddev=stddev)


class Linear(hk.Module):
  """y = x W + b over the last `num_input_dims` axes into `num_output` axes.

  Parameters are named `weights` [*in, *out] and `bias` [*out], as in the
  released weights.
  """

  def __init__(self, num_output: Union[int, Sequence[int]],
               initializer: str = 'linear', num_input_dims: int = 1,
               use_bias: bool = True, bias_init: float = 0.,
               name: str = 'linear'):
    super().__init__(name=name)
    self.output_shape = ((num_output,) if isinstance(num_output, int)
                         else tuple(num_output))
    self.initializer = initializer
    self.num_input_dims = num_input_dims
    self.use_bias = use_bias
    self.bias_init = bias_init

  def params(self, inputs):
    """(weights, bias or None) for `inputs`, created on first use."""
    n_in = self.num_input_dims
    in_shape = inputs.shape[inputs.ndim - n_in:] if n_in else ()
    dtype = param_dtype(inputs)
    weights = hk.get_parameter(
        'weights', in_shape + self.output_shape, dtype,
        _initializer(self.initializer, int(np.prod(in_shape))))
    bias = None
    if self.use_bias:
      bias = hk.get_parameter('bias', self.output_shape, dtype,
                              hk.initializers.Constant(self.bias_init))
    return weights, bias

  def __call__(self, inputs):
    weights, bias = self.params(inputs)
    in_letters = 'abcde'[:self.num_input_dims]
    out_letters = 'hijkl'[:len(self.output_shape)]
    output = jnp.einsum(f'...{in_letters},{in_letters}{out_letters}->...{out_letters}',
                        inputs, weights.astype(inputs.dtype))
    if bias is not None:
      output = output + bias.astype(inputs.dtype)
    return output


class LayerNorm(hk.LayerNorm):
  """Layer norm over the last axis with `scale` and `offset`, eps 1e-5.

  Normalises in float32 when the input is bfloat16, for stable statistics.
  """

  def __init__(self, name: str):
    super().__init__(axis=-1, create_scale=True, create_offset=True, name=name)

  def __call__(self, x):
    if x.dtype == jnp.bfloat16:
      return super().__call__(x.astype(jnp.float32)).astype(jnp.bfloat16)
    return super().__call__(x)
