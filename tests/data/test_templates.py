"""Template search and features: hmmsearch hits and HHR hits -> mmCIF ->
features, with the reference's filters."""
import gzip
import os
import pathlib
import tempfile

import hypothesis
import numpy as np
import pytest
from Bio import Align

from alphafold_jax.common import residue_constants
from alphafold_jax.data import mmcif as mmcif_lib
from alphafold_jax.data import parsers
from alphafold_jax.data import templates
from alphafold_jax.data.tools import hmmsearch
from tests import damaged_files

TESTDATA = pathlib.Path(__file__).parent / 'testdata'
MMCIF_DIR = str(TESTDATA / 'mmcif')


@pytest.fixture(scope='module')
def bpti():
  return mmcif_lib.read(str(TESTDATA / 'mmcif' / '5PTI.cif.gz'))


def _mutate(sequence, positions):
  swap = {'A': 'S', 'K': 'R', 'R': 'K', 'C': 'S', 'F': 'Y', 'Y': 'F'}
  return ''.join(swap.get(r, 'A') if i in positions else r
                 for i, r in enumerate(sequence))


class _PairwiseAligner:
  """A stand-in for kalign: global alignment of two sequences (Biopython)."""

  def align(self, sequences):
    aligner = Align.PairwiseAligner(mode='global', open_gap_score=-5,
                                    extend_gap_score=-1)
    alignment = aligner.align(*sequences)[0]
    return ''.join(f'>s{i}\n{row}\n' for i, row in enumerate(alignment))


def test_mmcif_header_and_chain(bpti):
  assert bpti.header['release_date'] == '1984-10-29'
  assert bpti.header['resolution'] == pytest.approx(1.0)
  assert 'x-ray diffraction' in bpti.header['structure_method']
  seqres = bpti.chain_to_seqres['A']
  assert seqres.startswith('RPDFCLEPPYTGPCKARIIRYFYNAKAG')
  positions, mask = mmcif_lib.get_atom_positions(bpti, 'A')
  assert positions.shape == (len(seqres), residue_constants.atom_type_num, 3)
  assert mask[:, residue_constants.atom_order['CA']].all()
  with pytest.raises(mmcif_lib.MmcifError, match='5pti.*chain'):
    mmcif_lib.get_atom_positions(bpti, 'Z')
  with pytest.raises(mmcif_lib.MmcifError, match='bad'):
    mmcif_lib.parse('data_x\n_cell.length_a 1\n', 'bad')


def test_hmmsearch_hit_to_template_features(bpti, tmp_path):
  seqres = bpti.chain_to_seqres['A']
  query = 'MG' + _mutate(seqres, {3, 10, 20, 30, 40, 50})
  database = tmp_path / 'seqres.fasta'
  database.write_text(
      f'>5pti_A mol:protein length:{len(seqres)}\n{seqres}\n'
      + (TESTDATA / 'pdb_chains.fasta').read_text())
  sto = hmmsearch.Hmmsearch(str(database), cpus=1).query(
      f"# STOCKHOLM 1.0\nquery {query}\n//\n")
  hits = parsers.parse_hmmsearch_stockholm(sto, query)
  assert hits[0].name == '5pti_A'
  featurizer = templates.TemplateFeaturizer(MMCIF_DIR, '2020-01-01')
  result = featurizer.get_templates(query, hits)
  features = result.features
  assert features['template_aatype'].shape == (1, len(query), 22)
  assert features['template_domain_names'][0] == b'5pti_A'
  positions, mask = mmcif_lib.get_atom_positions(bpti, 'A')
  # Query residue i + 2 is SEQRES residue i.
  aligned = features['template_all_atom_masks'][0].sum(-1) > 0
  assert aligned[2:].sum() >= len(seqres) - 2 and not aligned[:2].any()
  np.testing.assert_array_equal(
      features['template_all_atom_positions'][0, 2:][aligned[2:]],
      positions[aligned[2:]])
  letters = ''.join(residue_constants.ID_TO_HHBLITS_AA[i] for i in
                    features['template_aatype'][0].argmax(-1))
  for i in np.nonzero(aligned[2:])[0]:
    assert letters[i + 2] == seqres[i]
  np.testing.assert_array_equal(features['template_sum_probs'], [[0.]])


def test_filters(bpti):
  seqres = bpti.chain_to_seqres['A']
  query = _mutate(seqres, {5, 15, 25})
  hit = parsers.TemplateHit(
      index=1, name='5PTI_A mol:protein', aligned_cols=len(seqres),
      sum_probs=50., query=query, hit_sequence=seqres,
      indices_query=tuple(range(len(seqres))),
      indices_hit=tuple(range(len(seqres))))
  featurizer = templates.TemplateFeaturizer(MMCIF_DIR, '2020-01-01')
  assert featurizer.get_templates(query, [hit]).features[
      'template_aatype'].shape[0] == 1
  early = templates.TemplateFeaturizer(MMCIF_DIR, '1980-01-01')
  result = early.get_templates(query, [hit])
  assert result.features['template_aatype'].shape == (0, len(query), 22)
  assert 'released 1984-10-29' in result.errors[0]
  # The exact query sequence is a near-identical subsequence.
  result = featurizer.get_templates(seqres, [hit])
  assert 'near-identical' in result.errors[0]
  short = parsers.TemplateHit(1, '5PTI_A', 9, 1., query[:9], seqres[:9],
                              tuple(range(9)), tuple(range(9)))
  assert 'fewer than 10' in featurizer.get_templates(query, [short]).errors[0]
  sparse = parsers.TemplateHit(1, '5PTI_A', 5, 1., query[:12], seqres[:12],
                               tuple(range(12)), tuple(range(12)))
  assert 'aligned over' in featurizer.get_templates(query, [sparse]).errors[0]
  missing = parsers.TemplateHit(1, '9ZZZ_A', 50, 1., query[:50], seqres[:50],
                                tuple(range(50)), tuple(range(50)))
  assert 'no mmCIF file for 9zzz' in featurizer.get_templates(
      query, [missing]).errors[0]
  obsolete = templates.TemplateFeaturizer(MMCIF_DIR, '2020-01-01',
                                          obsolete_pdbs={'9zzz': '5pti'})
  assert obsolete.get_templates(query, [missing]).features[
      'template_aatype'].shape[0] == 1


# The head of the PDB's obsolete.dat: a title line, then one OBSLTE line per
# withdrawn entry (date, id, then the ids that replaced it, if any).
OBSOLETE_DAT = """\
 LIST OF OBSOLETE COORDINATE ENTRIES AND SUCCESSORS
OBSLTE    31-JUL-94 116L     216L
OBSLTE    29-FEB-96 1ACY
OBSLTE    15-OCT-98 9ZZZ     5PTI 1BPI
"""


def test_obsolete_pdbs_file_replaces_withdrawn_entries(bpti, tmp_path):
  """--obsolete_pdbs_path: each withdrawn id maps to its first successor
  (lower case, as the mmCIF files are named); one withdrawn without a
  successor maps to nothing. A hit on the withdrawn 9ZZZ then reads 5PTI."""
  path = tmp_path / 'obsolete.dat'
  path.write_text(OBSOLETE_DAT)
  mapping = templates.read_obsolete_pdbs(str(path))
  assert mapping == {'116l': '216l', '9zzz': '5pti'}
  seqres = bpti.chain_to_seqres['A']
  query = _mutate(seqres, {5, 15, 25})
  hit = parsers.TemplateHit(1, '9ZZZ_A', 50, 1., query[:50], seqres[:50],
                            tuple(range(50)), tuple(range(50)))
  featurizer = templates.TemplateFeaturizer(MMCIF_DIR, '2020-01-01',
                                            obsolete_pdbs=mapping)
  result = featurizer.get_templates(query, [hit])
  assert result.errors == ()
  assert result.features['template_domain_names'].tolist() == [b'5pti_A']


def test_hhr_hit_with_offsets_and_max_hits(bpti):
  seqres = bpti.chain_to_seqres['A']
  query = 'MKV' + _mutate(seqres[10:40], {2, 12})
  hhr = f"""No 1
>5PTI_A BPTI
Probab=99.0  E-value=1e-10  Score=50  Aligned_cols=30  Identities=90%  Similarity=1  Sum_probs=28.5  Template_Neff=1

Q query            4 {query[3:33]}   33 (33)
T 5PTI_A          11 {seqres[10:40]}   40 (58)
"""
  hits = parsers.parse_hhr(hhr)
  hits = hits + [hits[0]] * 3
  featurizer = templates.TemplateFeaturizer(MMCIF_DIR, '2020-01-01',
                                            max_hits=2)
  features = featurizer.get_templates(query, hits).features
  assert features['template_aatype'].shape[0] == 2
  positions, _ = mmcif_lib.get_atom_positions(bpti, 'A')
  np.testing.assert_array_equal(features['template_all_atom_positions'][0, 3:],
                                positions[10:40])
  assert not features['template_all_atom_masks'][0, :3].any()
  np.testing.assert_allclose(features['template_sum_probs'][:, 0], 28.5)


def test_realignment_when_hit_differs_from_seqres(bpti):
  seqres = bpti.chain_to_seqres['A']
  old_version = _mutate(seqres, {0, 1})[:20] + seqres[21:]  # one deletion
  query = _mutate(seqres, {30, 31, 32})
  n = len(old_version)
  hit = parsers.TemplateHit(1, '5PTI_A', n, 40., query[:n], old_version,
                            tuple(range(n)), tuple(range(n)))
  without = templates.TemplateFeaturizer(MMCIF_DIR, '2020-01-01')
  assert 'no aligner (kalign)' in without.get_templates(query, [hit]).errors[0]
  featurizer = templates.TemplateFeaturizer(MMCIF_DIR, '2020-01-01',
                                            aligner=_PairwiseAligner())
  result = featurizer.get_templates(query, [hit])
  assert result.warnings and 'realigned' in result.warnings[0]
  positions, _ = mmcif_lib.get_atom_positions(bpti, 'A')
  # Query 25 <-> old hit 25 <-> SEQRES 26 after the deletion at 20.
  np.testing.assert_array_equal(
      result.features['template_all_atom_positions'][0, 25], positions[26])



def test_mmcif_modified_residue_maps_to_parent():
  """1YJP (GNNQQNY) with residue 4 rewritten as selenomethionine (HETATM
  MSE, its CD renamed SE): the SEQRES letter is M and SE is stored as SD."""
  lines = []
  with gzip.open(TESTDATA / 'mmcif' / '1YJP.cif.gz', 'rt') as f:
    for line in f:
      fields = line.split()
      if line.startswith('1 4 GLN'):
        line = line.replace('GLN', 'MSE')
      elif line.startswith('ATOM') and fields[8] == '4':
        line = line.replace('ATOM  ', 'HETATM').replace('GLN', 'MSE')
        if fields[3] == 'CD':
          line = line.replace(' C CD  ', ' SE SE ').replace(' CD  1', ' SE  1')
      lines.append(line)
  structure = mmcif_lib.parse(''.join(lines), '1yjp')
  assert structure.chain_to_seqres['A'] == 'GNNMQNY'
  positions, mask = mmcif_lib.get_atom_positions(structure, 'A')
  sd, cd = residue_constants.atom_order['SD'], residue_constants.atom_order['CD']
  np.testing.assert_allclose(positions[3, sd], [2.504, 2.044, -0.089],
                             atol=1e-3)
  assert mask[3, sd] == 1 and mask[3, cd] == 0


def test_hmmsearch_hit_with_insertion_maps_around_it(bpti):
  """The template inserts residue 20 between query residues 19 and 20."""
  seqres = bpti.chain_to_seqres['A']
  query = _mutate(seqres[:20] + seqres[21:], {5, 30, 40})
  row = seqres[:20] + seqres[20].lower() + seqres[21:]
  sto = f'# STOCKHOLM 1.0\n5pti_A/1-{len(seqres)} {row}\n//\n'
  hits = parsers.parse_hmmsearch_stockholm(sto, query)
  featurizer = templates.TemplateFeaturizer(MMCIF_DIR, '2020-01-01')
  result = featurizer.get_templates(query, hits)
  assert not result.errors
  positions, _ = mmcif_lib.get_atom_positions(bpti, 'A')
  np.testing.assert_array_equal(
      result.features['template_all_atom_positions'][0],
      np.concatenate([positions[:20], positions[21:]]))


OBSOLETE = TESTDATA / 'obsolete.dat'


def test_read_obsolete_pdbs():
  assert templates.read_obsolete_pdbs(str(OBSOLETE)) == {
      '116l': '216l', '2h33': '2jm5', '1yjq': '1yjp', '3a4x': '3a4r'}


def test_damaged_obsolete_pdbs_is_named(tmp_path):
  path = tmp_path / 'obsolete.dat'
  text = OBSOLETE.read_text()
  path.write_text(text[:text.index('2JM5') + 2])
  with pytest.raises(parsers.ParseError,
                     match=f'{path}, line 4: not an OBSLTE record'):
    templates.read_obsolete_pdbs(str(path))
  path.write_bytes(b'OBSLTE    31-JUL-94 \xff16L     216L\n')
  with pytest.raises(parsers.ParseError, match=f'{path}: not UTF-8'):
    templates.read_obsolete_pdbs(str(path))
  with pytest.raises(parsers.ParseError, match='cannot read'):
    templates.read_obsolete_pdbs(str(tmp_path / 'absent.dat'))


@damaged_files.FUZZ_SETTINGS
@hypothesis.given(damaged_files.damaged_copies(OBSOLETE.read_bytes()))
def test_damaged_obsolete_pdbs_reads_or_raises_parse_error(data):
  with tempfile.TemporaryDirectory() as folder:
    path = os.path.join(folder, 'obsolete.dat')
    with open(path, 'wb') as f:
      f.write(data)
    try:
      mapping = templates.read_obsolete_pdbs(path)
    except parsers.ParseError as e:
      assert path in str(e)
      return
  assert all(len(k) == len(v) == 4 for k, v in mapping.items())


def _bpti_hhr_hit(bpti):
  """A query and its HHR hit on 5PTI_A that passes the hit filters."""
  seqres = bpti.chain_to_seqres['A']
  query = 'MKV' + _mutate(seqres[10:40], {2, 12})
  hhr = f"""No 1
>5PTI_A BPTI
Probab=99.0  E-value=1e-10  Score=50  Aligned_cols=30  Identities=90%  Similarity=1  Sum_probs=28.5  Template_Neff=1

Q query            4 {query[3:33]}   33 (33)
T 5PTI_A          11 {seqres[10:40]}   40 (58)
"""
  return query, parsers.parse_hhr(hhr)


def test_damaged_template_mmcif_stops_the_features(bpti, tmp_path):
  """A hit's mmCIF that does not read is the mmCIF folder's fault, named;
  a hit without an mmCIF is skipped."""
  query, hits = _bpti_hhr_hit(bpti)
  cif = tmp_path / '5pti.cif.gz'
  cif.write_bytes((TESTDATA / 'mmcif' / '5PTI.cif.gz').read_bytes()[:5000])
  featurizer = templates.TemplateFeaturizer(str(tmp_path), '2020-01-01')
  with pytest.raises(mmcif_lib.MmcifError,
                     match=f'{cif}: not a readable gzip file'):
    featurizer.get_templates(query, hits)
  cif.unlink()
  featurizer = templates.TemplateFeaturizer(str(tmp_path), '2020-01-01')
  result = featurizer.get_templates(query, hits)
  assert result.features['template_aatype'].shape[0] == 0
  assert 'no mmCIF file for 5pti' in result.errors[0]
