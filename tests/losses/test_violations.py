"""Structural violations (Suppl. section 1.9.11)."""
import jax
import numpy as np

from alphafold_jax.losses import violations
from tests.losses.golden import assert_matches
from tests.losses.golden import rel_err


def test_violations_and_metrics_match_reference(golden, x64):
  config, batch, flat, outputs = golden
  sm_config = config.model.heads.structure_module
  positions = outputs['structure_module']['final_atom14_positions']
  found = jax.jit(lambda b, x: violations.find_structural_violations(
      b, x, sm_config))(batch, positions)
  errors = assert_matches(found, flat, 'structure_module/violations/')
  assert len(errors) == 11
  metrics = violations.compute_violation_metrics(batch, positions, found)
  assert_matches(metrics, flat, 'structure_module/metrics/')


def test_ideal_backbone_has_no_bond_violation(golden, x64):
  _, batch, _, _ = golden
  # The ground truth is a real structure: its peptide bonds are near ideal.
  result = violations.between_residue_bond_loss(
      batch['atom14_gt_positions'], batch['atom14_gt_exists'],
      batch['residue_index'], batch['aatype'])
  assert rel_err(result['c_n_loss_mean'], 0.) < 1e-3
  assert np.all(np.asarray(result['per_residue_violation_mask']) == 0)


def test_clash_is_flagged_for_overlapping_atoms(x64):
  positions = np.zeros((2, 14, 3))
  positions[1, :, 0] = 1.  # residue 2's atoms 1 Å from residue 1's
  exists = np.zeros((2, 14))
  exists[:, 4] = 1.  # one side-chain atom each (CB)
  radius = 1.7 * exists
  result = violations.between_residue_clash_loss(
      positions, exists, radius, np.array([0, 5]))
  # 3.4 Å contact - 1.5 Å tolerance - 1 Å distance.
  np.testing.assert_allclose(result['per_atom_loss_sum'][:, 4], 0.9,
                             rtol=1e-6)
  np.testing.assert_array_equal(result['per_atom_clash_mask'], exists)
