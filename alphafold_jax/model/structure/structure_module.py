"""The structure module (Suppl. Alg. 20, 23)."""
import haiku as hk
import jax
import jax.numpy as jnp

from alphafold_jax.common import all_atom
from alphafold_jax.geometry import Rigid3
from alphafold_jax.geometry import Vec3
from alphafold_jax.geometry import quaternion
from alphafold_jax.model.layers.dropout import dropout
from alphafold_jax.model.layers.linear import float32_if_bfloat16
from alphafold_jax.model.layers.linear import LayerNorm
from alphafold_jax.model.layers.linear import Linear
from alphafold_jax.model.structure.ipa import InvariantPointAttention
from alphafold_jax.model.structure.sidechain import MultiRigidSidechain


class FoldIteration(hk.Module):
  """One shared-weight layer of the structure module (Alg. 20 lines 6-14).

  The backbone frames are a unit quaternion [N, 4] and a translation Vec3 [N]
  (in units of `position_scale` Angstrom). Returns the new activations, the
  new frames and the side-chain outputs of this layer.
  """

  def __init__(self, config, global_config, name='fold_iteration'):
    super().__init__(name=name)
    self.config = config
    self.global_config = global_config

  def __call__(self, act, quat, trans: Vec3, initial_act, act_2d, sequence_mask,
               aatype, is_training):
    c = self.config
    gc = self.global_config
    rate = 0. if gc.deterministic else c.dropout
    rot = quaternion.to_rotation(quat)
    act = act + InvariantPointAttention(c, gc)(act, act_2d, sequence_mask,
                                               Rigid3(rot, trans))
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

    # Backbone update (Alg. 23): compose the frame with the quaternion
    # (1, b, c, d), normalised, and the translation t in the old frame.
    update = Linear(6, final_init, name='affine_update')(act)
    pure = jnp.concatenate([jnp.zeros_like(update[:, :1]), update[:, :3]], -1)
    quat = quaternion.normalize(quat + quaternion.multiply(quat, pure))
    trans = trans + rot.apply(Vec3(update[:, 3], update[:, 4], update[:, 5]))

    backbone = Rigid3(quaternion.to_rotation(quat), trans)
    sidechains = MultiRigidSidechain(c.sidechain, gc)(
        backbone.scale_translation(c.position_scale), [act, initial_act], aatype)
    return act, quat, trans, sidechains


class StructureModule(hk.Module):
  """Single and pair representations -> backbone trajectory and all atoms.

  representations: single [N, c_s], pair [N, N, c_z]; batch: seq_mask,
  aatype, atom14_atom_exists, residx_atom37_to_atom14, atom37_atom_exists.
  Outputs use the reference's keys; `traj` [L, N, 7] holds each layer's
  frames as quaternion and translation in Angstrom.
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
    act_2d = LayerNorm(name='pair_layer_norm')(
        float32_if_bfloat16(representations['pair']))
    num_res = act.shape[0]
    dtype = act.dtype
    quat = jnp.zeros((num_res, 4), dtype).at[:, 0].set(1.)
    trans = Vec3.zeros((num_res,), dtype)

    fold_iteration = FoldIteration(c, self.global_config)

    def layer(carry, _):
      act, quat, trans = carry
      act, quat, trans, sidechains = fold_iteration(
          act, quat, trans, initial_act, act_2d, sequence_mask, batch['aatype'],
          is_training)
      affine = jnp.concatenate([quat, trans.to_array() * c.position_scale], -1)
      # Gradients flow into each layer's rotation only from its own outputs
      # (Suppl. 1.8.3): later layers see the rotation as a constant.
      return (act, jax.lax.stop_gradient(quat), trans), (affine, sidechains)

    # The layers share their weights: one traced layer, scanned (compile
    # time does not grow with num_layer).
    (act, _, _), (traj, sidechains) = hk.scan(
        layer, (act, quat, trans), None, length=c.num_layer)
    atom14 = sidechains['atom_pos'][-1].to_array()
    atom37 = all_atom.atom14_to_atom37(atom14, batch['residx_atom37_to_atom14'],
                                       batch['atom37_atom_exists'])
    atom37 = atom37 * batch['atom37_atom_exists'][:, :, None].astype(atom37.dtype)
    return {
        'representations': {'structure_module': act},
        'traj': traj,
        'sidechains': sidechains,
        'final_atom14_positions': atom14,
        'final_atom14_mask': batch['atom14_atom_exists'],
        'final_atom_positions': atom37,
        'final_atom_mask': batch['atom37_atom_exists'],
        'final_affines': traj[-1],
    }
