"""HHblits, HHsearch, kalign and hmmbuild + hmmsearch through their real
binaries, on small databases built in a temporary folder from the bundled
chains (testdata/pdb_chains.fasta) and BPTI (testdata/mmcif/5PTI.cif.gz).

CI installs the binaries (.ci/run) and sets CI=true: there a missing binary
fails these tests; elsewhere they are skipped with the reason.
"""
import os
import pathlib
import shutil

import numpy as np
import pytest

from alphafold_jax.data import mmcif as mmcif_lib
from alphafold_jax.data import parsers
from alphafold_jax.data import templates
from alphafold_jax.data.tools import hhblits
from alphafold_jax.data.tools import hhsearch
from alphafold_jax.data.tools import hmmsearch
from alphafold_jax.data.tools import kalign
from alphafold_jax.data.tools import subprocess_tool

TESTDATA = pathlib.Path(__file__).parent / 'testdata'
# Unrelated chains in the HH-suite database besides BPTI; a dozen keep its
# build (one hhmake and one cstranslate profile per entry) to seconds.
NUM_DECOYS = 12


def _missing(reason):
  if os.environ.get('CI') == 'true':
    pytest.fail(f'{reason}; CI installs them (.ci/run).')
  pytest.skip(reason)


def _binaries(*names):
  """The paths of the binaries `names`, which must be installed."""
  paths = [shutil.which(name) for name in names]
  missing = [name for name, path in zip(names, paths) if path is None]
  if missing:
    _missing(f'not installed: {", ".join(missing)}')
  return paths


def _cstranslate_and_data():
  """cstranslate and the folder of the context-state libraries (cs219.lib,
  context_data.lib) that it needs to build a database's cs219 files.

  HH-suite's own install keeps both under $HHLIB (bin/, data/); Debian's
  hhsuite puts cstranslate off PATH, in /usr/libexec/hhsuite (its bin/
  wrapper there is broken: call the build without SIMD), and the libraries
  in /usr/share/hhsuite/data (package hhsuite-data).
  """
  (hhblits_path,) = _binaries('hhblits')
  prefix = pathlib.Path(hhblits_path).parent.parent
  hhlib = pathlib.Path(os.environ.get('HHLIB', prefix))
  binaries = [shutil.which('cstranslate'),
              prefix / 'libexec' / 'hhsuite' / 'cstranslate-plain']
  folders = [hhlib / 'data', prefix / 'share' / 'hhsuite' / 'data']
  binary = next((str(b) for b in binaries if b and os.access(b, os.X_OK)),
                None)
  data = next((f for f in folders if (f / 'cs219.lib').is_file()), None)
  if binary is None or data is None:
    _missing('HH-suite has no cstranslate or no cs219.lib')
  return binary, data


def _mutate(sequence, every):
  """Every `every`-th residue replaced (A, or S for an A)."""
  return ''.join(('S' if r == 'A' else 'A') if i % every == every - 1 else r
                 for i, r in enumerate(sequence))


@pytest.fixture(scope='module')
def bpti():
  return mmcif_lib.read(str(TESTDATA / 'mmcif' / '5PTI.cif.gz'))


@pytest.fixture(scope='module')
def old_bpti(bpti):
  """An older BPTI sequence: two substitutions and residue 20 deleted, so
  that it is not in the mmCIF SEQRES and templates must realign it."""
  seqres = bpti.chain_to_seqres['A']
  return 'KA' + seqres[2:20] + seqres[21:]


@pytest.fixture(scope='module')
def chains():
  sequences, names = parsers.parse_fasta(
      (TESTDATA / 'pdb_chains.fasta').read_text())
  return list(zip(names, sequences))


@pytest.fixture(scope='module')
def hhsuite_database(tmp_path_factory, chains, old_bpti):
  """The prefix of an HH-suite database (a3m, hhm and cs219 ffindex files)
  of 5PTI_A (as `old_bpti`) and NUM_DECOYS unrelated chains, built with
  HH-suite's own tools."""
  ffindex_build, ffindex_apply, hhmake = _binaries(
      'ffindex_build', 'ffindex_apply', 'hhmake')
  cstranslate, data = _cstranslate_and_data()
  folder = tmp_path_factory.mktemp('hhsuite')
  entries = folder / 'a3m'
  entries.mkdir()
  for name, sequence in [('5PTI_A', old_bpti)] + chains[:NUM_DECOYS]:
    (entries / name).write_text(f'>{name}\n{sequence}\n')
  prefix = str(folder / 'db')
  for command in (
      [ffindex_build, '-s', f'{prefix}_a3m.ffdata', f'{prefix}_a3m.ffindex',
       str(entries)],
      [ffindex_apply, f'{prefix}_a3m.ffdata', f'{prefix}_a3m.ffindex',
       '-d', f'{prefix}_hhm.ffdata', '-i', f'{prefix}_hhm.ffindex', '--',
       hhmake, '-i', 'stdin', '-o', 'stdout', '-v', '0'],
      [cstranslate, '-A', str(data / 'cs219.lib'),
       '-D', str(data / 'context_data.lib'), '-x', '0.3', '-c', '4', '-f',
       '-I', 'a3m', '-i', f'{prefix}_a3m', '-o', f'{prefix}_cs219', '-b']):
    subprocess_tool.run(command, 120, os.path.basename(command[0]))
  return prefix


def test_hhblits_finds_a_relative(hhsuite_database, chains, tmp_path):
  _binaries('hhblits')
  name, sequence = chains[0]
  query = _mutate(sequence, 7)
  fasta = tmp_path / 'query.fasta'
  fasta.write_text(f'>query\n{query}\n')
  a3m = hhblits.HHBlits([hhsuite_database], n_cpu=1).query(str(fasta))
  msa = parsers.parse_a3m(a3m)
  assert msa.sequences[0] == query
  assert [d.split()[0] for d in msa.descriptions] == ['query', name]
  assert msa.sequences[1] == sequence
  assert not any(map(any, msa.deletion_matrix))


def test_hhsearch_hit_becomes_a_template_through_kalign(
    hhsuite_database, bpti, old_bpti):
  _binaries('hhsearch', 'kalign')
  seqres = bpti.chain_to_seqres['A']
  query = _mutate(seqres, 9)
  searcher = hhsearch.HHSearch([hhsuite_database])
  hhr = searcher.query(f'# STOCKHOLM 1.0\nquery {query}\n//\n')
  hits = searcher.get_template_hits(hhr, query)
  assert hits[0].name.split()[0] == '5PTI_A'
  assert hits[0].sum_probs > 40 and hits[0].aligned_cols > 50
  assert hits[0].hit_sequence.replace('-', '') in old_bpti
  # The hit (old_bpti) is not the SEQRES of 5PTI: kalign maps it there.
  featurizer = templates.TemplateFeaturizer(
      str(TESTDATA / 'mmcif'), '2020-01-01', aligner=kalign.Kalign())
  result = featurizer.get_templates(query, hits[:1])
  assert not result.errors and 'realigned' in result.warnings[0]
  features = result.features
  positions, _ = mmcif_lib.get_atom_positions(bpti, 'A')
  aligned = features['template_all_atom_masks'][0].sum(-1) > 0
  # Query residue i is SEQRES residue i; residue 20 is not in the hit.
  assert aligned.sum() >= len(seqres) - 3 and not aligned[20]
  np.testing.assert_array_equal(
      features['template_all_atom_positions'][0][aligned],
      positions[aligned])


def test_kalign_realigns_two_sequences(bpti, old_bpti):
  _binaries('kalign')
  seqres = bpti.chain_to_seqres['A']
  msa = parsers.parse_a3m(kalign.Kalign().align([old_bpti, seqres]))
  assert msa.sequences == (old_bpti[:20] + '-' + old_bpti[20:], seqres)


def test_hmmsearch_binaries_match_pyhmmer(bpti, tmp_path):
  _binaries('hmmbuild', 'hmmsearch')
  seqres = bpti.chain_to_seqres['A']
  query = 'MG' + _mutate(seqres, 10)
  database = tmp_path / 'seqres.fasta'
  database.write_text(f'>5pti_A mol:protein length:{len(seqres)}\n{seqres}\n'
                      + (TESTDATA / 'pdb_chains.fasta').read_text())
  stockholm = f'# STOCKHOLM 1.0\nquery {query}\n//\n'
  output = hmmsearch.HmmsearchBinary(str(database), cpus=1).query(stockholm)
  hits = hmmsearch.HmmsearchBinary.get_template_hits(output, query)
  assert hits[0].name == '5pti_A'
  assert hits[0].indices_hit == (-1, -1) + tuple(range(len(seqres)))
  assert hits == hmmsearch.Hmmsearch.get_template_hits(
      hmmsearch.Hmmsearch(str(database), cpus=1).query(stockholm), query)
  # No hit: an empty alignment rather than hmmsearch's empty file.
  (tmp_path / 'none.fasta').write_text('>x\n' + 'W' * 30 + '\n')
  assert hmmsearch.HmmsearchBinary(str(tmp_path / 'none.fasta')).query(
      stockholm) == '# STOCKHOLM 1.0\n//\n'
