"""Tests for alphafold_jax/common/protein.py."""
import gzip

import numpy as np
import pytest

from alphafold_jax.common import protein
from alphafold_jax.common import residue_constants as rc


def _read(path):
  opener = gzip.open if path.suffix == '.gz' else open
  with opener(path, 'rt') as f:
    return f.read()


@pytest.fixture(scope='module')
def data_dir(fixtures_dir):
  return fixtures_dir / 'data'


def _assert_same_protein(a, b):
  np.testing.assert_array_equal(a.aatype, b.aatype)
  np.testing.assert_array_equal(a.atom_mask, b.atom_mask)
  np.testing.assert_array_equal(a.residue_index, b.residue_index)
  np.testing.assert_array_equal(a.chain_index, b.chain_index)
  np.testing.assert_allclose(a.atom_positions, b.atom_positions, atol=1e-3)
  np.testing.assert_allclose(a.b_factors, b.b_factors, atol=1e-2)


def test_from_pdb_string(data_dir):
  prot = protein.from_pdb_string(_read(data_dir / '2rbg.pdb'), chain_id='A')
  assert prot.atom_positions.shape == (len(prot.aatype), rc.atom_type_num, 3)
  # The first residues of the golden case's sequence.
  assert ''.join(rc.restypes_with_x[a] for a in prot.aatype[:5]) == 'YKNIL'
  assert set(np.unique(prot.chain_index)) == {0}
  # Backbone atoms are present and N-CA bonds have sane lengths.
  n, ca = rc.atom_order['N'], rc.atom_order['CA']
  assert prot.atom_mask[:, ca].all()
  bond = np.linalg.norm(prot.atom_positions[:, n] - prot.atom_positions[:, ca],
                        axis=-1)
  assert np.all(np.abs(bond - 1.46) < 0.1)
  # No atoms a residue type cannot have, other than the terminal OXT.
  extra = prot.atom_mask * (1 - protein.ideal_atom_mask(prot))
  extra[:, rc.atom_order['OXT']] = 0
  assert not extra.any()


def test_pdb_round_trip(data_dir):
  prot = protein.from_pdb_string(_read(data_dir / '1ahsA.pdb.gz'))
  pdb = protein.to_pdb(prot)
  _assert_same_protein(protein.from_pdb_string(pdb), prot)
  first_atom = pdb.splitlines()[0]
  assert first_atom[12:16] == ' N  ' and first_atom[76:78] == ' N'
  assert pdb.rstrip().endswith('END')


def test_mmcif_round_trip(data_dir):
  prot = protein.from_mmcif_string(_read(data_dir / '1YJP.cif.gz'))
  assert ''.join(rc.restypes_with_x[a] for a in prot.aatype) == 'GNNQQNY'
  again = protein.from_mmcif_string(protein.to_mmcif(prot))
  _assert_same_protein(again, prot)
  # mmCIF and PDB writers agree.
  _assert_same_protein(protein.from_pdb_string(protein.to_pdb(prot)), prot)


def test_multichain_mmcif(data_dir):
  text = _read(data_dir / '7ETN.cif.gz')
  prot = protein.from_mmcif_string(text)
  np.testing.assert_array_equal(prot.chain_index, [0] * 4 + [1] * 4)
  assert ''.join(rc.restypes_with_x[a] for a in prot.aatype) == 'PFLI' * 2
  chain_b = protein.from_mmcif_string(text, chain_id='B')
  np.testing.assert_allclose(chain_b.atom_positions, prot.atom_positions[4:])
  _assert_same_protein(protein.from_mmcif_string(protein.to_mmcif(prot)), prot)
  pdb = protein.to_pdb(prot)
  assert pdb.count('TER') == 2
  _assert_same_protein(protein.from_pdb_string(pdb), prot)
  with pytest.raises(ValueError, match=r"chain 'C'"):
    protein.from_mmcif_string(text, chain_id='C')


def test_b_factors_carry_plddt(data_dir):
  prot = protein.from_mmcif_string(_read(data_dir / '1YJP.cif.gz'))
  plddt = np.linspace(10., 99., len(prot.aatype))
  features = {'aatype': prot.aatype[None],
              'residue_index': prot.residue_index[None] - 1}
  result = {'structure_module': {'final_atom_positions': prot.atom_positions,
                                 'final_atom_mask': prot.atom_mask}}
  predicted = protein.from_prediction(features, result, b_factors=plddt)
  np.testing.assert_array_equal(predicted.residue_index, prot.residue_index)
  for text, reader in ((protein.to_pdb(predicted), protein.from_pdb_string),
                       (protein.to_mmcif(predicted),
                        protein.from_mmcif_string)):
    back = reader(text)
    expected = np.repeat(plddt[:, None], rc.atom_type_num, -1) * prot.atom_mask
    np.testing.assert_allclose(back.b_factors, expected, atol=5e-3)


def test_from_prediction_flat_keys():
  n = 3
  positions = np.random.default_rng(0).normal(size=(n, rc.atom_type_num, 3))
  mask = rc.restype_atom37_mask[[0, 7, 17]]
  prot = protein.from_prediction(
      {'aatype': np.array([0, 7, 17]), 'residue_index': np.arange(n)},
      {'structure_module/final_atom_positions': positions,
       'structure_module/final_atom_mask': mask})
  np.testing.assert_array_equal(prot.residue_index, [1, 2, 3])
  np.testing.assert_array_equal(prot.b_factors, 0.)
  assert protein.to_pdb(prot).count('ATOM') == int(mask.sum())


def test_truncated_mmcif_is_rejected(data_dir):
  text = _read(data_dir / '1YJP.cif.gz')
  lines = text.splitlines(keepends=True)
  first_atom = next(i for i, l in enumerate(lines) if l.startswith('ATOM'))
  cut_between_atoms = ''.join(lines[:first_atom + 20])
  with pytest.raises(ValueError, match=r'1YJP\.cif.*truncated'):
    protein.from_mmcif_string(cut_between_atoms, source='1YJP.cif')
  cut_inside_atom = cut_between_atoms + lines[first_atom + 20][:30]
  with pytest.raises(ValueError, match=r'1YJP\.cif.*truncated'):
    protein.from_mmcif_string(cut_inside_atom, source='1YJP.cif')
  cut_before_atoms = ''.join(lines[:first_atom - 5])
  with pytest.raises(ValueError, match=r'1YJP\.cif.*_atom_site'):
    protein.from_mmcif_string(cut_before_atoms, source='1YJP.cif')


def test_malformed_pdb_is_rejected(data_dir):
  text = _read(data_dir / '1ahsA.pdb.gz')
  with pytest.raises(ValueError, match=r'x\.pdb.*truncated'):
    protein.from_pdb_string(text[:len(text) // 2], source='x.pdb')
  with pytest.raises(ValueError, match=r'x\.pdb: no atoms'):
    protein.from_pdb_string('HEADER nothing here\nEND\n', source='x.pdb')


def test_modified_and_unknown_residues():
  pdb = '\n'.join([
      'HETATM    1  N   MSE A   1      11.104   6.134  -6.504  1.00 10.00           N',
      'HETATM    2  CA  MSE A   1      11.639   6.071  -5.147  1.00 10.00           C',
      'HETATM    3  SE  MSE A   1      12.000   7.000  -4.000  1.00 10.00          SE',
      'ATOM      4  N   XYZ A   2      13.104   6.134  -6.504  1.00 10.00           N',
      'ATOM      5  CA  XYZ A   2      13.639   6.071  -5.147  1.00 10.00           C',
      'HETATM    6  O   HOH A   3      20.000  20.000  20.000  1.00 10.00           O',
      'END', ''])
  prot = protein.from_pdb_string(pdb)
  np.testing.assert_array_equal(prot.aatype, [rc.restype_order['M'],
                                              rc.unk_restype_index])
  assert prot.atom_mask[0, rc.atom_order['SD']] == 1
  assert 'UNK' in protein.to_pdb(prot)


def test_protein_validates_shapes():
  with pytest.raises(ValueError, match='atom_mask'):
    protein.Protein(atom_positions=np.zeros([2, 37, 3]),
                    aatype=np.zeros([2], np.int32),
                    atom_mask=np.zeros([2, 14]),
                    residue_index=np.arange(2), chain_index=np.zeros(2),
                    b_factors=np.zeros([2, 37]))
