"""The structure module of AlphaFold-Multimer (Suppl. Alg. 20, 23 on the
`geometry` Rot3/Vec3 types: frames are composed as rotation matrices, the
backbone update is a quaternion (1, b, c, d) turned into a rotation)."""
import haiku as hk
import jax
import jax.numpy as jnp

from alphafold_jax.common import all_atom
from alphafold_jax.common import residue_constants
from alphafold_jax.geometry import Rigid3
from alphafold_jax.geometry import Rot3
from alphafold_jax.geometry import Vec3
from alphafold_jax.model.layers.dropout import dropout
from alphafold_jax.model.layers.linear import LayerNorm
from alphafold_jax.model.layers.linear import Linear
from alphafold_jax.model.structure.ipa_multimer import InvariantPointAttention
from alphafold_jax.model.structure.sidechain import MultiRigidSidechain


def quaternion_to_rotation(w, x, y, z, epsilon: float = 1e-6) -> Rot3:
  """The rotation of the quaternion (w, x, y, z) after normalising it."""
  inv_norm = jax.lax.rsqrt(jnp.maximum(epsilon, w**2 + x**2 + y**2 + z**2))
  w, x, y, z = w * inv_norm, x * inv_norm, y * inv_norm, z * inv_norm
  return Rot3(1 - 2 * (jnp.square(y) + jnp.square(z)), 2 * (x * y - w * z),
              2 * (x * z + w * y), 2 * (x * y + w * z),
              1 - 2 * (jnp.square(x) + jnp.square(z)), 2 * (y * z - w * x),
              2 * (x * z - w * y), 2 * (y * z + w * x),
              1 - 2 * (jnp.square(x) + jnp.square(y)))


class QuatRigid(hk.Module):
  """[N, c] -> the frame update Rigid3 [N] (Suppl. Alg. 23)."""

  def __init__(self, global_config, init='zeros', name='quat_rigid'):
    super().__init__(name=name)
    self.global_config = global_config
    self.init = init

  def __call__(self, act) -> Rigid3:
    update = Linear(6, self.init, name='rigid')(act)
    qx, qy, qz, tx, ty, tz = (update[..., i] for i in range(6))
    rot = quaternion_to_rotation(jnp.ones_like(qx), qx, qy, qz)
    return Rigid3(rot, Vec3(tx, ty, tz))


class FoldIteration(hk.Module):
  """One shared-weight layer (Suppl. Alg. 20 lines 6-14): IPA, transition,
  frame update, side chains. Frames are in units of `position_scale` Å."""

  def __init__(self, config, global_config, name='fold_iteration'):
    super().__init__(name=name)
    self.config = config
    self.global_config = global_config

  def __call__(self, act, rigid: Rigid3, initial_act, act_2d, sequence_mask,
               aatype, is_training):
    c = self.config
    gc = self.global_config
    rate = 0. if gc.deterministic else c.dropout
    act = act + InvariantPointAttention(c, gc)(act, act_2d, sequence_mask, rigid)
    act = dropout(act, rate, is_training)
    act = LayerNorm(name='attention_layer_norm')(act)

    final_init = 'zeros' if gc.zero_init else 'linear'
    input_act = act
    for i in range(c.num_layer_in_transition):
      last = i == c.num_layer_in_transition - 1
      act = Linear(c.num_channel, final_init if last else 'relu',
                   name='transition')(act)
      if not last:
        act = jax.nn.relu(act)
    act = dropout(act + input_act, rate, is_training)
    act = LayerNorm(name='transition_layer_norm')(act)

    rigid = rigid @ QuatRigid(gc, init=final_init)(act)
    sidechains = MultiRigidSidechain(c.sidechain, gc)(
        rigid.scale_translation(c.position_scale), [act, initial_act], aatype)
    return act, rigid, sidechains


class StructureModule(hk.Module):
  """Single [N, c_s] and pair [N, N, c_z] -> all-atom positions.

  batch: seq_mask [N], aatype [N]. Returns final_atom_positions [N, 37, 3],
  final_atom_mask [N, 37], final_atom14_positions [N, 14, 3], and for the
  losses `traj` [L, N, 12] (each layer's backbone frames as flat12:
  rotation row-major, translation in Å), `final_frames` [N, 12] (the last
  of them) and `sidechains` (every layer's 'frames' [L, N, 8, 12] flat12,
  'atom_pos' [L, N, 14, 3], 'angles_sin_cos' and
  'unnormalized_angles_sin_cos' [L, N, 7, 2]); under representations, the
  last layer's activations for the pLDDT head.
  """

  def __init__(self, config, global_config, name='structure_module'):
    super().__init__(name=name)
    self.config = config
    self.global_config = global_config

  def __call__(self, representations, batch, is_training):
    c = self.config
    sequence_mask = batch['seq_mask'][:, None]
    act = LayerNorm(name='single_layer_norm')(representations['single'])
    initial_act = act
    act = Linear(c.num_channel, name='initial_projection')(act)
    act_2d = LayerNorm(name='pair_layer_norm')(representations['pair'])
    num_res = act.shape[0]
    rigid = Rigid3.identity((num_res,), act.dtype)
    fold_iteration = FoldIteration(c, self.global_config)
    aatype = batch['aatype']

    def layer(carry, _):
      act, rigid = carry
      act, rigid, sidechains = fold_iteration(
          act, rigid, initial_act, act_2d, sequence_mask.astype(act.dtype),
          aatype, is_training)
      # Gradients reach each layer's rotation only from its own outputs
      # (Suppl. 1.8.3).
      carry_rigid = Rigid3(rigid.rot.stop_gradient(), rigid.trans)
      frames = rigid.scale_translation(c.position_scale).to_flat12()
      # Plain arrays, so that every output is an array.
      sidechains = {**sidechains, 'frames': sidechains['frames'].to_flat12(),
                    'atom_pos': sidechains['atom_pos'].to_array()}
      return (act, carry_rigid), (frames, sidechains)

    # Shared weights: one traced layer, scanned.
    (act, _), (traj, sidechains) = hk.scan(layer, (act, rigid), None,
                                           length=c.num_layer)
    atom14 = sidechains['atom_pos'][-1]
    atom37_mask = jnp.asarray(residue_constants.restype_atom37_mask)[aatype]
    residx_atom37_to_atom14 = jnp.asarray(residue_constants.restype_atom37_to_atom14)[aatype]
    atom37 = all_atom.atom14_to_atom37(atom14, residx_atom37_to_atom14, atom37_mask)
    return {
        'representations': {'structure_module': act},
        'final_atom_positions': atom37,
        'final_atom_mask': atom37_mask.astype(atom37.dtype),
        'final_atom14_positions': atom14,
        'traj': traj,
        'final_frames': traj[-1],
        'sidechains': sidechains,
    }
