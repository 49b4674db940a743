"""The structure module's combined loss."""
import copy

import jax
import numpy as np

from alphafold_jax.losses import structure
from tests.losses.golden import assert_matches


def test_structure_module_loss_matches_reference(golden, x64):
  config, batch, flat, outputs = golden
  sm_config = config.model.heads.structure_module
  value = outputs['structure_module']
  value_before = copy.deepcopy(value)
  batch_before = copy.deepcopy(batch)
  result = jax.jit(lambda v, b: structure.structure_module_loss(
      v, b, sm_config))(value, batch)
  errors = assert_matches(result, flat, 'structure_module/')
  for key in ('loss', 'fape', 'sidechain_fape', 'chi_loss', 'angle_norm_loss',
              'alt_naming_is_better', 'renamed_atom14_gt_positions',
              'renamed_atom14_gt_exists',
              'violations/total_per_residue_violations_mask',
              'metrics/violations_per_residue'):
    assert 'structure_module/' + key in errors
  # Inputs are left as they were.
  assert sorted(value) == sorted(value_before)
  assert sorted(batch) == sorted(batch_before)
  for a, b in zip(jax.tree.leaves(value), jax.tree.leaves(value_before)):
    np.testing.assert_array_equal(a, b)


def test_structure_module_loss_without_violation_term(golden, x64):
  config, batch, flat, outputs = golden
  sm_config = copy.deepcopy(config.model.heads.structure_module)
  sm_config.structural_violation_loss_weight = 0.
  sm_config.compute_in_graph_metrics = False
  result = jax.jit(lambda v, b: structure.structure_module_loss(
      v, b, sm_config))(outputs['structure_module'], batch)
  assert 'violations' not in result and not result['metrics']
  violation = (flat['structure_module/loss'] -
               float(result['loss']))
  between = 'structure_module/violations/between_residues/'
  num_atoms = batch['atom14_atom_exists'].sum()
  expected = (flat[between + 'bonds_c_n_loss_mean'] +
              flat[between + 'angles_ca_c_n_loss_mean'] +
              flat[between + 'angles_c_n_ca_loss_mean'] +
              (flat[between + 'clashes_per_atom_loss_sum'].sum() +
               flat['structure_module/violations/within_residues/'
                    'per_atom_loss_sum'].sum()) / (1e-6 + num_atoms))
  np.testing.assert_allclose(violation, expected, rtol=1e-6)


def test_violation_loss_scale_multiplies_the_violation_term(golden, x64):
  """'violation_loss_scale' (the train step's schedule) scales only the
  violation term: 0 gives the loss without it, 0.5 half of it."""
  config, batch, flat, outputs = golden
  sm_config = config.model.heads.structure_module
  without = copy.deepcopy(sm_config)
  without.structural_violation_loss_weight = 0.

  def loss(b, c):
    return float(jax.jit(lambda v, b: structure.structure_module_loss(
        v, b, c)['loss'])(outputs['structure_module'], b))

  full = loss(batch, sm_config)
  base = loss(batch, without)
  assert full - base > 1e-3  # the golden case has violations
  for scale in (0., 0.5, 1.):
    scaled = loss(dict(batch, violation_loss_scale=np.asarray(scale)),
                  sm_config)
    np.testing.assert_allclose(scaled, base + scale * (full - base),
                               rtol=1e-9)


def test_structure_module_loss_gradient_is_finite(golden, x64):
  """Differentiable everywhere the reference is (epsilons inside the roots)."""
  config, batch, _, outputs = golden
  sm_config = config.model.heads.structure_module
  value = outputs['structure_module']

  def loss(traj, atom14, angles):
    v = dict(value, traj=traj, final_atom14_positions=atom14,
             sidechains=dict(value['sidechains'], angles_sin_cos=angles,
                             unnormalized_angles_sin_cos=angles))
    return structure.structure_module_loss(v, batch, sm_config)['loss']

  # A perfect atom14 prediction puts zero distances on the renaming and
  # clash diagonals: the gradient must still be finite there.
  grads = jax.jit(jax.grad(loss, argnums=(0, 1, 2)))(
      value['traj'], batch['atom14_gt_positions'],
      value['sidechains']['angles_sin_cos'])
  for g in grads:
    assert np.all(np.isfinite(g))
  assert np.any(grads[0] != 0) and np.any(grads[2] != 0)
