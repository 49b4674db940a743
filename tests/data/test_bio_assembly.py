"""Biological assemblies: operator expressions, the crystal-symmetry copy
of 1YJP's peptide, and the deposited chains of an entry without one."""
import gzip

import numpy as np
import pytest

from alphafold_jax.data import bio_assembly
from alphafold_jax.data import mmcif as mmcif_lib
from alphafold_jax.data.datasets import complexes
from tests.data.datasets.complex_inputs import DATA

# 1YJP's assembly: its chain and the copy made by the crystal symmetry
# operation 2_555, -x, y+1/2, -z (b = 4.866 Å).
SYMMETRY_ROTATION = np.diag([-1., 1., -1.])
SYMMETRY_TRANSLATION = np.array([0., 2.433, 0.])


def test_operator_expressions():
  parse = bio_assembly.parse_operator_expression
  assert parse('1') == [['1']]
  assert parse('1,2') == [['1'], ['2']]
  assert parse('(1-3)') == [['1'], ['2'], ['3']]
  assert parse('(1,2)(3-4)') == [['1', '3'], ['1', '4'], ['2', '3'],
                                 ['2', '4']]
  assert parse('P') == [['P']]
  for bad in ('', '?', '(1', '1)(2)', '(3-1)'):
    with pytest.raises(mmcif_lib.MmcifError):
      parse(bad)


def test_a_symmetry_copy_is_added_with_the_operator_applied():
  path = str(DATA / '1YJP.cif.gz')
  chains = bio_assembly.first_assembly(mmcif_lib.read(path))
  assert [(c.auth_chain_id, c.operator) for c in chains] == [('A', '1'),
                                                             ('A', '2')]
  np.testing.assert_allclose(chains[1].rotation, SYMMETRY_ROTATION)
  np.testing.assert_allclose(chains[1].translation, SYMMETRY_TRANSLATION)

  complex_ = complexes.read_complex(path)
  assert [c.chain_id for c in complex_.chains] == ['A-1', 'A-2']
  assert {c.source_chain for c in complex_.chains} == {'1yjp_A'}
  first, copy = complex_.chains
  mask = first.all_atom_mask > 0
  assert mask.sum() > 50
  np.testing.assert_array_equal(copy.all_atom_mask, first.all_atom_mask)
  np.testing.assert_allclose(
      copy.all_atom_positions[mask],
      first.all_atom_positions[mask] @ SYMMETRY_ROTATION.T +
      SYMMETRY_TRANSLATION, atol=1e-4)
  assert not copy.all_atom_positions[~mask].any()
  # The two strands of the steric zipper touch.
  assert complexes.interfaces(complex_.chains) == [(0, 1)]


def test_an_entry_without_assembly_gives_its_deposited_chains(tmp_path):
  with gzip.open(DATA / '5PTI.cif.gz', 'rt') as f:
    lines = f.readlines()
  kept = [l for l in lines if not l.startswith(('_pdbx_struct_assembly',
                                                '_pdbx_struct_oper_list'))]
  assert len(kept) < len(lines)
  path = tmp_path / '5pti.cif'
  path.write_text(''.join(kept))
  entry = mmcif_lib.read(str(path))
  assert entry.assembly_info == {}
  chains = bio_assembly.first_assembly(entry)
  assert [(c.auth_chain_id, c.operator) for c in chains] == [('A', '1')]
  complex_ = complexes.read_complex(str(path))
  positions, _ = mmcif_lib.get_atom_positions(entry, 'A')
  np.testing.assert_array_equal(complex_.chains[0].all_atom_positions,
                                positions)


def test_an_unknown_operator_is_an_error_naming_the_file(tmp_path):
  with gzip.open(DATA / '1YJP.cif.gz', 'rt') as f:
    text = f.read()
  text = text.replace('_pdbx_struct_assembly_gen.oper_expression   1,2',
                      '_pdbx_struct_assembly_gen.oper_expression   1,7')
  path = tmp_path / '1yjp.cif'
  path.write_text(text)
  skipped = complexes.read_complex(str(path))
  assert "operator '7' is not in _pdbx_struct_oper_list" in skipped.reason
  assert skipped.source == '1yjp.cif'
