"""The binary-backed tools: clear errors when a binary or database is
missing, timeouts and failures reported with the command. Stand-in scripts
play the binaries (test_tools_binaries.py runs the real ones)."""
import sys
import time

import pytest

from alphafold_jax.data.tools import hhblits
from alphafold_jax.data.tools import hhsearch
from alphafold_jax.data.tools import hmmsearch
from alphafold_jax.data.tools import kalign
from alphafold_jax.data.tools import subprocess_tool


def test_missing_binaries_are_named():
  for make, name in ((lambda: hhblits.HHBlits(['db'], binary_path='no-hhblits'),
                      'no-hhblits'),
                     (lambda: hhsearch.HHSearch(['db'],
                                                binary_path='no-hhsearch'),
                      'no-hhsearch'),
                     (lambda: kalign.Kalign(binary_path='no-kalign'),
                      'no-kalign'),
                     # The other HMMER binary is an existing stand-in, so
                     # that the error is about the missing one whatever is
                     # installed here.
                     (lambda: hmmsearch.HmmsearchBinary(
                         sys.executable, binary_path='no-hmmsearch',
                         hmmbuild_binary_path=sys.executable),
                      'no-hmmsearch'),
                     (lambda: hmmsearch.HmmsearchBinary(
                         sys.executable, binary_path=sys.executable,
                         hmmbuild_binary_path='no-hmmbuild'),
                      'no-hmmbuild')):
    with pytest.raises(subprocess_tool.ToolError,
                       match=f"'{name}' is not installed"):
      make()


def _fake_hhsuite_database(prefix):
  for suffix in subprocess_tool.HHSUITE_DATABASE_FILES:
    (prefix.parent / (prefix.name + suffix)).write_text('')


def test_missing_databases_are_named(tmp_path):
  # Any installed binary gets as far as the database check.
  with pytest.raises(subprocess_tool.ToolError, match='hhblits.*bfd_missing'):
    hhblits.HHBlits([str(tmp_path / 'bfd_missing')], binary_path=sys.executable)
  prefix = tmp_path / 'pdb70'
  _fake_hhsuite_database(prefix)
  hhsearch.HHSearch([str(prefix)], binary_path=sys.executable)
  # The binaries crash on a database without its prefilter files.
  (tmp_path / 'pdb70_cs219.ffindex').unlink()
  with pytest.raises(subprocess_tool.ToolError,
                     match='hhsearch: database .*pdb70 .*incomplete; missing '
                           '.*pdb70_cs219.ffindex$'):
    hhsearch.HHSearch([str(prefix)], binary_path=sys.executable)
  for make in (hmmsearch.Hmmsearch, hmmsearch.HmmsearchBinary):
    with pytest.raises(FileNotFoundError, match='seqres_missing'):
      make(str(tmp_path / 'seqres_missing'))


def test_run_reports_failure_and_timeout(tmp_path):
  with pytest.raises(subprocess_tool.ToolError, match='exit code 3.*boom'):
    subprocess_tool.run(
        [sys.executable, '-c', 'import sys; sys.stderr.write("boom"); '
         'sys.exit(3)'], 10, 'tool')
  with pytest.raises(subprocess_tool.ToolError, match='timed out after 0.2'):
    subprocess_tool.run([sys.executable, '-c', 'import time; time.sleep(5)'],
                        0.2, 'tool')
  assert subprocess_tool.run([sys.executable, '-c', 'print("ok")'], 10,
                             'tool') == 'ok\n'
  with pytest.raises(subprocess_tool.ToolError, match='could not start'):
    subprocess_tool.run([str(tmp_path / 'no_such_binary')], 10, 'tool')


def test_timeout_kills_the_tools_children(tmp_path):
  """The Debian hhblits/hhsearch/kalign are scripts that run the binary as
  a child: a timeout must end the child too."""
  marker = tmp_path / 'child_finished'
  with pytest.raises(subprocess_tool.ToolError, match='timed out'):
    subprocess_tool.run(
        ['sh', '-c', f'(sleep 0.5; touch {marker}); true'], 0.2, 'tool')
  time.sleep(1)
  assert not marker.exists()


def test_kalign_refuses_short_sequences():
  aligner = kalign.Kalign(binary_path=sys.executable)
  with pytest.raises(ValueError, match='at least 6'):
    aligner.align(['MKVLAA', 'MKV'])


def _fake_binary(tmp_path, name, output_flag, output_text):
  """An executable standing in for a tool: writes `output_text` to the path
  after `output_flag` and records its arguments."""
  script = tmp_path / name
  script.write_text(
      f'#!{sys.executable}\n'
      'import sys\n'
      f'open({str(tmp_path / (name + ".args"))!r}, "w").write(" ".join('
      'sys.argv[1:]))\n'
      f'path = sys.argv[sys.argv.index({output_flag!r}) + 1]\n'
      f'open(path, "w").write({output_text!r})\n')
  script.chmod(0o755)
  return str(script)


def test_hhblits_hhsearch_kalign_commands(tmp_path):
  _fake_hhsuite_database(tmp_path / 'bfd')
  a3m = '>q\nMKV\n>h\nMaKV\n'
  binary = _fake_binary(tmp_path, 'hhblits', '-oa3m', a3m)
  assert hhblits.HHBlits([str(tmp_path / 'bfd')], binary_path=binary).query(
      'query.fasta') == a3m
  args = (tmp_path / 'hhblits.args').read_text().split()
  assert args[args.index('-n') + 1] == '3'
  assert args[args.index('-e') + 1] == '0.001'
  assert args[args.index('-d') + 1] == str(tmp_path / 'bfd')

  hhr = 'No 1\n>1ABC_A x\nAligned_cols=3 Sum_probs=2.0\nQ q 1 MKV 3 (3)\nT 1ABC_A 1 MKV 3 (9)\n'
  binary = _fake_binary(tmp_path, 'hhsearch', '-o', hhr)
  searcher = hhsearch.HHSearch([str(tmp_path / 'bfd')], binary_path=binary)
  output = searcher.query('# STOCKHOLM 1.0\nq MKV\nh M-V\n//\n')
  assert output == hhr
  hits = searcher.get_template_hits(output, 'MKV')
  assert hits[0].sum_probs == 2.0 and hits[0].indices_hit == (0, 1, 2)
  assert '-maxseq 1000000' in (tmp_path / 'hhsearch.args').read_text()

  aligned = '>s0\nMKVLA-\n>s1\nMKVLAW\n'
  binary = _fake_binary(tmp_path, 'kalign', '-o', aligned)
  assert kalign.Kalign(binary_path=binary).align(['MKVLAG', 'MKVLAW']) == (
      aligned)
