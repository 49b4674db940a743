"""lDDT and the pLDDT loss (Suppl. section 1.9.6)."""
import jax.numpy as jnp
import numpy as np

from alphafold_jax.losses.lddt import lddt
from alphafold_jax.losses import plddt
from tests.losses.golden import assert_matches


def test_predicted_lddt_loss_matches_reference(golden, x64):
  config, batch, flat, outputs = golden
  result = plddt.predicted_lddt_loss(outputs, batch,
                                     config.model.heads.predicted_lddt)
  assert_matches(result, flat, 'predicted_lddt/')


def test_lddt_is_one_for_identical_structures(golden, x64):
  _, batch, _, _ = golden
  ca = batch['all_atom_positions'][None, :, 1]
  mask = batch['all_atom_mask'][None, :, 1:2]
  np.testing.assert_allclose(lddt(ca, ca, mask), [1.], rtol=1e-9)
  per_residue = lddt(ca, ca, mask, per_residue=True)
  assert per_residue.shape == (1, ca.shape[1])
  np.testing.assert_allclose(per_residue, 1., rtol=1e-9)


def test_lddt_scores_the_distance_thresholds(x64):
  true = jnp.array([[[0., 0., 0.], [3., 0., 0.], [20., 0., 0.]]])
  mask = jnp.ones((1, 3, 1))
  # Pair (0, 1) off by 0.75 Å passes 3 of 4 thresholds; pairs with the far
  # point lie beyond the 15 Å cutoff and are not scored.
  pred = true.at[0, 1, 0].add(0.75)
  np.testing.assert_allclose(lddt(pred, true, mask), [0.75],
                             rtol=1e-9)
