"""Species codes of UniProt entry names (MSA pairing of AlphaFold-Multimer)."""
import numpy as np
import pytest

from alphafold_jax.data import msa as msa_lib
from alphafold_jax.data import parsers
from alphafold_jax.data.msa_identifiers import species_identifier


@pytest.mark.parametrize('description, species', [
    ('sp|P12345|ABC_HUMAN', 'HUMAN'),
    ('sp|P69905|HBA_HUMAN Hemoglobin subunit alpha OS=Homo sapiens', 'HUMAN'),
    ('tr|A0A0A0MRZ7|A0A0A0MRZ7_MOUSE/12-140', 'MOUSE'),
    ('sp|P0A7Z4_1|RPOA_ECOLI', 'ECOLI'),     # isoform suffix on the accession
    ('tr|A0A1B2C3D4|A0A1B2C3D4_9BACT_123', '9BACT'),  # small BFD numbering
    ('  sp|Q9XYZ1|AB_DROME  ', 'DROME'),
])
def test_uniprot_entry_names_give_the_species(description, species):
  assert species_identifier(description) == species


@pytest.mark.parametrize('description', [
    '', 'query', '101M_A mol:protein', 'UniRef90_P69905', 'MGYP000123456789',
    'sp|P12345|ABCHUMAN',           # no species after an underscore
    'xx|P12345|ABC_HUMAN',          # not Swiss-Prot or TrEMBL
    'sp|P12345|ABC_TOOLONG',        # species codes have at most 5 characters
])
def test_other_names_have_no_species(description):
  assert species_identifier(description) == ''


def test_make_msa_features_records_each_kept_rows_species():
  text = ('# STOCKHOLM 1.0\n'
          'query                      MKLV\n'
          'sp|P11111|AAA_HUMAN/2-5    MKIV\n'
          'tr|Q22222|Q22222_YEAST/1-4 MRLV\n'
          'sp|P33333|BBB_MOUSE/1-4    MKIV\n'   # duplicate row: dropped
          'UniRef90_X                 AKLV\n'
          '//\n')
  features = msa_lib.make_msa_features([parsers.parse_stockholm(text)])
  assert features['msa'].shape == (4, 4)
  np.testing.assert_array_equal(
      features['msa_species_identifiers'],
      np.array([b'', b'HUMAN', b'YEAST', b''], dtype=object))
