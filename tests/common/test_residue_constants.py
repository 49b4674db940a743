"""Tests for alphafold_jax/common/residue_constants.py."""
import numpy as np
import pytest

from alphafold_jax.common import residue_constants as rc


def _rebuild_literature_positions(restype):
  """Atom positions {name: [3]} of a residue in its backbone frame, chis 0."""
  frames = rc.restype_rigid_group_default_frame[restype].astype(np.float64)
  to_backbone = frames.copy()
  for group in range(5, rc.num_rigid_groups):
    to_backbone[group] = to_backbone[group - 1] @ frames[group]
  resname = rc.resnames[restype]
  return {name: (to_backbone[group] @ np.append(position, 1.))[:3]
          for name, group, position in rc.rigid_group_atom_positions[resname]}


def test_orders_and_sizes():
  assert rc.restype_num == 20
  assert rc.unk_restype_index == 20
  assert rc.atom_type_num == 37
  assert len(rc.restypes_with_x) == 21
  assert rc.resnames[-1] == 'UNK'
  assert rc.restype_3to1['TRP'] == 'W'
  assert rc.atom_order['OXT'] == 36
  for resname, names in rc.restype_name_to_atom14_names.items():
    assert len(names) == rc.atom14_type_num, resname


def test_table_shapes():
  n = rc.restype_num + 1
  assert rc.restype_rigid_group_default_frame.shape == (n, 8, 4, 4)
  assert rc.restype_atom14_to_rigid_group.shape == (n, 14)
  assert rc.restype_atom14_rigid_group_positions.shape == (n, 14, 3)
  assert rc.restype_atom37_to_rigid_group.shape == (n, 37)
  assert rc.restype_atom37_rigid_group_positions.shape == (n, 37, 3)
  assert rc.restype_atom14_mask.shape == (n, 14)
  assert rc.restype_atom37_mask.shape == (n, 37)
  assert rc.chi_atom_indices.shape == (n, 4, 4)
  assert np.array(rc.chi_angles_mask).shape == (20, 4)
  assert np.array(rc.chi_pi_periodic).shape == (n, 4)
  assert rc.restype_atom14_ambiguous_atoms.shape == (n, 14)
  # Atom counts: glycine 4, tryptophan 14, UNK none.
  assert rc.restype_atom14_mask[rc.restype_order['G']].sum() == 4
  assert rc.restype_atom14_mask[rc.restype_order['W']].sum() == 14
  assert rc.restype_atom37_mask[rc.unk_restype_index].sum() == 0
  np.testing.assert_array_equal(rc.restype_atom14_mask.sum(-1),
                                rc.restype_atom37_mask.sum(-1))


def test_default_frames_are_proper_rotations():
  for restype in range(rc.restype_num):
    groups = [0, 1, 2, 3] + [4 + i for i in range(4)
                             if rc.chi_angles_mask[restype][i]]
    for group in groups:
      m = rc.restype_rigid_group_default_frame[restype, group].astype(np.float64)
      rot = m[:3, :3]
      np.testing.assert_allclose(rot @ rot.T, np.eye(3), atol=1e-6)
      assert np.linalg.det(rot) == pytest.approx(1., abs=1e-6)
      np.testing.assert_array_equal(m[3], [0., 0., 0., 1.])


def test_backbone_bond_lengths_from_default_frames():
  for restype in range(rc.restype_num):
    pos = _rebuild_literature_positions(restype)
    assert np.linalg.norm(pos['N'] - pos['CA']) == pytest.approx(1.46, abs=0.02)
    assert np.linalg.norm(pos['CA'] - pos['C']) == pytest.approx(1.52, abs=0.02)
    assert np.linalg.norm(pos['C'] - pos['O']) == pytest.approx(1.23, abs=0.02)


def test_literature_geometry_matches_stereo_chemistry():
  """Bonds and bond angles rebuilt with all chis 0 match Engh & Huber.

  Proline's ring closure (CD-N and what depends on it) needs the real chi
  angles, so those pairs are left out.
  """
  bonds, virtual_bonds, _ = rc.load_stereo_chemical_props()
  for restype in range(rc.restype_num):
    resname = rc.resnames[restype]
    pos = _rebuild_literature_positions(restype)
    for bond in bonds[resname] + virtual_bonds[resname]:
      pair = {bond.atom1_name, bond.atom2_name}
      if resname == 'PRO' and 'CD' in pair and pair & {'N', 'CA'}:
        continue
      if resname == 'PRO' and pair == {'CG', 'N'}:
        continue
      length = np.linalg.norm(pos[bond.atom1_name] - pos[bond.atom2_name])
      assert abs(length - bond.length) < 3 * bond.stddev, (resname, bond)


def test_atom14_and_atom37_tables_agree():
  for restype in range(rc.restype_num):
    for i in range(14):
      if rc.restype_atom14_mask[restype, i]:
        j = rc.restype_atom14_to_atom37[restype, i]
        assert rc.restype_atom37_mask[restype, j] == 1
        assert rc.restype_atom37_to_atom14[restype, j] == i
        assert (rc.restype_atom14_to_rigid_group[restype, i] ==
                rc.restype_atom37_to_rigid_group[restype, j])
        np.testing.assert_array_equal(
            rc.restype_atom14_rigid_group_positions[restype, i],
            rc.restype_atom37_rigid_group_positions[restype, j])


def test_chi_pi_periodic_marks_symmetric_residues():
  periodic = {rc.resnames[i] for i in range(21) if any(rc.chi_pi_periodic[i])}
  assert periodic == {'ASP', 'GLU', 'PHE', 'TYR'}
  assert set(rc.residue_atom_renaming_swaps) == periodic


def test_ambiguous_atoms_swap_table():
  phe = rc.restype_order['F']
  names = rc.restype_name_to_atom14_names['PHE']
  swap = rc.restype_atom14_ambiguous_atoms_swap_idx[phe]
  assert names[swap[names.index('CD1')]] == 'CD2'
  assert names[swap[names.index('CE2')]] == 'CE1'
  assert swap[names.index('CZ')] == names.index('CZ')
  assert rc.restype_atom14_ambiguous_atoms[phe].sum() == 4
  assert rc.restype_atom14_ambiguous_atoms.sum() == 2 + 2 + 4 + 4


def test_chi_atom_indices():
  arg = rc.restype_order['R']
  expected = [[rc.atom_order[a] for a in chi]
              for chi in rc.chi_angles_atoms['ARG']]
  np.testing.assert_array_equal(rc.chi_atom_indices[arg], expected)
  np.testing.assert_array_equal(rc.chi_atom_indices[rc.restype_order['G']], 0)


def test_hhblits_mapping():
  assert len(rc.MAP_HHBLITS_AATYPE_TO_OUR_AATYPE) == 22
  for letter, hh_id in rc.HHBLITS_AA_TO_ID.items():
    ours = rc.MAP_HHBLITS_AATYPE_TO_OUR_AATYPE[hh_id]
    if letter in rc.restype_order:
      assert ours == rc.restype_order[letter]
  assert rc.MAP_HHBLITS_AATYPE_TO_OUR_AATYPE[21] == 21  # gap


def test_sequence_to_onehot():
  one_hot = rc.sequence_to_onehot('AWX', rc.restype_order_with_x)
  assert one_hot.shape == (3, 21)
  np.testing.assert_array_equal(one_hot.argmax(-1), [0, 17, 20])
  one_hot = rc.sequence_to_onehot('AB', rc.restype_order_with_x,
                                  map_unknown_to_x=True)
  np.testing.assert_array_equal(one_hot.argmax(-1), [0, 20])
  with pytest.raises(ValueError):
    rc.sequence_to_onehot('A', {'A': 0, 'B': 2})


def test_stereo_chemical_props():
  bonds, virtual_bonds, angles = rc.load_stereo_chemical_props()
  assert len(bonds) == 21 and bonds['UNK'] == []
  ala = {(b.atom1_name, b.atom2_name): b for b in bonds['ALA']}
  assert ala[('N', 'CA')].length == pytest.approx(1.459)
  assert len(virtual_bonds['ALA']) == len(angles['ALA'])
  assert angles['ALA'][0].angle_rad == pytest.approx(np.deg2rad(110.1))


def test_atom14_dists_bounds():
  bounds = rc.make_atom14_dists_bounds()
  for key in ('lower_bound', 'upper_bound', 'stddev'):
    assert bounds[key].shape == (21, 14, 14)
    np.testing.assert_array_equal(bounds[key],
                                  np.swapaxes(bounds[key], -1, -2))
  ala = rc.restype_order['A']
  n, ca, cb = 0, 1, 4
  # N-CA is a bond: 1.459 +- 15 * 0.020.
  assert bounds['lower_bound'][ala, n, ca] == pytest.approx(1.459 - 0.3)
  assert bounds['upper_bound'][ala, n, ca] == pytest.approx(1.459 + 0.3)
  # N-CB is an angle's outer pair; O-CB a clash pair (C + O radii - 1.5).
  assert bounds['lower_bound'][ala, n, cb] < 2.46 < bounds['upper_bound'][
      ala, n, cb] < 3.
  assert bounds['lower_bound'][ala, 3, cb] == pytest.approx(1.7 + 1.52 - 1.5)
  assert bounds['upper_bound'][ala, 3, cb] == pytest.approx(1e10)
  assert not bounds['lower_bound'][rc.unk_restype_index].any()
  # Proline's ring-closing C-N bond: 1.474 +- 15 * 0.014.
  pro = rc.restype_order['P']
  names = rc.restype_name_to_atom14_names['PRO']
  cd, n = names.index('CD'), names.index('N')
  assert bounds['lower_bound'][pro, cd, n] == pytest.approx(1.474 - 0.21)
  assert bounds['upper_bound'][pro, n, cd] == pytest.approx(1.474 + 0.21)
  assert bounds['stddev'][pro, cd, n] == pytest.approx(0.014)


def test_between_residue_constants():
  assert rc.between_res_bond_length_c_n == [1.329, 1.341]
  assert np.rad2deg(np.arccos(rc.between_res_cos_angles_c_n_ca[0])) == (
      pytest.approx(121.35, abs=0.01))
