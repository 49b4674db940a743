"""HHblits: the BFD/UniClust30 (or UniRef30) search (Suppl. 1.2.2), through
its binary, with the reference's settings: 3 iterations, E-value 1e-3,
maxseq 1,000,000, realign_max 100,000, maxfilt 100,000, min_prefilter_hits
1000."""
from __future__ import annotations

import os
import tempfile
from typing import Sequence

from alphafold_jax.data.tools import subprocess_tool

N_ITER = 3
E_VALUE = 1e-3
MAXSEQ = 1_000_000
REALIGN_MAX = 100_000
MAXFILT = 100_000
MIN_PREFILTER_HITS = 1000
TIMEOUT_S = 4 * 3600


class HHBlits:
  """HHblits of one query against one or more HH-suite databases."""

  def __init__(self, database_paths: Sequence[str],
               binary_path: str = 'hhblits', n_cpu: int = 4,
               n_iter: int = N_ITER, e_value: float = E_VALUE,
               timeout_s: float = TIMEOUT_S):
    """
    Raises:
      ToolError: the binary or a database is missing.
    """
    self.binary_path = subprocess_tool.find_binary(binary_path)
    for path in database_paths:
      subprocess_tool.check_hhsuite_database(path, 'hhblits')
    self.database_paths = list(database_paths)
    self.n_cpu, self.n_iter, self.e_value = n_cpu, n_iter, e_value
    self.timeout_s = timeout_s

  def query(self, fasta_path: str) -> str:
    """The A3M alignment (query first) of the search from a FASTA file."""
    with tempfile.TemporaryDirectory() as tmp:
      a3m_path = os.path.join(tmp, 'output.a3m')
      command = [self.binary_path, '-i', fasta_path, '-cpu', str(self.n_cpu),
                 '-oa3m', a3m_path, '-o', os.devnull, '-n', str(self.n_iter),
                 '-e', str(self.e_value), '-maxseq', str(MAXSEQ),
                 '-realign_max', str(REALIGN_MAX), '-maxfilt', str(MAXFILT),
                 '-min_prefilter_hits', str(MIN_PREFILTER_HITS)]
      for path in self.database_paths:
        command += ['-d', path]
      subprocess_tool.run(command, self.timeout_s, 'hhblits')
      with open(a3m_path) as f:
        return f.read()
