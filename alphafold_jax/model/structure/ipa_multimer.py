"""Invariant point attention as AlphaFold-Multimer parameterises it (Suppl.
Alg. 22 with separate query, key and value projections, points on the
`geometry` vector types)."""
import haiku as hk
import jax
import jax.numpy as jnp
import numpy as np

from alphafold_jax.geometry import Rigid3
from alphafold_jax.geometry import Vec3
from alphafold_jax.model.layers.linear import Linear
from alphafold_jax.model.layers.linear import param_dtype


class PointProjection(hk.Module):
  """[N, c] -> points Vec3 [N, H, P], predicted locally and moved to the
  global frame by each residue's frame."""

  def __init__(self, num_head: int, num_points: int, name='point_projection'):
    super().__init__(name=name)
    self.num_head = num_head
    self.num_points = num_points

  def __call__(self, act, rigid: Rigid3) -> Vec3:
    local = Linear((self.num_head, 3 * self.num_points), name='point_projection')(act)
    local = Vec3(*jnp.split(local, 3, axis=-1))
    return rigid[:, None, None].apply(local)


def _norm(v: Vec3, epsilon: float):
  return jnp.sqrt(jnp.maximum(v.dot(v), epsilon**2))


class InvariantPointAttention(hk.Module):
  """inputs_1d [N, c_s], inputs_2d [N, N, c_z], mask [N, 1], rigid Rigid3 [N]
  -> [N, num_channel]. The scalar, point and pair logits are summed and
  scaled by sqrt(1/3) together."""

  def __init__(self, config, global_config, dist_epsilon: float = 1e-8,
               name='invariant_point_attention'):
    super().__init__(name=name)
    self.config = config
    self.global_config = global_config
    self.dist_epsilon = dist_epsilon

  def __call__(self, inputs_1d, inputs_2d, mask, rigid: Rigid3):
    assert inputs_1d.ndim == 2 and inputs_2d.ndim == 3
    c = self.config
    h = c.num_head
    num_res = inputs_1d.shape[0]

    # Each (q, k) point pair contributes variance 9/2, each scalar pair 1.
    point_weights = np.sqrt(1. / (max(c.num_point_qk, 1) * 9. / 2))
    raw_point_weights = hk.get_parameter(
        'trainable_point_weights', (h,), param_dtype(inputs_1d),
        hk.initializers.Constant(np.log(np.exp(1.) - 1.)))
    point_weights = point_weights * jax.nn.softplus(raw_point_weights).astype(
        inputs_1d.dtype)

    q_point = PointProjection(h, c.num_point_qk, name='q_point_projection')(inputs_1d, rigid)
    k_point = PointProjection(h, c.num_point_qk, name='k_point_projection')(inputs_1d, rigid)
    # [N_q, N_k, H]
    diff = q_point.map(lambda a: a[:, None]) - k_point.map(lambda a: a[None, :])
    dist2 = diff.dot(diff)
    logits = -0.5 * jnp.sum(point_weights[:, None] * dist2, axis=-1)

    scalar_weights = np.sqrt(1. / max(c.num_scalar_qk, 1))
    q_scalar = Linear((h, c.num_scalar_qk), use_bias=False,
                      name='q_scalar_projection')(inputs_1d)
    k_scalar = Linear((h, c.num_scalar_qk), use_bias=False,
                      name='k_scalar_projection')(inputs_1d)
    logits = logits + jnp.einsum('qhc,khc->qkh', q_scalar * scalar_weights, k_scalar)
    logits = logits + Linear(h, name='attention_2d')(inputs_2d)
    mask_2d = mask[:, None] * mask[None, :]  # [N, N, 1]
    logits = logits - 1e5 * (1. - mask_2d)
    logits = logits * np.sqrt(1. / 3)
    attn = jax.nn.softmax(logits, axis=1)  # over keys

    v_scalar = Linear((h, c.num_scalar_v), use_bias=False,
                      name='v_scalar_projection')(inputs_1d)
    result_scalar = jnp.einsum('qkh,khc->qhc', attn, v_scalar).reshape(num_res, -1)
    v_point = PointProjection(h, c.num_point_v, name='v_point_projection')(inputs_1d, rigid)
    # Weighted point sums as explicit products and sums, which stay in the
    # input precision on every backend.
    result_point = v_point.map(
        lambda a: jnp.sum(attn[..., None] * a[None], axis=-3).reshape(num_res, -1))
    result_point_local = rigid[:, None].apply_inverse(result_point)
    point_norm = _norm(result_point_local, self.dist_epsilon)
    result_pair = jnp.einsum('ijh,ijc->ihc', attn, inputs_2d).reshape(num_res, -1)

    features = jnp.concatenate(
        [result_scalar, result_point_local.x, result_point_local.y,
         result_point_local.z, point_norm, result_pair], axis=-1)
    final_init = 'zeros' if self.global_config.zero_init else 'linear'
    return Linear(c.num_channel, final_init, name='output_projection')(features)
