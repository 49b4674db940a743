"""jackhmmer through pyhmmer on real sequences."""
import pathlib

import numpy as np
import pytest

from alphafold_jax.data import msa as msa_lib
from alphafold_jax.data import parsers
from alphafold_jax.data.tools import jackhmmer

TESTDATA = pathlib.Path(__file__).parent / 'testdata'


@pytest.fixture(scope='module')
def database(golden_dir, tmp_path_factory):
  """The golden case's homologues (ungapped) mixed with 39 unrelated PDB
  chains; returns (path, query, homologue names)."""
  sequences, names = parsers.parse_fasta(
      (golden_dir / 'small' / 'msa.a3m').read_text())
  unrelated = (TESTDATA / 'pdb_chains.fasta').read_text()
  records = [f'>{n.split()[0]}\n{s.replace("-", "").upper()}\n'
             for s, n in zip(sequences[1:], names[1:])]
  path = tmp_path_factory.mktemp('db') / 'db.fasta'
  path.write_text(unrelated + ''.join(records))
  return str(path), sequences[0], {n.split()[0] for n in names[1:]}


def test_jackhmmer_finds_homologues_only(database):
  path, query, homologues = database
  sto = jackhmmer.Jackhmmer(path, cpus=1).query(query)
  msa = parsers.parse_stockholm(sto)
  assert msa.sequences[0] == query
  found = {d.split('/')[0] for d in msa.descriptions[1:]}
  assert found <= homologues
  assert len(found) >= 0.8 * len(homologues)
  features = msa_lib.make_msa_features([msa])
  assert features['msa'].shape[1] == len(query)
  assert np.all(features['deletion_matrix_int'] >= 0)


def test_jackhmmer_errors(tmp_path):
  with pytest.raises(FileNotFoundError, match='missing.fasta'):
    jackhmmer.Jackhmmer(str(tmp_path / 'missing.fasta'))
  empty = tmp_path / 'empty.fasta'
  empty.write_text('')
  with pytest.raises(ValueError, match='empty.fasta'):
    jackhmmer.Jackhmmer(str(empty)).query('MKV')


def test_jackhmmer_without_hits_returns_the_query_alone():
  query = 'YKNILTLISVNNDNFENYFRKIFLDVRSSGSKKTTINVFTEIQYQ'
  sto = jackhmmer.Jackhmmer(str(TESTDATA / 'pdb_chains.fasta'),
                            cpus=1).query(query)
  msa = parsers.parse_stockholm(sto)
  assert msa.sequences == (query,)
