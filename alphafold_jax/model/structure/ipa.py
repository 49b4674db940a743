"""Invariant point attention (Suppl. Alg. 22)."""
import haiku as hk
import jax
import jax.numpy as jnp
import numpy as np

from alphafold_jax.geometry import Rigid3
from alphafold_jax.geometry import Vec3
from alphafold_jax.model.layers.linear import Linear
from alphafold_jax.model.layers.linear import param_dtype


def _points(x, num_head: int, num_points: int) -> Vec3:
  """[N, H * 3 * P] projection -> Vec3 [N, H, P] (x block, y block, z block)."""
  n = x.shape[0]
  px, py, pz = jnp.split(x, 3, axis=-1)
  return Vec3(*(p.reshape(n, num_head, num_points) for p in (px, py, pz)))


class InvariantPointAttention(hk.Module):
  """Attention whose logits and outputs are invariant to global rigid motions.

  inputs_1d [N, c_s], inputs_2d [N, N, c_z], mask [N, 1], rigid: Rigid3 [N]
  (the current backbone frames) -> [N, num_channel].
  """

  def __init__(self, config, global_config, dist_epsilon: float = 1e-8,
               name='invariant_point_attention'):
    super().__init__(name=name)
    self.config = config
    self.global_config = global_config
    self.dist_epsilon = dist_epsilon

  def __call__(self, inputs_1d, inputs_2d, mask, rigid: Rigid3):
    assert inputs_1d.ndim == 2 and inputs_2d.ndim == 3 and mask.ndim == 2
    c = self.config
    n = inputs_1d.shape[0]
    h = c.num_head
    s_qk, p_qk, s_v, p_v = c.num_scalar_qk, c.num_point_qk, c.num_scalar_v, c.num_point_v

    q_scalar = Linear(h * s_qk, name='q_scalar')(inputs_1d).reshape(n, h, s_qk)
    kv_scalar = Linear(h * (s_v + s_qk), name='kv_scalar')(inputs_1d)
    k_scalar, v_scalar = jnp.split(kv_scalar.reshape(n, h, s_v + s_qk), [s_qk], -1)

    # Points are predicted in each residue's local frame and moved to the
    # global frame, so that their distances are invariant.
    frames = rigid[:, None, None]
    q_point = frames.apply(_points(
        Linear(h * 3 * p_qk, name='q_point_local')(inputs_1d), h, p_qk))
    kv_point = frames.apply(_points(
        Linear(h * 3 * (p_qk + p_v), name='kv_point_local')(inputs_1d), h, p_qk + p_v))
    k_point = kv_point.map(lambda a: a[..., :p_qk])
    v_point = kv_point.map(lambda a: a[..., p_qk:])

    # Equal variance for the scalar, point and pair terms of the logits,
    # assuming unit-variance queries and keys.
    scalar_weight = np.sqrt(1. / (3 * max(s_qk, 1)))
    point_weight = np.sqrt(1. / (3 * max(p_qk, 1) * 9. / 2))
    pair_weight = np.sqrt(1. / 3)

    head_weights = jax.nn.softplus(hk.get_parameter(
        'trainable_point_weights', (h,), param_dtype(inputs_1d),
        hk.initializers.Constant(np.log(np.exp(1.) - 1.))))
    point_weights = point_weight * head_weights.astype(inputs_1d.dtype)

    # [H, N_q, N_k]
    q_point_h = q_point.map(lambda a: jnp.swapaxes(a, 0, 1))
    k_point_h = k_point.map(lambda a: jnp.swapaxes(a, 0, 1))
    dist2 = sum(jnp.square(qa[:, :, None, :] - ka[:, None, :, :])
                for qa, ka in ((q_point_h.x, k_point_h.x),
                               (q_point_h.y, k_point_h.y),
                               (q_point_h.z, k_point_h.z)))
    logits_point = -0.5 * jnp.sum(point_weights[:, None, None, None] * dist2, -1)
    logits_scalar = jnp.einsum('qhc,khc->hqk', scalar_weight * q_scalar, k_scalar)
    logits_pair = pair_weight * jnp.transpose(
        Linear(h, name='attention_2d')(inputs_2d), [2, 0, 1])
    mask_2d = mask * jnp.swapaxes(mask, -1, -2)
    logits = logits_scalar + logits_point + logits_pair - 1e5 * (1. - mask_2d)
    attn = jax.nn.softmax(logits)  # [H, N_q, N_k]

    result_scalar = jnp.einsum('hqk,khc->qhc', attn, v_scalar).reshape(n, h * s_v)
    # Weighted point sums as explicit products and sums, which stay in the
    # input precision on every backend.
    v_point_h = v_point.map(lambda a: jnp.swapaxes(a, 0, 1))  # [H, N_k, P_v]
    result_point = v_point_h.map(
        lambda a: jnp.swapaxes(jnp.sum(attn[..., None] * a[:, None], axis=-2), 0, 1))
    result_point_local = rigid[:, None, None].apply_inverse(result_point).map(
        lambda a: a.reshape(n, h * p_v))
    point_norm = jnp.sqrt(self.dist_epsilon + result_point_local.dot(result_point_local))
    result_pair = jnp.einsum('hij,ijc->ihc', attn, inputs_2d).reshape(n, -1)

    features = jnp.concatenate(
        [result_scalar, result_point_local.x, result_point_local.y,
         result_point_local.z, point_norm, result_pair], axis=-1)
    final_init = 'zeros' if self.global_config.zero_init else 'linear'
    return Linear(c.num_channel, final_init, name='output_projection')(features)
