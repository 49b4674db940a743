"""The binary-backed tools: clear errors when a binary or database is
missing, timeouts and failures reported with the command."""
import sys

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
                      'no-kalign')):
    with pytest.raises(subprocess_tool.ToolError,
                       match=f"'{name}' is not installed"):
      make()


def test_missing_databases_are_named(tmp_path):
  # Any installed binary gets as far as the database check.
  with pytest.raises(subprocess_tool.ToolError, match='hhblits.*bfd_missing'):
    hhblits.HHBlits([str(tmp_path / 'bfd_missing')], binary_path=sys.executable)
  prefix = tmp_path / 'pdb70'
  (tmp_path / 'pdb70_a3m.ffdata').write_text('')
  hhsearch.HHSearch([str(prefix)], binary_path=sys.executable)
  with pytest.raises(FileNotFoundError, match='seqres_missing'):
    hmmsearch.Hmmsearch(str(tmp_path / 'seqres_missing'))


def test_run_reports_failure_and_timeout():
  with pytest.raises(subprocess_tool.ToolError, match='exit code 3.*boom'):
    subprocess_tool.run(
        [sys.executable, '-c', 'import sys; sys.stderr.write("boom"); '
         'sys.exit(3)'], 10, 'tool')
  with pytest.raises(subprocess_tool.ToolError, match='timed out after 0.2'):
    subprocess_tool.run([sys.executable, '-c', 'import time; time.sleep(5)'],
                        0.2, 'tool')
  assert subprocess_tool.run([sys.executable, '-c', 'print("ok")'], 10,
                             'tool') == 'ok\n'


def test_kalign_refuses_short_sequences():
  aligner = kalign.Kalign(binary_path=sys.executable)
  with pytest.raises(ValueError, match='at least 6'):
    aligner.align(['MKVLAA', 'MKV'])
