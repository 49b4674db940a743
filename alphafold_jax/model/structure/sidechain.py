"""Torsion angles and all-atom coordinates from the single representation (Suppl. Alg. 20 lines 11-14, Alg. 24)."""
import haiku as hk
import jax
import jax.numpy as jnp

from alphafold_jax.common import all_atom
from alphafold_jax.geometry import Rigid3
from alphafold_jax.model.layers.linear import Linear


def l2_normalize(x, axis=-1, epsilon=1e-12):
  return x / jnp.sqrt(jnp.maximum(jnp.sum(jnp.square(x), axis, keepdims=True), epsilon))


class MultiRigidSidechain(hk.Module):
  """Predicts the 7 torsion angles with a small ResNet, then builds the 8 rigid
  groups and the 14 atom positions of every residue.

  backbone: Rigid3 [N] in Angstrom, representations_list: [act, initial_act]
  ([N, c] each), aatype [N].
  """

  def __init__(self, config, global_config, name='rigid_sidechain'):
    super().__init__(name=name)
    self.config = config
    self.global_config = global_config

  def __call__(self, backbone: Rigid3, representations_list, aatype):
    c = self.config
    act = sum(Linear(c.num_channel, name='input_projection')(jax.nn.relu(x))
              for x in representations_list)
    final_init = 'zeros' if self.global_config.zero_init else 'linear'
    for _ in range(c.num_residual_block):
      old_act = act
      act = Linear(c.num_channel, 'relu', name='resblock1')(jax.nn.relu(act))
      act = Linear(c.num_channel, final_init, name='resblock2')(jax.nn.relu(act))
      act = act + old_act
    num_res = act.shape[0]
    unnormalized = Linear(14, name='unnormalized_angles')(jax.nn.relu(act))
    unnormalized = unnormalized.reshape(num_res, 7, 2)
    angles = l2_normalize(unnormalized)
    frames = all_atom.torsion_angles_to_frames(aatype, backbone, angles)
    atom_pos = all_atom.frames_and_literature_positions_to_atom14_pos(aatype, frames)
    return {'angles_sin_cos': angles, 'unnormalized_angles_sin_cos': unnormalized,
            'atom_pos': atom_pos, 'frames': frames}
