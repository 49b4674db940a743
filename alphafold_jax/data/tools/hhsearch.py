"""HHsearch: the PDB70 template search (Suppl. 1.2.3), through its binary
(maxseq 1,000,000 as the reference)."""
from __future__ import annotations

import os
import tempfile
from typing import List, Optional, Sequence

from alphafold_jax.data import parsers
from alphafold_jax.data.tools import subprocess_tool

MAXSEQ = 1_000_000
TIMEOUT_S = 3600


class HHSearch:
  """HHsearch of a query MSA against HH-suite template databases."""

  def __init__(self, database_paths: Sequence[str],
               binary_path: str = 'hhsearch', timeout_s: float = TIMEOUT_S):
    """
    Raises:
      ToolError: the binary or a database is missing.
    """
    self.binary_path = subprocess_tool.find_binary(binary_path)
    for path in database_paths:
      subprocess_tool.check_hhsuite_database(path, 'hhsearch')
    self.database_paths = list(database_paths)
    self.timeout_s = timeout_s

  output_extension = 'hhr'

  def query(self, stockholm: str,
            max_sequences: Optional[int] = None) -> str:
    """The .hhr hit list of a query alignment (Stockholm, first row the
    query; rewritten as A3M for HHsearch)."""
    a3m = parsers.stockholm_to_a3m(stockholm, max_sequences=max_sequences)
    with tempfile.TemporaryDirectory() as tmp:
      a3m_path = os.path.join(tmp, 'query.a3m')
      hhr_path = os.path.join(tmp, 'output.hhr')
      with open(a3m_path, 'w') as f:
        f.write(a3m)
      command = [self.binary_path, '-i', a3m_path, '-o', hhr_path,
                 '-maxseq', str(MAXSEQ)]
      for path in self.database_paths:
        command += ['-d', path]
      subprocess_tool.run(command, self.timeout_s, 'hhsearch')
      with open(hhr_path) as f:
        return f.read()

  @staticmethod
  def get_template_hits(output: str, query_sequence: str,
                        source: str = '<string>'
                        ) -> List[parsers.TemplateHit]:
    del query_sequence  # HHR hits carry their own query alignment.
    return parsers.parse_hhr(output, source)
