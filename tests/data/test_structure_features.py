"""Single-sequence raw features from a structure file."""
import pathlib

import numpy as np

from alphafold_jax.common import residue_constants
from alphafold_jax.data import structure_features

PDB = pathlib.Path(__file__).parents[1] / 'fixtures' / 'data' / '3a4rA.pdb.gz'
NUM_RES = 79


def test_raw_features_hold_the_query_and_the_structure():
  prot = structure_features.read_structure(PDB, 'A')
  raw = structure_features.raw_features_from_protein(prot, resolution=1.5)
  assert raw['aatype'].shape == (NUM_RES, residue_constants.restype_num + 1)
  np.testing.assert_array_equal(raw['aatype'].sum(-1), 1)
  assert raw['msa'].shape == raw['deletion_matrix_int'].shape == (1, NUM_RES)
  np.testing.assert_array_equal(raw['deletion_matrix_int'], 0)
  # The MSA row is the query, in HHblits codes.
  letters = ''.join(residue_constants.ID_TO_HHBLITS_AA[i]
                    for i in raw['msa'][0])
  assert letters == ''.join(residue_constants.restypes_with_x[i]
                            for i in raw['aatype'].argmax(-1))
  assert letters.startswith('GPLGSQEL')
  np.testing.assert_array_equal(raw['seq_length'], NUM_RES)
  np.testing.assert_array_equal(raw['num_alignments'], 1)
  assert raw['all_atom_positions'].shape == (
      NUM_RES, residue_constants.atom_type_num, 3)
  ca = residue_constants.atom_order['CA']
  np.testing.assert_array_equal(raw['all_atom_mask'][:, ca], 1.)
  assert float(raw['resolution']) == 1.5


def test_first_chain_is_read_when_none_is_named():
  by_default = structure_features.read_structure(PDB)
  named = structure_features.read_structure(PDB, 'A')
  np.testing.assert_array_equal(by_default.aatype, named.aatype)
