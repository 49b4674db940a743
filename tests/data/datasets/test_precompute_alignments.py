"""Precomputing a training set's alignments: real jackhmmer and hmmsearch
(pyhmmer) searches of small databases (the decoy PDB chains of
tests/data/testdata and a BPTI mutant) for the chains of real structures."""
import collections
import json
import logging
import os
import pathlib
import shutil
import subprocess
import sys

import pytest

from alphafold_jax.data import parsers
from alphafold_jax.data.datasets import alignments
from alphafold_jax.data.datasets import chains as chains_lib
from alphafold_jax.data.datasets import filters
from alphafold_jax.data.datasets import pdb_builder
from alphafold_jax.data.datasets import precompute_alignments as precompute
from alphafold_jax.data.tools import hmmsearch
from alphafold_jax.data.tools import jackhmmer

ROOT = pathlib.Path(__file__).parents[3]
DATA = ROOT / 'tests' / 'fixtures' / 'data'
TESTDATA = ROOT / 'tests' / 'data' / 'testdata'
# 6PTI is a copy of 5PTI (the same sequence in two entries); 7ETN's chains A
# and B are copies of one peptide (a homomer).
STRUCTURES = {'5PTI.cif.gz': '5PTI.cif.gz', '6PTI.cif.gz': '5PTI.cif.gz',
              '7ETN.cif.gz': '7ETN.cif.gz', '1i8nA.pdb.gz': '1i8nA.pdb.gz'}
CHAINS = ('1i8n_A', '5pti_A', '6pti_A', '7etn_A', '7etn_B')
BAD_FILES = {'8bad.cif': b'data_8bad\nloop_\n_atom_site.id\n',
             '9bad.cif.gz': b'not a gzip file'}
DATABASES = ('uniref90', 'mgnify', 'small_bfd', 'pdb_seqres', 'uniprot')
OUTPUTS = {alignments.UNIREF90, alignments.MGNIFY, alignments.SMALL_BFD,
           precompute.PDB_SEQRES, precompute.UNIPROT}


def _make_inputs(root):
  """Structure folder and databases (one copy of the same sequences per
  database, so that each search can be told apart by its database)."""
  structure_dir = root / 'structures'
  structure_dir.mkdir()
  for name, source in STRUCTURES.items():
    shutil.copy(DATA / source, structure_dir / name)
  for name, data in BAD_FILES.items():
    (structure_dir / name).write_bytes(data)
  sequences = ((TESTDATA / 'pdb_chains.fasta').read_text()
               + (TESTDATA / '5pti_mutant.fasta').read_text())
  paths = {}
  for name in DATABASES:
    paths[f'{name}_database_path'] = str(root / f'{name}.fasta')
    (root / f'{name}.fasta').write_text(sequences)
  return structure_dir, precompute.Databases(**paths)


class _Searches:
  """Counts the searches run, as (database file, query)."""

  def __init__(self, monkeypatch):
    self.calls = collections.Counter()
    for cls in (jackhmmer.Jackhmmer, hmmsearch.Hmmsearch):
      monkeypatch.setattr(cls, 'query', self._counting(cls.query))

  def _counting(self, query):
    def counted(tool, arg, *args, **kwargs):
      # hmmsearch's query is the UniRef90 alignment: count its first row.
      sequence = arg if not arg.startswith('#') else (
          parsers.parse_stockholm(arg).sequences[0])
      self.calls[(os.path.basename(tool.database_path)[:-len('.fasta')],
                  sequence)] += 1
      return query(tool, arg, *args, **kwargs)
    return counted


class _Lines(logging.Handler):

  def __init__(self):
    super().__init__(logging.WARNING)
    self.lines = []

  def emit(self, record):
    self.lines.append(record.getMessage())


@pytest.fixture(scope='module')
def run(tmp_path_factory):
  root = tmp_path_factory.mktemp('precompute')
  structure_dir, databases = _make_inputs(root)
  output_dir = root / 'alignments'
  lines = _Lines()
  logger = logging.getLogger(precompute.__name__)
  logger.addHandler(lines)
  with pytest.MonkeyPatch.context() as monkeypatch:
    searches = _Searches(monkeypatch)
    report = precompute.precompute_alignments(
        str(structure_dir), str(output_dir), databases)
  logger.removeHandler(lines)
  sequences = {c.name: c.sequence for c in
               chains_lib.read_chains(str(structure_dir))
               if isinstance(c, chains_lib.ChainStructure)}
  return dict(structure_dir=structure_dir, output_dir=output_dir,
              databases=databases, report=report, calls=searches.calls,
              warnings=lines.lines, sequences=sequences, root=root)


def test_writes_the_layout_the_pdb_builder_reads(run, tmp_path):
  output_dir = run['output_dir']
  assert sorted(run['report']['done']) == list(CHAINS)
  assert sorted(os.listdir(output_dir)) == sorted(
      CHAINS + (precompute.REPORT_FILE,))
  with open(output_dir / precompute.REPORT_FILE) as f:
    assert json.load(f) == run['report']
  for name in CHAINS:
    folder = output_dir / name
    assert set(os.listdir(folder)) == OUTPUTS
    sequence = run['sequences'][name]
    uniprot = parsers.parse_stockholm(
        (folder / precompute.UNIPROT).read_text())
    assert uniprot.sequences[0] == sequence
  # BPTI's jackhmmer alignment holds its mutant; its template search finds
  # the mutant too.
  uniref90 = parsers.parse_stockholm(
      (output_dir / '5pti_A' / alignments.UNIREF90).read_text())
  mutant = (TESTDATA / '5pti_mutant.fasta').read_text().split()[1]
  assert len(uniref90.sequences) >= 2 and mutant in uniref90.sequences
  hits = parsers.parse_hmmsearch_stockholm(
      (output_dir / '5pti_A' / precompute.PDB_SEQRES).read_text(),
      run['sequences']['5pti_A'])
  assert any(h.name.startswith('5pti_mutant') for h in hits)

  build = pdb_builder.build_pdb_dataset(str(tmp_path), pdb_builder.PdbSources(
      str(run['structure_dir']), str(output_dir),
      filter_config=filters.FilterConfig(max_release_date=None,
                                         min_length=1)))
  assert sorted(build.kept) == list(CHAINS)


def test_identical_sequences_are_searched_once(run):
  distinct = set(run['sequences'].values())
  assert len(distinct) == 3
  # Every database searched once per distinct sequence, no more.
  assert run['calls'] == {(db, s): 1 for db in DATABASES for s in distinct}
  assert len(run['report']['searched']) == 3
  output_dir = run['output_dir']
  for first, copy in (('5pti_A', '6pti_A'), ('7etn_A', '7etn_B')):
    for name in OUTPUTS:
      assert ((output_dir / first / name).read_bytes() ==
              (output_dir / copy / name).read_bytes())


def test_unreadable_structures_are_reported_and_skipped(run):
  failed = run['report']['failed']
  assert sorted(f['source'] for f in failed) == sorted(BAD_FILES)
  assert all(f['reason'] for f in failed)
  assert run['report']['counts']['failed'] == len(BAD_FILES)
  for source in BAD_FILES:
    lines = [line for line in run['warnings'] if source in line]
    assert len(lines) == 1 and '\n' not in lines[0]


def test_a_failed_search_fails_its_chains_only(tmp_path, monkeypatch):
  structure_dir = tmp_path / 'structures'
  structure_dir.mkdir()
  for name in ('7ETN.cif.gz', '1i8nA.pdb.gz'):
    shutil.copy(DATA / name, structure_dir)
  search = jackhmmer.Jackhmmer.query

  def failing(tool, sequence, *args, **kwargs):
    if sequence == 'PFLI':  # 7ETN's chains.
      raise ValueError('jackhmmer: out of memory\n(the second line)')
    return search(tool, sequence, *args, **kwargs)

  monkeypatch.setattr(jackhmmer.Jackhmmer, 'query', failing)
  output_dir = tmp_path / 'alignments'
  report = precompute.precompute_alignments(
      str(structure_dir), str(output_dir),
      precompute.Databases(str(TESTDATA / 'pdb_chains.fasta')))
  assert report['done'] == ['1i8n_A']
  assert [(f['name'], f['reason']) for f in report['failed']] == [
      (name, 'ValueError: jackhmmer: out of memory (the second line)')
      for name in ('7etn_A', '7etn_B')]
  assert sorted(os.listdir(output_dir)) == ['1i8n_A', precompute.REPORT_FILE]


def test_resume_skips_complete_chains_and_redoes_partial_ones(
    run, tmp_path, monkeypatch):
  output_dir = tmp_path / 'alignments'
  shutil.copytree(run['output_dir'], output_dir)
  # 1i8n_A was interrupted while written: no folder, a half-written one
  # under the temporary name. 5pti_A and 6pti_A lack an output (a database
  # added since) and 5pti_A has a file of a search not run this time, which
  # is kept. 7etn_A and 7etn_B are complete.
  shutil.rmtree(output_dir / '1i8n_A')
  leftover = output_dir / '.precompute-1i8n_A-0123abcd'
  leftover.mkdir()
  (leftover / alignments.UNIREF90).write_text('# STOCKHOLM 1.0\nquery AC')
  for name in ('5pti_A', '6pti_A'):
    (output_dir / name / alignments.MGNIFY).unlink()
  shutil.copy(TESTDATA / '5pti_mutant_pdb_hits.hhr',
              output_dir / '5pti_A' / alignments.PDB70)
  kept_uniref90 = os.stat(output_dir / '5pti_A' / alignments.UNIREF90)
  complete = {name: os.stat(output_dir / name / alignments.UNIREF90)
              for name in ('7etn_A', '7etn_B')}

  searches = _Searches(monkeypatch)
  report = precompute.precompute_alignments(
      str(run['structure_dir']), str(output_dir), run['databases'])

  assert report['done'] == ['1i8n_A', '5pti_A', '6pti_A']
  assert report['skipped'] == ['7etn_A', '7etn_B']
  i8n, pti = run['sequences']['1i8n_A'], run['sequences']['5pti_A']
  assert searches.calls == {**{(db, i8n): 1 for db in DATABASES},
                            ('mgnify', pti): 1}
  assert not leftover.exists()
  assert sorted(os.listdir(output_dir)) == sorted(
      CHAINS + (precompute.REPORT_FILE,))
  for name in CHAINS:
    extra = {alignments.PDB70} if name in ('5pti_A', '6pti_A') else set()
    assert set(os.listdir(output_dir / name)) == OUTPUTS | extra
  assert ((output_dir / '1i8n_A' / alignments.UNIREF90).read_bytes() ==
          (run['output_dir'] / '1i8n_A' / alignments.UNIREF90).read_bytes())
  assert os.stat(output_dir / '5pti_A' / alignments.UNIREF90).st_ino == (
      kept_uniref90.st_ino)
  for name, stat in complete.items():
    now = os.stat(output_dir / name / alignments.UNIREF90)
    assert (now.st_ino, now.st_mtime_ns) == (stat.st_ino, stat.st_mtime_ns)


def test_database_flags_are_checked_before_any_search(tmp_path):
  fasta = str(TESTDATA / 'pdb_chains.fasta')
  output_dir = tmp_path / 'alignments'
  for databases, error, message in (
      (precompute.Databases(fasta, bfd_database_path='/db/bfd'),
       precompute.DatabaseError, 'uniref30'),
      (precompute.Databases(fasta, small_bfd_database_path=fasta,
                            bfd_database_path='/db/bfd',
                            uniref30_database_path='/db/uniref30'),
       precompute.DatabaseError, 'not both'),
      (precompute.Databases(fasta, mgnify_database_path='/db/mgnify.fa'),
       FileNotFoundError, '/db/mgnify.fa')):
    with pytest.raises(error, match=message):
      precompute.precompute_alignments(str(DATA), str(output_dir), databases)
  assert not output_dir.exists()


def test_command_line(tmp_path):
  """The command with two worker processes, on an entry and a bad file."""
  structure_dir = tmp_path / 'structures'
  structure_dir.mkdir()
  shutil.copy(DATA / '7ETN.cif.gz', structure_dir)
  shutil.copy(DATA / '1i8nA.pdb.gz', structure_dir)
  (structure_dir / '8bad.cif').write_bytes(BAD_FILES['8bad.cif'])
  database = TESTDATA / 'pdb_chains.fasta'
  result = subprocess.run(
      [sys.executable, str(ROOT / 'train' / 'precompute_alignments.py'),
       f'--structure_dir={structure_dir}',
       f'--output_dir={tmp_path / "alignments"}',
       f'--uniref90_database_path={database}',
       f'--uniprot_database_path={database}',
       f'--fasta_output_path={tmp_path / "chains.fasta"}',
       '--num_workers=2'],
      capture_output=True, text=True, cwd=ROOT, check=False)
  assert result.returncode == 0, result.stderr
  assert '3 chains done, 0 complete before, 1 failed' in result.stdout
  assert '8bad.cif' in result.stderr
  for name in ('1i8n_A', '7etn_A', '7etn_B'):
    assert set(os.listdir(tmp_path / 'alignments' / name)) == {
        alignments.UNIREF90, precompute.UNIPROT}
  names, = [parsers.parse_fasta((tmp_path / 'chains.fasta').read_text())[1]]
  assert sorted(names) == ['1i8n_A', '7etn_A', '7etn_B']
