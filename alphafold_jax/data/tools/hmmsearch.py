"""hmmbuild + hmmsearch: the template search of the reference's v2.2
pipeline (a profile of the query's UniRef90 alignment searched against the
PDB seqres database, Suppl. 1.2.3).

`Hmmsearch` runs in-process through pyhmmer (no HMMER binary needed);
`HmmsearchBinary` runs the hmmbuild and hmmsearch binaries as the reference
does. Both build the same profile, whose match states are the query's
residues (hmmbuild --hand), and search with the reference's thresholds:
F1 = F2 = F3 = 0.1 and E-values of 100.
"""
from __future__ import annotations

import io
import os
import tempfile
from typing import List, Optional

import pyhmmer

from alphafold_jax.data import parsers
from alphafold_jax.data.tools import subprocess_tool

FILTER_P = 0.1
E_VALUE = 100.
TIMEOUT_S = 3600
_NO_HITS = '# STOCKHOLM 1.0\n//\n'


def _profile_msa(stockholm: str, max_sequences: Optional[int]) -> str:
  """The Stockholm alignment the profile is built from: the distinct rows of
  the query alignment over the query's columns, every column a match state
  (its reference line, for hmmbuild --hand)."""
  rows = list(dict.fromkeys(
      parsers.parse_stockholm(stockholm).sequences[:max_sequences]))
  return ('# STOCKHOLM 1.0\n#=GF ID query\n'
          + ''.join(f'row{i} {row}\n' for i, row in enumerate(rows))
          + f'#=GC RF {"x" * len(rows[0])}\n//\n')


class Hmmsearch:
  """Searches a FASTA sequence database with a profile of a query MSA."""

  def __init__(self, database_path: str, cpus: int = 0):
    """
    Args:
      database_path: FASTA file of the template sequences.
      cpus: worker threads, 0 for all cores.

    Raises:
      FileNotFoundError: the database does not exist.
    """
    if not os.path.isfile(database_path):
      raise FileNotFoundError(f'hmmsearch database not found: {database_path}')
    self.database_path = database_path
    self.cpus = cpus

  output_extension = 'sto'

  def query(self, stockholm: str, max_sequences: Optional[int] = None
            ) -> str:
    """Builds the profile of a query alignment (its distinct rows over the
    query's columns) and searches the database.

    Args:
      stockholm: the query alignment, first row the query (e.g. the
        jackhmmer UniRef90 output).
      max_sequences: rows used for the profile, None for all.

    Returns:
      Stockholm alignment of the hits, one column per query residue
      (match states upper case or '-', insertions lower case), rows named
      'NAME/start-end'; for `parsers.parse_hmmsearch_stockholm`.
    """
    return self._search(_profile_msa(stockholm, max_sequences))

  def _search(self, profile_msa: str) -> str:
    """hmmbuild --hand of `profile_msa` (Stockholm), then hmmsearch."""
    alphabet = pyhmmer.easel.Alphabet.amino()
    with pyhmmer.easel.MSAFile(io.BytesIO(profile_msa.encode()),
                               format='stockholm', digital=True,
                               alphabet=alphabet) as msa_file:
      msa = msa_file.read()
    builder = pyhmmer.plan7.Builder(alphabet, architecture='hand')
    hmm, _, _ = builder.build_msa(msa, pyhmmer.plan7.Background(alphabet))
    # The database is streamed from disk.
    with pyhmmer.easel.SequenceFile(self.database_path, digital=True,
                                    alphabet=alphabet) as database:
      hits = next(iter(pyhmmer.hmmer.hmmsearch(
          hmm, database, cpus=self.cpus, F1=FILTER_P, F2=FILTER_P,
          F3=FILTER_P, E=E_VALUE, incE=E_VALUE, domE=E_VALUE,
          incdomE=E_VALUE)))
    if not len(hits.included):
      return _NO_HITS
    stream = io.BytesIO()
    hits.to_msa(alphabet, all_consensus_cols=True).write(stream, 'stockholm')
    return stream.getvalue().decode()

  @staticmethod
  def get_template_hits(output: str, query_sequence: str,
                        source: str = '<string>'
                        ) -> List[parsers.TemplateHit]:
    return parsers.parse_hmmsearch_stockholm(output, query_sequence, source)


class HmmsearchBinary(Hmmsearch):
  """`Hmmsearch` through the HMMER binaries, with the reference's command
  lines: `hmmbuild --hand --amino` and `hmmsearch --noali --cpu N -E 100
  --incE 100 --F1 0.1 --F2 0.1 --F3 0.1 --incdomE 100 --domE 100 -A`."""

  def __init__(self, database_path: str, binary_path: str = 'hmmsearch',
               hmmbuild_binary_path: str = 'hmmbuild', cpus: int = 0,
               timeout_s: float = TIMEOUT_S):
    """
    Args:
      database_path: FASTA file of the template sequences.
      binary_path, hmmbuild_binary_path: the binaries, on PATH or as paths.
      cpus: hmmsearch worker threads (--cpu), 0 for all cores.
      timeout_s: limit of each of the two commands.

    Raises:
      FileNotFoundError: the database does not exist.
      ToolError: a binary is missing.
    """
    super().__init__(database_path, cpus)
    self.binary_path = subprocess_tool.find_binary(binary_path)
    self.hmmbuild_binary_path = subprocess_tool.find_binary(
        hmmbuild_binary_path)
    self.timeout_s = timeout_s

  def _search(self, profile_msa: str) -> str:
    with tempfile.TemporaryDirectory() as tmp:
      msa_path = os.path.join(tmp, 'query.sto')
      hmm_path = os.path.join(tmp, 'query.hmm')
      output_path = os.path.join(tmp, 'output.sto')
      with open(msa_path, 'w') as f:
        f.write(profile_msa)
      subprocess_tool.run([self.hmmbuild_binary_path, '--hand', '--amino',
                           hmm_path, msa_path], self.timeout_s, 'hmmbuild')
      subprocess_tool.run(
          [self.binary_path, '--noali', '--cpu',
           str(self.cpus or os.cpu_count() or 1),
           '--F1', str(FILTER_P), '--F2', str(FILTER_P), '--F3', str(FILTER_P),
           '-E', str(E_VALUE), '--incE', str(E_VALUE), '--domE', str(E_VALUE),
           '--incdomE', str(E_VALUE), '-A', output_path, hmm_path,
           self.database_path],
          self.timeout_s, 'hmmsearch')
      # hmmsearch writes an empty file when no hit passes the thresholds.
      with open(output_path) as f:
        return f.read() or _NO_HITS
