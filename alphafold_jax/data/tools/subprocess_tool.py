"""Running an external search/alignment binary with clear failures."""
from __future__ import annotations

import os
import shutil
import signal
import subprocess
from typing import Sequence

# The ffindex files of an HH-suite database that HHblits and HHsearch read.
HHSUITE_DATABASE_FILES = tuple(f'_{kind}.{extension}'
                               for kind in ('a3m', 'cs219')
                               for extension in ('ffdata', 'ffindex'))


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


def check_hhsuite_database(prefix: str, tool: str) -> None:
  """An HH-suite database is the ffindex files '<prefix>_<kind>.ffdata' and
  '.ffindex'; HHblits and HHsearch need the alignments (a3m) and the
  prefilter's column states (cs219), and crash without them. The profiles
  (hhm) are optional.

  Raises:
    ToolError: naming the missing files.
  """
  missing = [prefix + suffix for suffix in HHSUITE_DATABASE_FILES
             if not os.path.isfile(prefix + suffix)]
  if missing:
    raise ToolError(f'{tool}: database {prefix} not found or incomplete; '
                    f'missing {", ".join(missing)}')


def run(command: Sequence[str], timeout_s: float, tool: str) -> str:
  """Runs `command` and returns its stdout.

  The command runs in its own process group, all of which is killed on
  timeout: the Debian hhblits, hhsearch and kalign are shell scripts that
  start the build for the CPU as a child, which killing the script alone
  would leave running.

  Raises:
    ToolError: the command cannot start, exits non-zero (with the end of
      stderr) or runs past `timeout_s`.
  """
  try:
    process = subprocess.Popen(list(command), stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True,
                               start_new_session=True)
  except OSError as e:
    raise ToolError(f'{tool} could not start: {e}') from e
  with process:
    try:
      stdout, stderr = process.communicate(timeout=timeout_s)
    except subprocess.TimeoutExpired as e:
      raise ToolError(f'{tool} timed out after {timeout_s} s: '
                      f'{" ".join(command)}') from e
    finally:
      if process.returncode is None:  # Timed out or interrupted.
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
  if process.returncode:
    raise ToolError(f'{tool} failed with exit code {process.returncode}: '
                    f'{" ".join(command)}\n{stderr[-2000:]}')
  return stdout
