"""jackhmmer through pyhmmer: the UniRef90 and MGnify searches (Suppl. 1.2.2).

Runs in-process (no HMMER binary needed) with the reference's settings: one
iteration, E-value and inclusion threshold 1e-4, and the prefilter
thresholds F1 = 5e-4, F2 = 5e-5, F3 = 5e-7.
"""
from __future__ import annotations

import io
import os
from typing import Optional

import pyhmmer

N_ITER = 1
E_VALUE = 1e-4
FILTER_F1 = 5e-4
FILTER_F2 = 5e-5
FILTER_F3 = 5e-7


class Jackhmmer:
  """Iterative profile search of one query against one FASTA database."""

  def __init__(self, database_path: str, n_iter: int = N_ITER,
               e_value: float = E_VALUE, z_value: Optional[int] = None,
               filter_f1: float = FILTER_F1, filter_f2: float = FILTER_F2,
               filter_f3: float = FILTER_F3,
               dom_e: Optional[float] = None,
               incdom_e: Optional[float] = None, cpus: int = 0):
    """
    Args:
      database_path: FASTA file of the sequences to search (may be gzipped).
      n_iter: search iterations.
      e_value: reporting and inclusion E-value (-E and --incE).
      z_value: effective database size for E-values (-Z), None for the
        actual size.
      filter_f1, filter_f2, filter_f3: MSV, Viterbi and Forward prefilter
        P-value thresholds.
      dom_e, incdom_e: per-domain reporting/inclusion E-values, None for
        HMMER's defaults.
      cpus: worker threads, 0 for all cores.

    Raises:
      FileNotFoundError: the database does not exist.
    """
    if not os.path.isfile(database_path):
      raise FileNotFoundError(f'jackhmmer database not found: {database_path}')
    self.database_path = database_path
    self.n_iter = n_iter
    self.cpus = cpus
    self._options = {'E': e_value, 'incE': e_value, 'F1': filter_f1,
                     'F2': filter_f2, 'F3': filter_f3}
    for key, value in (('Z', z_value), ('domE', dom_e),
                       ('incdomE', incdom_e)):
      if value is not None:
        self._options[key] = value

  def query(self, sequence: str, name: str = 'query') -> str:
    """Searches the database with `sequence`.

    Args:
      sequence: the query's one-letter amino acids.
      name: the query's name in the alignment.

    Returns:
      The Stockholm alignment of the query (first row) and every hit
      domain that passes the inclusion threshold, as jackhmmer's -A output.

    Raises:
      ValueError: an empty query or an empty database file.
    """
    if not sequence:
      raise ValueError('jackhmmer: empty query sequence.')
    alphabet = pyhmmer.easel.Alphabet.amino()
    query = pyhmmer.easel.TextSequence(
        name=name.encode(), sequence=sequence).digitize(alphabet)
    if not os.path.getsize(self.database_path):
      raise ValueError(f'jackhmmer: no sequences in {self.database_path}.')
    # The database is streamed from disk, once per iteration.
    with pyhmmer.easel.SequenceFile(self.database_path, digital=True,
                                    alphabet=alphabet) as database:
      result = next(iter(pyhmmer.hmmer.jackhmmer(
          query, database, max_iterations=self.n_iter, cpus=self.cpus,
          **self._options)))
    stream = io.BytesIO()
    result.msa.write(stream, 'stockholm')
    return stream.getvalue().decode()
