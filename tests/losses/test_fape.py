"""FAPE (Suppl. Alg. 28): golden parity and its defining properties."""
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from alphafold_jax.geometry import Rigid3
from alphafold_jax.geometry import Rot3
from alphafold_jax.geometry import Vec3
from alphafold_jax.losses import fape
from alphafold_jax.losses import renaming
from tests.losses.golden import rel_err


def test_backbone_fape_matches_reference(golden, x64):
  config, batch, flat, outputs = golden
  sm_config = config.model.heads.structure_module
  per_layer = fape.backbone_fape(outputs['structure_module']['traj'], batch,
                                 sm_config)
  assert per_layer.shape == (sm_config.num_layer,)
  assert per_layer.dtype == jnp.float64
  assert rel_err(per_layer[-1], flat['structure_module/fape']) <= 1e-6


def test_sidechain_fape_matches_reference(golden, x64):
  config, batch, flat, outputs = golden
  sm = outputs['structure_module']
  renamed = renaming.compute_renamed_ground_truth(
      batch, sm['final_atom14_positions'])
  sm_config = config.model.heads.structure_module
  value = jax.jit(lambda s, r, b: fape.sidechain_fape(s, r, b, sm_config))(
      sm['sidechains'], renamed, batch)
  assert rel_err(value, flat['structure_module/sidechain_fape']) <= 1e-6


def test_sidechain_fape_accepts_flat12_frames(golden, x64):
  config, batch, _, outputs = golden
  sidechains = outputs['structure_module']['sidechains']
  as_arrays = dict(sidechains,
                   frames=sidechains['frames'].to_flat12(),
                   atom_pos=sidechains['atom_pos'].to_array())
  renamed = renaming.compute_renamed_ground_truth(
      batch, outputs['structure_module']['final_atom14_positions'])
  sm_config = config.model.heads.structure_module
  np.testing.assert_allclose(
      fape.sidechain_fape(as_arrays, renamed, batch, sm_config),
      fape.sidechain_fape(sidechains, renamed, batch, sm_config), rtol=1e-12)


def test_use_clamped_fape_mixes_clamped_and_unclamped(golden, x64):
  config, batch, _, outputs = golden
  sm_config = config.model.heads.structure_module
  # Scale the prediction up so that many errors exceed the 10 Å clamp.
  traj = np.array(outputs['structure_module']['traj'])
  traj[..., 4:] *= 3.
  clamped = fape.backbone_fape(traj, dict(batch, use_clamped_fape=1.),
                               sm_config)
  unclamped = fape.backbone_fape(traj, dict(batch, use_clamped_fape=0.),
                                 sm_config)
  mixed = fape.backbone_fape(traj, dict(batch, use_clamped_fape=0.25),
                             sm_config)
  np.testing.assert_allclose(clamped, fape.backbone_fape(traj, batch,
                                                         sm_config))
  assert np.all(unclamped > clamped)
  np.testing.assert_allclose(mixed, 0.25 * clamped + 0.75 * unclamped,
                             rtol=1e-12)


def _random_rigid(key, shape):
  k1, k2 = jax.random.split(key)
  q = jax.random.normal(k1, shape + (4,))
  q = q / jnp.linalg.norm(q, axis=-1, keepdims=True)
  rot = Rot3.from_quaternion(q[..., 0], q[..., 1], q[..., 2], q[..., 3])
  return Rigid3(rot, Vec3.from_array(10. * jax.random.normal(k2, shape + (3,))))


def _case(key, num_frames=7, num_points=11):
  keys = jax.random.split(key, 4)
  frames = _random_rigid(keys[0], (num_frames,))
  points = Vec3.from_array(10. * jax.random.normal(keys[1], (num_points, 3)))
  pred_frames = _random_rigid(keys[2], (num_frames,))
  pred_points = Vec3.from_array(
      10. * jax.random.normal(keys[3], (num_points, 3)))
  frames_mask = jnp.ones(num_frames).at[2].set(0.)
  points_mask = jnp.ones(num_points).at[5].set(0.)
  return frames, points, pred_frames, pred_points, frames_mask, points_mask


def test_fape_invariant_to_global_rigid_motion(x64):
  frames, points, pred_frames, pred_points, fmask, pmask = _case(
      jax.random.PRNGKey(0))
  motion = _random_rigid(jax.random.PRNGKey(1), ())
  moved_frames = Rigid3(motion.rot, motion.trans).map(
      lambda a: jnp.broadcast_to(a, pred_frames.shape)) @ pred_frames
  moved_points = motion.apply(pred_points)
  fn = jax.jit(lambda f, x: fape.frame_aligned_point_error(
      f, frames, fmask, x, points, pmask, length_scale=10.,
      l1_clamp_distance=10.))
  before = fn(pred_frames, pred_points)
  after = fn(moved_frames, moved_points)
  assert before > 0.1
  np.testing.assert_allclose(after, before, rtol=1e-12)


def test_fape_zero_for_perfect_prediction_with_finite_gradient(x64):
  frames, points, _, _, fmask, pmask = _case(jax.random.PRNGKey(2))

  def loss(points_array):
    return fape.frame_aligned_point_error(
        frames, frames, fmask, Vec3.from_array(points_array), points, pmask,
        length_scale=10., l1_clamp_distance=10.)

  value, grad = jax.value_and_grad(loss)(points.to_array())
  # Only the epsilon inside the square root remains: sqrt(1e-4) / 10 (the
  # epsilon in the normaliser changes it by 1e-4 / 60 relative).
  np.testing.assert_allclose(value, np.sqrt(fape.FAPE_EPSILON) / 10.,
                             rtol=1e-5)
  assert np.all(np.isfinite(grad))


def test_fape_clamp_caps_each_error(x64):
  frames, points, _, _, fmask, pmask = _case(jax.random.PRNGKey(3))
  far = points + Vec3.from_array(jnp.array([1000., 0., 0.]))
  kwargs = dict(length_scale=10.)
  clamped = fape.frame_aligned_point_error(
      frames, frames, fmask, far, points, pmask, l1_clamp_distance=10.,
      **kwargs)
  unclamped = fape.frame_aligned_point_error(
      frames, frames, fmask, far, points, pmask, l1_clamp_distance=None,
      **kwargs)
  # Every error is 1000 Å; clamped to 10 Å and divided by the 10 Å scale.
  np.testing.assert_allclose(clamped, 1., rtol=1e-4)
  np.testing.assert_allclose(unclamped, 100., rtol=1e-4)


def test_fape_terms_computed_together_equal_each_alone(x64):
  """frame_aligned_point_errors (the multimer's intra-chain and interface
  terms, clamped and unclamped, from one computation of the errors) gives
  what frame_aligned_point_error gives for each term on its own."""
  frames, points, pred_frames, pred_points, fmask, pmask = _case(
      jax.random.PRNGKey(4))
  same = (jnp.arange(7)[:, None] % 2 == jnp.arange(11)[None, :] % 2)
  same = same.astype(jnp.float64)
  terms = [fape.FapeTerm(10., 3., same), fape.FapeTerm(20., None, 1. - same),
           fape.FapeTerm(10., None, same), fape.FapeTerm(15., 5., None)]
  together = fape.frame_aligned_point_errors(
      pred_frames, frames, fmask, pred_points, points, pmask, terms)
  alone = [fape.frame_aligned_point_error(
      pred_frames, frames, fmask, pred_points, points, pmask,
      length_scale=t.length_scale, l1_clamp_distance=t.l1_clamp_distance,
      pair_mask=t.pair_mask) for t in terms]
  assert len(together) == len(terms)
  np.testing.assert_allclose(together, alone, rtol=1e-12)
  # The terms differ (clamp, scale and pairs all matter here).
  assert len({round(float(v), 6) for v in alone}) == len(terms)


@pytest.mark.parametrize('dtype', [jnp.float32, jnp.float64])
def test_fape_keeps_dtype(dtype, x64):
  frames, points, pred_frames, pred_points, fmask, pmask = jax.tree.map(
      lambda a: a.astype(dtype), _case(jax.random.PRNGKey(4)))
  value = fape.frame_aligned_point_error(
      pred_frames, frames, fmask, pred_points, points, pmask,
      length_scale=10., l1_clamp_distance=10.)
  assert value.dtype == dtype
