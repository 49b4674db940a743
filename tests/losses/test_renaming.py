"""Renaming of symmetric ground-truth atoms (Suppl. Alg. 26)."""
import numpy as np

from alphafold_jax.common import residue_constants
from alphafold_jax.losses import renaming
from tests.losses.golden import assert_matches


def test_renaming_matches_reference(golden, x64):
  _, batch, flat, outputs = golden
  result = renaming.compute_renamed_ground_truth(
      batch, outputs['structure_module']['final_atom14_positions'])
  assert_matches(result, flat, 'structure_module/')


def test_renaming_picks_the_alternative_when_the_prediction_matches_it(
    golden, x64):
  _, batch, _, _ = golden
  ambiguous = batch['atom14_atom_is_ambiguous'].max(axis=-1) > 0
  assert ambiguous.sum() >= 2
  # Predict the true structure, but with the swapped naming for every
  # other ambiguous residue.
  swap = np.zeros(len(ambiguous), bool)
  swap[np.flatnonzero(ambiguous)[::2]] = True
  pred = np.where(swap[:, None, None], batch['atom14_alt_gt_positions'],
                  batch['atom14_gt_positions'])
  result = renaming.compute_renamed_ground_truth(batch, pred)
  np.testing.assert_array_equal(result['alt_naming_is_better'],
                                swap.astype(np.float64))
  np.testing.assert_allclose(result['renamed_atom14_gt_positions'], pred)
  np.testing.assert_allclose(
      result['renamed_atom14_gt_exists'],
      np.where(swap[:, None], batch['atom14_alt_gt_exists'],
               batch['atom14_gt_exists']))
  assert result['renamed_atom14_gt_exists'].shape == (
      len(ambiguous), residue_constants.atom14_type_num)
