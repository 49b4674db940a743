"""Invariant point attention: parity with the reference and invariance."""
import jax
import jax.numpy as jnp
import numpy as np

from alphafold_jax.geometry import Rigid3
from alphafold_jax.geometry import Vec3
from alphafold_jax.geometry import quaternion
from alphafold_jax.model.structure.ipa import InvariantPointAttention
from tests.model import golden_modules

CFG = golden_modules.small_config().model


def _fn(inputs_1d, inputs_2d, mask, affine):
  rigid = quaternion.affine_to_rigid(affine)
  return InvariantPointAttention(CFG.heads.structure_module, CFG.global_config)(
      inputs_1d, inputs_2d, mask, rigid)


def test_ipa_matches_reference():
  inputs, params, outputs = golden_modules.load_module_case('invariant_point_attention')
  with jax.enable_x64(True):
    out = golden_modules.run_module(_fn, inputs, params)
  assert golden_modules.relative_error(out, outputs['out']) < 1e-6


def test_ipa_is_invariant_to_global_rigid_motion():
  inputs, params, _ = golden_modules.load_module_case('invariant_point_attention')
  with jax.enable_x64(True):
    out = golden_modules.run_module(_fn, inputs, params)
    q = quaternion.normalize(jnp.array([0.3, -0.5, 0.2, 0.7]))
    motion = Rigid3(quaternion.to_rotation(q), Vec3(*jnp.array([4., -2., 9.])))
    frames = quaternion.affine_to_rigid(jnp.asarray(inputs['affine']))
    moved = motion @ frames
    moved_inputs = dict(inputs, affine=np.asarray(quaternion.rigid_to_affine(moved)))
    moved_out = golden_modules.run_module(_fn, moved_inputs, params)
  np.testing.assert_allclose(moved_out, out, atol=1e-9)
