"""AlphaFold-Multimer's structure loss: intra-chain and interface FAPE,
the chain centre-of-mass term, averaged clashes; a single chain scores as
the monomer."""
import jax
import ml_collections
import numpy as np
import pytest

from alphafold_jax.losses import fape
from alphafold_jax.losses import renaming
from alphafold_jax.losses import structure_multimer
from alphafold_jax.losses import violations as violations_lib
from alphafold_jax.losses.chain_centre_mass import chain_centre_mass_loss
from tests.losses.multimer_batch import load_example
from tests.losses.multimer_batch import training_config
from tests.losses.multimer_value import rotation
from tests.losses.multimer_value import value_from_truth


@pytest.fixture(scope='module')
def example():
  with jax.enable_x64(True):
    batch = load_example()
  return {k: (v.astype(np.float64) if np.issubdtype(np.asarray(v).dtype,
                                                    np.floating) else v)
          for k, v in batch.items()}


@pytest.fixture(scope='module')
def sm_config():
  return training_config().model.heads.structure_module


def _loss(value, batch, config):
  return jax.jit(lambda v, b: structure_multimer.multimer_structure_loss(
      v, b, config))(value, batch)


def test_truth_under_one_rigid_motion_has_no_fape(example, sm_config, x64):
  motion = (rotation([1., 2., 3.], 0.7), np.array([5., -3., 8.]))
  out = _loss(value_from_truth(example, {1: motion, 2: motion}), example,
              sm_config)
  for k in ('intra_chain_fape', 'interface_fape', 'sidechain_fape',
            'chain_centre_mass_loss', 'chi_loss'):
    assert float(out[k]) < 2e-3, k


def test_moving_one_chain_is_an_interface_error_only(example, sm_config,
                                                     x64):
  d = 6.
  out = _loss(value_from_truth(example, {2: (np.eye(3), [d, 0., 0.])}),
              example, sm_config)
  assert float(out['intra_chain_fape']) < 2e-3
  # Every interface pair is off by exactly d (pure translation), scaled by
  # the interface's 20 Å and not clamped (1,000 Å).
  scale = sm_config.interface_fape.loss_unit_distance
  np.testing.assert_allclose(float(out['interface_fape']), d / scale,
                             rtol=1e-4)
  # Side chains: the same interface error, plus the intra-chain term's
  # epsilon floor (sqrt(1e-4) / 10 Å).
  assert float(out['sidechain_fape']) == pytest.approx(d / scale + 1e-3,
                                                       abs=1e-4)


def test_interface_fape_clamp_and_scale_come_from_config(example, sm_config,
                                                         x64):
  config = ml_collections.ConfigDict(sm_config.to_dict())
  config.interface_fape.atom_clamp_distance = 2.
  config.interface_fape.loss_unit_distance = 4.
  out = _loss(value_from_truth(example, {2: (np.eye(3), [6., 0., 0.])}),
              example, config)
  np.testing.assert_allclose(float(out['interface_fape']), 2. / 4.,
                             rtol=1e-4)


def test_single_chain_scores_as_the_monomer(example, sm_config, x64):
  chain = example['asym_id'] == 1
  batch = {k: (v[chain] if np.ndim(v) and v.shape[0] == chain.shape[0]
               else v) for k, v in example.items() if k not in (
                   'msa', 'deletion_matrix', 'msa_mask', 'bert_mask')}
  motion = (rotation([0., 1., 1.], 0.3), np.array([1., 2., 3.]))
  value = value_from_truth(batch, {1: motion})
  # Perturb the prediction so that FAPE is not zero.
  rng = np.random.default_rng(0)
  value['traj'] = value['traj'] + np.concatenate(
      [np.zeros(value['traj'].shape[:-1] + (9,)),
       rng.normal(size=value['traj'].shape[:-1] + (3,))], axis=-1)
  value['sidechains']['atom_pos'] = (
      value['sidechains']['atom_pos'] +
      rng.normal(size=value['sidechains']['atom_pos'].shape))
  out = _loss(value, batch, sm_config)
  assert float(out['interface_fape']) == 0.
  assert float(out['chain_centre_mass_loss']) == 0.
  monomer_config = ml_collections.ConfigDict({
      'fape': {'clamp_distance': 10., 'loss_unit_distance': 10.},
      'sidechain': {'length_scale': 10., 'atom_clamp_distance': 10.}})
  target = fape.rigid_from_affine_tensor(batch['backbone_affine_tensor'])
  pred = fape.as_rigid(value['traj'])
  monomer = fape.frame_aligned_point_error(
      pred, target, batch['backbone_affine_mask'], pred.trans, target.trans,
      batch['backbone_affine_mask'], 10., 10.)
  np.testing.assert_allclose(float(out['intra_chain_fape']),
                             float(monomer[-1]), rtol=1e-10)
  renamed = renaming.compute_renamed_ground_truth(
      batch, value['final_atom14_positions'])
  monomer_sc = fape.sidechain_fape(value['sidechains'], renamed, batch,
                                   monomer_config)
  np.testing.assert_allclose(float(out['sidechain_fape']), float(monomer_sc),
                             rtol=1e-10)


def test_chain_centre_mass_pushes_overlapping_chains_apart(example,
                                                           sm_config, x64):
  config = sm_config.chain_centre_mass
  ca = 1
  mask = example['all_atom_mask'][:, ca]
  centres = [np.sum(example['all_atom_positions'][:, ca] *
                    (mask * (example['asym_id'] == c))[:, None], 0) /
             np.sum(mask * (example['asym_id'] == c)) for c in (1, 2)]
  true_dist = np.linalg.norm(centres[0] - centres[1])
  assert true_dist > 4.
  # Chain B moved onto chain A's centre: the loss of a distance of 0.
  onto = value_from_truth(example, {2: (np.eye(3), centres[0] - centres[1])})
  loss = chain_centre_mass_loss(onto['final_atom_positions'], example, config)
  # (within the epsilons under the square root and in the normaliser)
  np.testing.assert_allclose(float(loss), ((4. - true_dist) / 20.)**2,
                             rtol=1e-5)
  # Further apart than the truth, or closer by less than 4 Å: no loss.
  for shift in (10., -3.):
    direction = (centres[1] - centres[0]) / true_dist
    moved = value_from_truth(example, {2: (np.eye(3), shift * direction)})
    assert float(chain_centre_mass_loss(moved['final_atom_positions'],
                                        example, config)) == 0.
  # Gradient only from the pushing side.
  grad = jax.grad(lambda p: chain_centre_mass_loss(p, example, config))(
      onto['final_atom_positions'])
  assert np.all(np.isfinite(grad)) and np.abs(grad).max() > 0


def test_clashes_between_chains_with_equal_residue_numbers(example,
                                                           sm_config, x64):
  # Chain B (residues 0-8) laid over chain A's residues 0-8: every clash is
  # between residues with the same residue_index, which only the chain ids
  # tell apart.
  value = value_from_truth(example, {})
  atom14 = np.array(value['final_atom14_positions'])
  b = example['asym_id'] == 2
  atom14[b] = atom14[np.flatnonzero(example['asym_id'] == 1)[:b.sum()]] + 0.3
  viol = violations_lib.find_structural_violations(example, atom14,
                                                   sm_config, True)
  without = violations_lib.find_structural_violations(
      {k: v for k, v in example.items() if k != 'asym_id'}, atom14,
      sm_config)
  between = viol['between_residues']
  assert float(between['clashes_mean_loss']) > float(
      without['between_residues']['clashes_mean_loss'])
  assert float(np.max(between['clashes_per_atom_clash_mask'][b])) == 1.
  # No peptide bond from chain A's last residue to chain B's first.
  assert float(between['connections_per_residue_violation_mask'][
      np.flatnonzero(b)[0]]) == 0.
  summed = violations_lib.structural_violation_loss(viol, example,
                                                    np.float64)
  averaged = violations_lib.structural_violation_loss(
      viol, example, np.float64, average_clashes=True)
  # Atoms clash with several others: their mean is below their sum.
  assert 0. < float(averaged) < float(summed)


def test_averaged_clashes_equal_summed_without_clashes(example, sm_config,
                                                       x64):
  value = value_from_truth(example, {2: (np.eye(3), [50., 0., 0.])})
  # The experimental structure, without the atoms it lacks (left at the
  # origin, where they would clash).
  example = dict(example, atom14_atom_exists=example['atom14_gt_exists'])
  viol = violations_lib.find_structural_violations(
      example, value['final_atom14_positions'], sm_config, True)
  np.testing.assert_allclose(
      float(violations_lib.structural_violation_loss(
          viol, example, np.float64, average_clashes=True)),
      float(violations_lib.structural_violation_loss(viol, example,
                                                     np.float64)),
      rtol=1e-6)
