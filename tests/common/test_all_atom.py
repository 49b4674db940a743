"""Tests for alphafold_jax/common/all_atom.py against the reference's numbers."""
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from Bio.PDB import PDBParser

from alphafold_jax.common import all_atom
from alphafold_jax.common import residue_constants as rc
from alphafold_jax.geometry import Rigid3
from alphafold_jax.geometry import quaternion

_SIDECHAINS = 'structure_module/sidechains/'


@pytest.fixture(scope='module')
def batch(golden_dir):
  with np.load(golden_dir / 'small' / 'batch.npz') as data:
    return {k: v[0] for k, v in data.items()}


@pytest.fixture(scope='module')
def outputs(golden_dir):
  with np.load(golden_dir / 'small' / 'outputs64.npz') as data:
    return {k: data[k] for k in data.files if k.startswith('structure_module/')}


def _structure64(batch):
  return (batch['aatype'], batch['all_atom_positions'].astype(np.float64),
          batch['all_atom_mask'].astype(np.float64))


def _parse_atom37(pdb_path):
  """aatype [N], atom37 positions [N, 37, 3] and mask of the first chain."""
  chain = next(iter(PDBParser(QUIET=True).get_structure('x', pdb_path)[0]))
  aatype, positions, mask = [], [], []
  for residue in chain:
    if residue.id[0] != ' ':
      continue
    letter = rc.restype_3to1.get(residue.get_resname(), 'X')
    aatype.append(rc.restype_order_with_x[letter])
    pos = np.zeros([rc.atom_type_num, 3])
    m = np.zeros([rc.atom_type_num])
    for atom in residue:
      if atom.get_id() in rc.atom_order:
        pos[rc.atom_order[atom.get_id()]] = atom.coord
        m[rc.atom_order[atom.get_id()]] = 1.
    positions.append(pos)
    mask.append(m)
  return np.array(aatype), np.array(positions), np.array(mask)


def test_make_atom14_masks_matches_golden(batch):
  masks = all_atom.make_atom14_masks(batch['aatype'])
  for key, value in masks.items():
    assert value.dtype == batch[key].dtype, key
    np.testing.assert_array_equal(value, batch[key], err_msg=key)


def test_atom37_to_frames_matches_golden(batch):
  with jax.enable_x64(True):
    frames = all_atom.atom37_to_frames(*_structure64(batch))
    for key, value in frames.items():
      assert value.dtype == jnp.float64, key
      np.testing.assert_allclose(value, batch[key], atol=1e-5, err_msg=key)


def test_make_atom14_positions_matches_golden(batch):
  with jax.enable_x64(True):
    atom14 = all_atom.make_atom14_positions(*_structure64(batch))
    for key, value in atom14.items():
      np.testing.assert_allclose(value, batch[key], atol=1e-5, err_msg=key)


def test_pseudo_beta_matches_golden(batch):
  with jax.enable_x64(True):
    positions, mask = all_atom.pseudo_beta(*_structure64(batch))
    np.testing.assert_allclose(positions, batch['pseudo_beta'], atol=1e-5)
    np.testing.assert_array_equal(mask, batch['pseudo_beta_mask'])
    only_positions = all_atom.pseudo_beta(*_structure64(batch)[:2])
    np.testing.assert_array_equal(only_positions, positions)


def test_chi_angles_match_golden(batch):
  with jax.enable_x64(True):
    torsions = all_atom.atom37_to_torsion_angles(*_structure64(batch))
    chi_sin_cos = torsions['torsion_angles_sin_cos'][:, 3:]
    chi = jnp.arctan2(chi_sin_cos[..., 0], chi_sin_cos[..., 1])
    np.testing.assert_allclose(chi, batch['chi_angles'], atol=1e-5)
    np.testing.assert_array_equal(torsions['torsion_angles_mask'][:, 3:],
                                  batch['chi_mask'])


def test_torsion_angles_to_frames_matches_structure_module(batch, outputs):
  """Every structure-module layer's side-chain frames and atoms (Alg. 24)."""
  aatype = batch['aatype']
  traj = outputs['structure_module/traj']
  with jax.enable_x64(True):
    for layer in range(traj.shape[0]):
      backbone = quaternion.affine_to_rigid(traj[layer])
      frames = all_atom.torsion_angles_to_frames(
          aatype, backbone, outputs[_SIDECHAINS + 'angles_sin_cos'][layer])
      assert frames.shape == aatype.shape + (rc.num_rigid_groups,)
      got = list(frames.rot.components()) + [frames.trans.x, frames.trans.y,
                                             frames.trans.z]
      want = ([outputs[_SIDECHAINS + f'frames/0/{k}'][layer] for k in range(9)]
              + [outputs[_SIDECHAINS + f'frames/1/{k}'][layer]
                 for k in range(3)])
      for g, w in zip(got, want):
        assert g.dtype == jnp.float64
        np.testing.assert_allclose(g, w, rtol=0, atol=1e-8 * np.abs(w).max())
      atoms = all_atom.frames_and_literature_positions_to_atom14_pos(
          aatype, frames)
      for k, component in enumerate((atoms.x, atoms.y, atoms.z)):
        w = outputs[_SIDECHAINS + f'atom_pos/{k}'][layer]
        np.testing.assert_allclose(component, w, rtol=0,
                                   atol=1e-8 * np.abs(w).max())


def test_atom14_to_atom37_matches_final_positions(batch, outputs):
  masks = all_atom.make_atom14_masks(batch['aatype'])
  with jax.enable_x64(True):
    atom37 = all_atom.atom14_to_atom37(
        outputs['structure_module/final_atom14_positions'],
        masks['residx_atom37_to_atom14'], masks['atom37_atom_exists'])
    np.testing.assert_allclose(
        atom37, outputs['structure_module/final_atom_positions'],
        rtol=0, atol=1e-12)
    back = all_atom.atom37_to_atom14(atom37, masks['residx_atom14_to_atom37'],
                                     masks['atom14_atom_exists'])
    np.testing.assert_allclose(
        back, outputs['structure_module/final_atom14_positions'], atol=1e-12)
    mask37 = all_atom.atom14_to_atom37(
        outputs['structure_module/final_atom14_mask'],
        masks['residx_atom37_to_atom14'], masks['atom37_atom_exists'])
    np.testing.assert_array_equal(mask37,
                                  outputs['structure_module/final_atom_mask'])


def test_real_structure_round_trip(fixtures_dir):
  """Torsions of 2RBG rebuilt on its own backbone give back its atoms.

  Literature geometry is idealised, so the rebuilt atoms differ from the
  crystal by bond-angle deviations that grow along the side chain.
  """
  aatype, positions, mask = _parse_atom37(fixtures_dir / 'data' / '2rbg.pdb')
  with jax.enable_x64(True):
    torsions = all_atom.atom37_to_torsion_angles(aatype, positions, mask)
    gt_frames = all_atom.atom37_to_frames(aatype, positions, mask)
    backbone = Rigid3.from_flat12(gt_frames['rigidgroups_gt_frames'][:, 0])
    frames = all_atom.torsion_angles_to_frames(
        aatype, backbone, torsions['torsion_angles_sin_cos'])
    rebuilt = np.asarray(all_atom.frames_and_literature_positions_to_atom14_pos(
        aatype, frames).to_array())
    truth = {k: np.asarray(v) for k, v in
             all_atom.make_atom14_positions(aatype, positions, mask).items()}
  exists = truth['atom14_gt_exists'].copy()
  # Arginine NH1/NH2 are not always named by the IUPAC rule in PDB files.
  arg = aatype == rc.restype_order['R']
  exists[arg, 9:11] = 0
  dist = np.linalg.norm(rebuilt - truth['atom14_gt_positions'], axis=-1)
  rmsd = lambda m: np.sqrt(np.sum(dist**2 * m) / np.sum(m))
  backbone_atoms = exists.copy()
  backbone_atoms[:, 4:] = 0
  assert rmsd(backbone_atoms) < 0.05
  assert rmsd(exists) < 0.15
  assert np.median(dist[exists > 0]) < 0.1
  # The rebuilt torsions are those of the structure.
  with jax.enable_x64(True):
    rebuilt37 = all_atom.atom14_to_atom37(
        rebuilt, rc.restype_atom37_to_atom14[aatype],
        rc.restype_atom37_mask[aatype])
    again = all_atom.atom37_to_torsion_angles(aatype, rebuilt37, mask)
    torsions = {k: np.asarray(v) for k, v in torsions.items()}
    again = {k: np.asarray(v) for k, v in again.items()}
  chi_mask = torsions['torsion_angles_mask'][:, 3:]
  np.testing.assert_allclose(
      again['torsion_angles_sin_cos'][:, 3:] * chi_mask[..., None],
      torsions['torsion_angles_sin_cos'][:, 3:] * chi_mask[..., None],
      atol=1e-6)


def test_torsion_angles_batch_axes_and_options(batch):
  aatype, positions, mask = (batch['aatype'], batch['all_atom_positions'],
                             batch['all_atom_mask'])
  single = all_atom.atom37_to_torsion_angles(aatype, positions, mask)
  assert single['torsion_angles_sin_cos'].dtype == jnp.float32
  stacked = all_atom.atom37_to_torsion_angles(
      np.stack([aatype, aatype]), np.stack([positions, positions]),
      np.stack([mask, mask]))
  for key, value in single.items():
    assert stacked[key].shape == (2,) + value.shape
    np.testing.assert_allclose(stacked[key][1], value, atol=1e-6)

  # The first residue has no pre-omega or phi.
  np.testing.assert_array_equal(single['torsion_angles_mask'][0, :2], 0)
  placeholder = all_atom.atom37_to_torsion_angles(
      aatype, positions, mask, placeholder_for_undefined=True)
  np.testing.assert_array_equal(placeholder['torsion_angles_sin_cos'][0, 0],
                                [0., 1.])
  tm = single['torsion_angles_mask'][..., None]
  np.testing.assert_allclose(placeholder['torsion_angles_sin_cos'] * tm,
                             single['torsion_angles_sin_cos'] * tm)

  # Alternative angles differ (by pi) exactly at the pi-periodic chis.
  periodic = np.array(rc.chi_pi_periodic)[aatype]
  flip = np.concatenate([np.zeros([len(aatype), 3]), periodic], axis=-1)
  np.testing.assert_allclose(
      single['alt_torsion_angles_sin_cos'],
      single['torsion_angles_sin_cos'] * (1. - 2. * flip)[..., None])


def test_functions_do_not_modify_inputs(batch):
  aatype = batch['aatype'].copy()
  positions = batch['all_atom_positions'].copy()
  mask = batch['all_atom_mask'].copy()
  all_atom.atom37_to_torsion_angles(aatype, positions, mask,
                                    placeholder_for_undefined=True)
  all_atom.atom37_to_frames(aatype, positions, mask)
  all_atom.make_atom14_positions(aatype, positions, mask)
  np.testing.assert_array_equal(positions, batch['all_atom_positions'])
  np.testing.assert_array_equal(mask, batch['all_atom_mask'])
  np.testing.assert_array_equal(aatype, batch['aatype'])


def test_unknown_residues_have_no_atoms():
  aatype = np.array([rc.unk_restype_index, rc.restype_order['A']])
  frames = Rigid3.identity((2,), jnp.float32)
  sin_cos = jnp.zeros([2, 7, 2]).at[..., 1].set(1.)
  groups = all_atom.torsion_angles_to_frames(aatype, frames, sin_cos)
  atoms = all_atom.frames_and_literature_positions_to_atom14_pos(
      aatype, groups).to_array()
  np.testing.assert_array_equal(atoms[0], 0.)
  # Alanine's backbone-group atoms (N, CA, C, CB) in the identity backbone
  # frame sit at their literature positions.
  backbone_group = [0, 1, 2, 4]
  np.testing.assert_allclose(
      atoms[1, backbone_group],
      rc.restype_atom14_rigid_group_positions[rc.restype_order['A'],
                                              backbone_group],
      atol=1e-6)
