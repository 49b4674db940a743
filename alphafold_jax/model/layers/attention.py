"""Gated multi-head attention (Suppl. Alg. 7) and global attention (Alg. 19)."""
import functools
from typing import Optional

import haiku as hk
import jax
import jax.numpy as jnp

from alphafold_jax.model.layers.linear import param_dtype

_GLOROT = hk.initializers.VarianceScaling(1., 'fan_avg', 'uniform')


def _head_dims(config, q_data, m_data):
  """(num_head, key_dim, value_dim) per head; the total dims default to the
  input channels."""
  num_head = config.num_head
  key_dim = config.get('key_dim', int(q_data.shape[-1])) // num_head
  value_dim = config.get('value_dim', int(m_data.shape[-1])) // num_head
  return num_head, key_dim, value_dim


def _gate(q_data, num_head: int, value_dim: int):
  """Sigmoid gate [B, Q, H, c] per query, head and value channel; starts open
  (zero weights, unit bias)."""
  gating_w = _param('gating_w', (q_data.shape[-1], num_head, value_dim),
                    hk.initializers.Constant(0.), like=q_data)
  gating_b = _param('gating_b', (num_head, value_dim), hk.initializers.Constant(1.),
                    like=q_data)
  return jax.nn.sigmoid(jnp.einsum('bqc,chv->bqhv', q_data, gating_w) + gating_b)


def _param(name, shape, init, like):
  """A parameter in float32 (float64 for float64 inputs), cast to like's dtype."""
  return hk.get_parameter(name, shape, param_dtype(like), init).astype(like.dtype)


def fused_implementation(q, k, v) -> Optional[str]:
  """How `fused_attention` runs q [B, Q, H, c] against k and v
  [B, K, H, c], or None for the plain path (also where v's head dim is not
  k's, which `jax.nn.dot_product_attention` does not take).

  On a CUDA GPU 'cudnn' where cuDNN's fused kernel takes the inputs (half
  precision, a head dim that is a multiple of 8 up to 128, even lengths,
  which its backward pass with a bias needs), else None: XLA's
  implementation would gain nothing there and keep float32 logits. Off the
  GPU 'xla', the same computation as the plain path, so that the CPU checks
  the fused path's layout, scale and bias.
  """
  if k.shape != v.shape:
    return None
  if jax.default_backend() != 'gpu':
    return 'xla'
  cuda = 'cuda' in jax.devices()[0].client.platform_version.lower()
  if (cuda and q.dtype in (jnp.bfloat16, jnp.float16)
      and q.shape[-1] % 8 == 0 and q.shape[-1] <= 128
      and q.shape[1] % 2 == 0 and k.shape[1] % 2 == 0):
    return 'cudnn'
  return None


def fused_attention(q, k, v, bias, nonbatched_bias: Optional[jax.Array],
                    implementation: str):
  """softmax(q k^T + bias + nonbatched_bias) v through
  `jax.nn.dot_product_attention`, q already scaled.

  q [B, Q, H, c], k and v [B, K, H, c], bias broadcastable to [B, H, Q, K],
  nonbatched_bias [H, Q, K] -> [B, Q, H, c]. 'cudnn' is cuDNN's flash
  attention: logits, bias and softmax in one kernel, the [B, H, Q, K]
  probabilities neither written out nor kept for the backward pass
  (recomputed there). 'xla' is XLA's implementation, the plain computation
  with the logits and softmax in float32 (also for float64 inputs).
  """
  if nonbatched_bias is not None:
    bias = bias + nonbatched_bias[None]
  if implementation == 'cudnn':
    # cuDNN wants the bias at full [Q, K] length.
    bias = jnp.broadcast_to(bias, bias.shape[:2] + (q.shape[1], k.shape[1]))
  return jax.nn.dot_product_attention(q, k, v, bias.astype(q.dtype), scale=1.,
                                      implementation=implementation)


# On the CPU the heads are looped over so that one step's logits
# ([B, heads per step, Q, K]) stay within about this many bytes, half a
# core's L2 cache here: XLA:CPU's fused softmax and products run out of
# cache and were up to 3x slower on larger blocks (measured on one core:
# [4, 128, 8, 32] queries and keys 4.2 ms in one block, 1.3 ms in blocks;
# the Evoformer's MSA column attention, [4, 8, 512, 512] logits per chunk
# of 4 columns, 0.82 s a block of 64 columns before, 0.51 s after, with
# the normalisation below).
CPU_LOGITS_BLOCK_BYTES = 2**20


def head_block(q, k) -> int:
  """Heads per step of `attention_core` for q [B, Q, H, c] and k
  [B, K, H, c]: on the CPU the most heads (a divisor of H) whose logits fit
  CPU_LOGITS_BLOCK_BYTES, at least 1; elsewhere all H (one step)."""
  num_batch, num_query, num_head = q.shape[:3]
  if jax.default_backend() != 'cpu':
    return num_head
  per_head = num_batch * num_query * k.shape[1] * q.dtype.itemsize
  if not per_head:  # empty (e.g. no extra MSA rows): nothing to split
    return num_head
  fits = max(1, CPU_LOGITS_BLOCK_BYTES // per_head)
  return max(h for h in range(1, num_head + 1)
             if num_head % h == 0 and h <= fits)


def attention_core(q, k, v, bias, nonbatched_bias: Optional[jax.Array],
                   heads_per_step: int):
  """softmax(q k^T + bias + nonbatched_bias) v, `heads_per_step` heads at
  a time (the same values for any divisor of H; each head's softmax is its
  own).

  q [B, Q, H, c], k [B, K, H, c], v [B, K, H, c_v], bias broadcastable to
  [B, H, Q, K], nonbatched_bias [H, Q, K] or None -> [B, Q, H, c_v].
  """
  num_head = q.shape[2]

  def block(q, k, v, bias, nonbatched_bias):
    logits = jnp.einsum('bqhc,bkhc->bhqk', q, k) + bias
    if nonbatched_bias is not None:
      logits = logits + nonbatched_bias[None]
    # The softmax's normalisation applied to the [B, H, Q, c_v] product
    # rather than to the [B, H, Q, K] weights: one division per output
    # instead of per logit (on the CPU a pass over the logits that cost as
    # much as both products). The maximum only keeps exp in range; the
    # result does not depend on it.
    logits = logits - jax.lax.stop_gradient(
        jnp.max(logits, axis=-1, keepdims=True))
    unnormalised = jnp.exp(logits)
    total = jnp.sum(unnormalised, axis=-1)  # [B, H, Q]
    out = jnp.einsum('bhqk,bkhc->bhqc', unnormalised, v) / total[..., None]
    return jnp.swapaxes(out, 1, 2)

  if heads_per_step >= num_head:
    return block(q, k, v, bias, nonbatched_bias)
  steps = num_head // heads_per_step
  # Heads split as [steps, heads_per_step], the steps leading.
  split = lambda x, axis: jnp.moveaxis(
      x.reshape(x.shape[:axis] + (steps, heads_per_step) + x.shape[axis + 1:]),
      axis, 0)
  # A bias with one entry per head is split alike; one shared by the heads
  # (a mask's, [B, 1, 1, K]) goes whole to every step.
  per_head_bias = bias.ndim == 4 and bias.shape[1] != 1
  xs = [split(q, 2), split(k, 2), split(v, 2),
        split(bias, 1) if per_head_bias else None,
        None if nonbatched_bias is None else split(nonbatched_bias, 0)]

  def step(x):
    q, k, v, b, nb = x
    return block(q, k, v, bias if b is None else b, nb)

  out = jax.lax.map(step, xs)  # [steps, B, Q, heads_per_step, c_v]
  out = jnp.moveaxis(out, 0, 2)
  return out.reshape(out.shape[:2] + (num_head,) + out.shape[4:])


def _final_init(global_config):
  return (hk.initializers.Constant(0.) if global_config.zero_init
          else _GLOROT)


class Attention(hk.Module):
  """Multi-head attention with optional sigmoid gating.

  q_data [B, Q, c_q], m_data [B, K, c_m], bias broadcastable to [B, H, Q, K],
  nonbatched_bias [H, Q, K] -> [B, Q, output_dim]. With
  `global_config.fused_attention` the softmax(q k^T + bias) v step goes
  through `fused_attention` where `fused_implementation` has one for it
  (cuDNN's kernel on a GPU); the projections and the gate are the same
  either way. Otherwise `attention_core`, in blocks of heads on the CPU
  (`head_block`).
  """

  def __init__(self, config, global_config, output_dim: int, name='attention'):
    super().__init__(name=name)
    self.config = config
    self.global_config = global_config
    self.output_dim = output_dim

  def params(self, q_data, m_data) -> dict:
    """The weights for queries from `q_data` and keys and values from
    `m_data` (only their last axes and dtype matter), created on first use,
    cast to q_data's dtype: query_w, key_w, value_w [c, H, c_head],
    output_w [H, c_v, output_dim], output_b, and with gating gating_w
    [c_q, H, c_v] and gating_b [H, c_v]."""
    c = self.config
    num_head, key_dim, value_dim = _head_dims(c, q_data, m_data)
    param = functools.partial(_param, like=q_data)
    p = {'query_w': param('query_w', (q_data.shape[-1], num_head, key_dim),
                          _GLOROT),
         'key_w': param('key_w', (m_data.shape[-1], num_head, key_dim),
                        _GLOROT),
         'value_w': param('value_w', (m_data.shape[-1], num_head, value_dim),
                          _GLOROT)}
    if c.gating:
      p['gating_w'] = param('gating_w', (q_data.shape[-1], num_head, value_dim),
                            hk.initializers.Constant(0.))
      p['gating_b'] = param('gating_b', (num_head, value_dim),
                            hk.initializers.Constant(1.))
    p['output_w'] = param('output_w', (num_head, value_dim, self.output_dim),
                          _final_init(self.global_config))
    p['output_b'] = param('output_b', (self.output_dim,),
                          hk.initializers.Constant(0.))
    return p

  def __call__(self, q_data, m_data, bias, nonbatched_bias=None):
    p = self.params(q_data, m_data)
    key_dim = p['query_w'].shape[-1]
    q = jnp.einsum('bqa,ahc->bqhc', q_data, p['query_w']) * key_dim**(-0.5)
    k = jnp.einsum('bka,ahc->bkhc', m_data, p['key_w'])
    v = jnp.einsum('bka,ahc->bkhc', m_data, p['value_w'])
    implementation = (fused_implementation(q, k, v)
                      if self.global_config.get('fused_attention', False)
                      else None)
    if implementation:
      weighted_avg = fused_attention(q, k, v, bias, nonbatched_bias,
                                     implementation)
    else:
      weighted_avg = attention_core(q, k, v, bias, nonbatched_bias,
                                    head_block(q, k))
    return self.output(p, q_data, weighted_avg)

  def output(self, p, q_data, weighted_avg):
    """The gated (with gating) and projected output [B, Q, output_dim] of
    the attention's weighted values [B, Q, H, c_v]."""
    if self.config.gating:
      weighted_avg = weighted_avg * jax.nn.sigmoid(
          jnp.einsum('bqc,chv->bqhv', q_data, p['gating_w']) + p['gating_b'])
    return jnp.einsum('bqhc,hco->bqo', weighted_avg, p['output_w']) + p['output_b']


class GlobalAttention(hk.Module):
  """Global column attention of the extra-MSA stack (Suppl. Alg. 19).

  One query per column, the mask-weighted mean of the column's queries;
  keys and values have a single head. q_data, m_data [B, K, c],
  q_mask [B, K, 1] -> [B, K, output_dim].
  """

  def __init__(self, config, global_config, output_dim: int, name='attention'):
    super().__init__(name=name)
    self.config = config
    self.global_config = global_config
    self.output_dim = output_dim

  def __call__(self, q_data, m_data, q_mask):
    c = self.config
    num_head, key_dim, value_dim = _head_dims(c, q_data, m_data)
    param = functools.partial(_param, like=q_data)

    q_w = param('query_w', (q_data.shape[-1], num_head, key_dim), _GLOROT)
    k_w = param('key_w', (m_data.shape[-1], key_dim), _GLOROT)
    v_w = param('value_w', (m_data.shape[-1], value_dim), _GLOROT)

    v = jnp.einsum('bka,ac->bkc', m_data, v_w)
    q_avg = jnp.sum(q_mask * q_data, axis=1) / (jnp.sum(q_mask, axis=1) + 1e-10)
    q = jnp.einsum('ba,ahc->bhc', q_avg, q_w) * key_dim**(-0.5)
    k = jnp.einsum('bka,ac->bkc', m_data, k_w)
    bias = (1e9 * (q_mask[:, None, :, 0] - 1.)).astype(q_data.dtype)
    logits = jnp.einsum('bhc,bkc->bhk', q, k) + bias
    weights = jax.nn.softmax(logits)
    weighted_avg = jnp.einsum('bhk,bkc->bhc', weights, v)

    o_w = param('output_w', (num_head, value_dim, self.output_dim),
                _final_init(self.global_config))
    o_b = param('output_b', (self.output_dim,), hk.initializers.Constant(0.))
    if c.gating:
      weighted_avg = weighted_avg[:, None] * _gate(q_data, num_head, value_dim)
      return jnp.einsum('bqhc,hco->bqo', weighted_avg, o_w) + o_b
    out = jnp.einsum('bhc,hco->bo', weighted_avg, o_w) + o_b
    return jnp.broadcast_to(out[:, None], q_data.shape[:2] + (self.output_dim,))
