"""Parsers of FASTA, A3M, Stockholm and HHR text."""
import functools
import pathlib

import hypothesis
import numpy as np
import pytest

from alphafold_jax.data import msa as msa_lib
from alphafold_jax.data import parsers
from alphafold_jax.data import templates
from tests import damaged_files

TESTDATA = pathlib.Path(__file__).parent / 'testdata'
FIXTURES = pathlib.Path(__file__).parents[1] / 'fixtures'

STOCKHOLM = """# STOCKHOLM 1.0

#=GS query DE the query
query   MK--LV.A
hit1    MKaaLV-A
hit2    M---.VGA
#=GC RF xx..xx.x

query   GG
hit1    GA
hit2    --
//
"""

HHR = """Query         query
Match_columns 8
No_of_seqs    1 out of 1

 No Hit                             Prob E-value P-value  Score    SS Cols Query HMM  Template HMM
  1 1ABC_A Protein                  99.9 1.1E-20 2.2E-24  100.0   0.0    6    1-8       3-9 (20)

No 1
>1ABC_A Protein; 2.00A {Homo sapiens}
Probab=99.90  E-value=1.1e-20  Score=100.00  Aligned_cols=6  Identities=50%  Similarity=0.5  Sum_probs=5.5  Template_Neff=1.000

Q ss_pred             CCCC
Q query            1 MKLV   4 (8)
Q Consensus      1 mklv   4 (8)
                   |+||
T Consensus      3 m-lv   5 (20)
T 1ABC_A         3 M-LV   5 (20)
T ss_dssp          CCCC

Q query            5 A--GG   7 (8)
T 1ABC_A         6 AWWG-   9 (20)

No 2
>2XYZ_B Other
Probab=50.00  E-value=1  Score=10.00  Aligned_cols=2  Identities=50%  Similarity=0.5  Sum_probs=1.0  Template_Neff=1.000

Q query            2 KL   3 (8)
T 2XYZ_B         1 KL   2 (50)
"""


def test_parse_fasta_and_query_checks():
  sequences, descriptions = parsers.parse_fasta('>a desc\nMKV\nLL\n\n>b\nAC\n')
  assert sequences == ['MKVLL', 'AC'] and descriptions == ['a desc', 'b']
  assert parsers.parse_query_fasta('>q1 x\nmkv\n>q2\nAC') == [
      ('q1', 'MKV'), ('q2', 'AC')]
  with pytest.raises(parsers.ParseError, match='q.fasta.*empty sequence'):
    parsers.parse_query_fasta('>a\n>b\nMK\n', 'q.fasta')
  with pytest.raises(parsers.ParseError, match='not amino acids.*1'):
    parsers.parse_query_fasta('>a\nMK1V\n')
  with pytest.raises(parsers.ParseError, match="duplicate.*'a'"):
    parsers.parse_query_fasta('>a\nMK\n>a x\nLV\n')
  with pytest.raises(parsers.ParseError, match='no FASTA records'):
    parsers.parse_query_fasta('\n')
  with pytest.raises(parsers.ParseError, match='line 1'):
    parsers.parse_fasta('MKV\n>a\nMK')


def test_parse_a3m_deletions():
  msa = parsers.parse_a3m('>q\nMKLV\n>h\nMabK-Vc\n>g\nxMKLVyy\n')
  assert msa.sequences == ('MKLV', 'MK-V', 'MKLV')
  assert msa.deletion_matrix == ((0, 0, 0, 0), (0, 2, 0, 0), (1, 0, 0, 0))
  with pytest.raises(parsers.ParseError, match='x.a3m.*3 aligned columns'):
    parsers.parse_a3m('>q\nMKLV\n>h\nMKL\n', 'x.a3m')


def test_parse_a3m_golden(golden_dir):
  text = (golden_dir / 'small' / 'msa.a3m').read_text()
  features = msa_lib.make_msa_features([parsers.parse_a3m(text)])
  raw = np.load(golden_dir / 'small' / 'raw_features.npz')
  np.testing.assert_array_equal(features['msa'], raw['msa'])
  np.testing.assert_array_equal(features['deletion_matrix_int'],
                                raw['deletion_matrix_int'])
  np.testing.assert_array_equal(features['num_alignments'],
                                raw['num_alignments'])


def test_parse_stockholm_insert_columns():
  msa = parsers.parse_stockholm(STOCKHOLM)
  assert msa.descriptions == ('query', 'hit1', 'hit2')
  assert msa.sequences == ('MKLVAGG', 'MKLVAGA', 'M--VA--')
  # hit1 has two residues in the query's gap columns before L; hit2 has G in
  # the insert column before A.
  assert msa.deletion_matrix == ((0,) * 7, (0, 0, 2, 0, 0, 0, 0),
                                 (0, 0, 0, 0, 1, 0, 0))


def test_stockholm_names_keep_their_dots():
  msa = parsers.parse_stockholm('q MK.V\nUniRef90_X1.2/3-5 MKAV\n')
  assert msa.descriptions == ('q', 'UniRef90_X1.2/3-5')
  assert msa.sequences == ('MKV', 'MKV') and msa.deletion_matrix[1] == (0, 0, 1)


def test_stockholm_to_a3m_round_trip():
  a3m = parsers.stockholm_to_a3m(STOCKHOLM, max_sequences=2)
  assert a3m.splitlines()[1::2] == ['MKLVAGG', 'MKaaLVAGA']
  assert parsers.parse_a3m(a3m) == parsers.parse_stockholm(STOCKHOLM).truncate(2)


def test_parse_hhr():
  hits = parsers.parse_hhr(HHR)
  assert [h.index for h in hits] == [1, 2]
  hit = hits[0]
  assert hit.name.startswith('1ABC_A') and hit.aligned_cols == 6
  assert hit.sum_probs == pytest.approx(5.5)
  assert hit.query == 'MKLVA--GG' and hit.hit_sequence == 'M-LVAWWG-'
  assert hit.indices_query == (0, 1, 2, 3, 4, -1, -1, 5, 6)
  assert hit.indices_hit == (2, -1, 3, 4, 5, 6, 7, 8, -1)
  assert hits[1].indices_query == (1, 2) and hits[1].indices_hit == (0, 1)


def test_parse_hmmsearch_stockholm():
  text = ('# STOCKHOLM 1.0\n1abc_A/3-9 MKa.LV-\n2xyz_B/1-4 -K..LVA\n//\n')
  hits = parsers.parse_hmmsearch_stockholm(text, 'MKLVA')
  assert hits[0].name == '1abc_A' and hits[0].hit_sequence == 'MKALV-'
  assert hits[0].indices_hit == (2, 3, 5, 6, -1)
  assert hits[1].indices_hit == (-1, 0, 1, 2, 3)
  assert hits[1].aligned_cols == 4
  with pytest.raises(parsers.ParseError, match='match columns'):
    parsers.parse_hmmsearch_stockholm(text, 'MKL')


def test_msa_features_deduplicate_across_alignments():
  first = parsers.parse_a3m('>q\nMKLV\n>a\nMK-V\n')
  second = parsers.parse_a3m('>q\nMKLV\n>b\nMKaa-V\n>c\nAKLV\n')
  features = msa_lib.make_msa_features([first, second])
  assert features['msa'].shape == (3, 4)
  np.testing.assert_array_equal(features['num_alignments'], [3] * 4)
  with pytest.raises(ValueError, match='columns'):
    msa_lib.make_msa_features([first, parsers.parse_a3m('>q\nMK\n')])
  # The parsers reject such a row; an Msa built by hand reaches the check.
  starred = parsers.Msa(('MKLV', 'MK*V'), ((0,) * 4,) * 2, ('q', 's'))
  with pytest.raises(ValueError, match="MSA 1 .*'\\*'"):
    msa_lib.make_msa_features([first, starred])


# Damaged copies of real search outputs: each parses into something the
# features can use, or raises ParseError naming the file; never anything else.
_GOLDEN_A3M = FIXTURES / 'golden' / 'small' / 'msa.a3m'
# jackhmmer (pyhmmer) of the golden query against its homologues and the
# decoys of testdata/pdb_chains.fasta; HHsearch of a BPTI mutant against
# BPTI and the decoys (see testdata/README.md).
_STOCKHOLM = TESTDATA / 'small_uniref90_hits.sto'
_HHR = TESTDATA / '5pti_mutant_pdb_hits.hhr'
_HHR_QUERY = TESTDATA / '5pti_mutant.fasta'
_FASTA = TESTDATA / '5pti_mutant.fasta'


@functools.lru_cache(maxsize=None)
def _template_featurizer():
  """Over testdata/mmcif (5PTI, 1YJP); no aligner, so a hit whose sequence
  is not its entry's SEQRES is skipped."""
  return templates.TemplateFeaturizer(str(TESTDATA / 'mmcif'), '2100-01-01')


def _parse_or_parse_error(data, source, parse):
  """parse(text) of the damaged bytes, or None after a ParseError that
  names `source`."""
  try:
    return parse(parsers.decode_text(data, source))
  except parsers.ParseError as e:
    assert source in str(e)
    return None


@damaged_files.FUZZ_SETTINGS
@hypothesis.given(damaged_files.damaged_copies(_GOLDEN_A3M.read_bytes()))
def test_damaged_a3m_parses_or_raises_parse_error(data):
  msa = _parse_or_parse_error(
      data, 'msas/bfd_uniclust_hits.a3m',
      lambda text: parsers.parse_a3m(text, 'msas/bfd_uniclust_hits.a3m'))
  if msa is not None:
    features = msa_lib.make_msa_features([msa])
    assert features['msa'].shape == features['deletion_matrix_int'].shape


@damaged_files.FUZZ_SETTINGS
@hypothesis.given(damaged_files.damaged_copies(_STOCKHOLM.read_bytes()))
def test_damaged_stockholm_parses_or_raises_parse_error(data):
  source = 'msas/uniref90_hits.sto'
  msa = _parse_or_parse_error(
      data, source, lambda text: parsers.parse_stockholm(text, source))
  if msa is not None:
    features = msa_lib.make_msa_features([msa])
    assert features['msa'].shape == features['deletion_matrix_int'].shape
    # The same text handed to HHsearch.
    a3m = parsers.stockholm_to_a3m(parsers.decode_text(data), source)
    assert parsers.parse_a3m(a3m) == msa


def test_real_stockholm_and_hhr_parse():
  """The undamaged fixtures of the fuzz tests parse (so a ParseError there
  is the damage's)."""
  msa = parsers.parse_stockholm(_STOCKHOLM.read_text())
  assert len(msa) > 10 and len(set(map(len, msa.sequences))) == 1
  (_, query), = parsers.parse_query_fasta(_HHR_QUERY.read_text())
  hits = parsers.parse_hhr(_HHR.read_text())
  assert len(hits) == 10 and hits[0].name == '5PTI_A'
  assert hits[0].query.replace('-', '') == query


@damaged_files.FUZZ_SETTINGS
@hypothesis.given(damaged_files.damaged_copies(_HHR.read_bytes()))
def test_damaged_hhr_parses_or_raises_parse_error(data):
  source = 'msas/pdb_hits.hhr'
  hits = _parse_or_parse_error(
      data, source, lambda text: parsers.parse_hhr(text, source))
  if hits is not None:
    (_, query), = parsers.parse_query_fasta(_HHR_QUERY.read_text())
    for hit in hits:
      assert len(hit.query) == len(hit.hit_sequence) == len(
          hit.indices_query) == len(hit.indices_hit)
    # The template features take whatever parsed: a bad hit is skipped.
    result = _template_featurizer().get_templates(query, hits)
    assert len(result.features['template_aatype']) <= 1


@damaged_files.FUZZ_SETTINGS
@hypothesis.given(damaged_files.damaged_copies(_FASTA.read_bytes()))
def test_damaged_query_fasta_parses_or_raises_parse_error(data):
  records = _parse_or_parse_error(
      data, 'q.fasta', lambda text: parsers.parse_query_fasta(text, 'q.fasta'))
  if records is not None:
    for _, sequence in records:
      assert sequence and sequence.isupper()


# The project's hmmsearch (pyhmmer) of the BPTI mutant against BPTI's SEQRES
# and the decoys (see testdata/README.md).
_HMMSEARCH = TESTDATA / '5pti_mutant_pdb_hits.sto'


def test_real_hmmsearch_output_parses():
  (_, query), = parsers.parse_query_fasta(_HHR_QUERY.read_text())
  hits = parsers.parse_hmmsearch_stockholm(_HMMSEARCH.read_text(), query)
  assert hits[0].name == '5pti_A' and len(hits) == 6


@damaged_files.FUZZ_SETTINGS
@hypothesis.given(damaged_files.damaged_copies(_HMMSEARCH.read_bytes()))
def test_damaged_hmmsearch_output_parses_or_raises_parse_error(data):
  source = 'msas/pdb_hits.sto'
  (_, query), = parsers.parse_query_fasta(_HHR_QUERY.read_text())
  hits = _parse_or_parse_error(
      data, source,
      lambda text: parsers.parse_hmmsearch_stockholm(text, query, source))
  if hits is not None:
    for hit in hits:
      assert len(hit.indices_hit) == len(query)
    result = _template_featurizer().get_templates(query, hits)
    assert len(result.features['template_aatype']) <= len(hits)
