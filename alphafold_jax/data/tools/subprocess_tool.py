"""Running an external search/alignment binary with clear failures."""
from __future__ import annotations

import glob
import os
import shutil
import subprocess
from typing import Sequence


class ToolError(RuntimeError):
  """A tool that is missing, failed or ran out of time."""


def find_binary(name_or_path: str) -> str:
  """The absolute path of an executable, from PATH or as given.

  Raises:
    ToolError: not installed (naming the binary).
  """
  path = shutil.which(name_or_path)
  if path is None:
    raise ToolError(f'{name_or_path!r} is not installed (not found on PATH '
                    'nor as a path); install it or pass its binary_path.')
  return path


def check_database(prefix: str, tool: str) -> None:
  """An HH-suite database is a prefix of several files (prefix_a3m.ffdata,
  ...); a plain database is one file.

  Raises:
    ToolError: neither exists.
  """
  if not (os.path.exists(prefix) or glob.glob(prefix + '_*')):
    raise ToolError(f'{tool}: database not found: {prefix}')


def run(command: Sequence[str], timeout_s: float, tool: str) -> str:
  """Runs `command` and returns its stdout.

  Raises:
    ToolError: non-zero exit (with the end of stderr) or timeout.
  """
  try:
    result = subprocess.run(list(command), capture_output=True, text=True,
                            timeout=timeout_s, check=False)
  except subprocess.TimeoutExpired as e:
    raise ToolError(f'{tool} timed out after {timeout_s} s: '
                    f'{" ".join(command)}') from e
  if result.returncode:
    raise ToolError(f'{tool} failed with exit code {result.returncode}: '
                    f'{" ".join(command)}\n{result.stderr[-2000:]}')
  return result.stdout
