"""hmmbuild + hmmsearch through pyhmmer: the template search of the
reference's v2.2 pipeline (a profile of the query's UniRef90 alignment
searched against the PDB seqres database, Suppl. 1.2.3).

In-process (no HMMER binary needed). The profile's match states are the
query's residues (hmmbuild --hand); the search thresholds are the
reference's: F1 = F2 = F3 = 0.1 and E-values of 100.
"""
from __future__ import annotations

import io
import os
from typing import List, Optional

import pyhmmer

from alphafold_jax.data import parsers

FILTER_P = 0.1
E_VALUE = 100.


class Hmmsearch:
  """Searches a FASTA sequence database with a profile of a query MSA."""

  def __init__(self, database_path: str, cpus: int = 0):
    """
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
    alphabet = pyhmmer.easel.Alphabet.amino()
    rows = list(dict.fromkeys(
        parsers.parse_stockholm(stockholm).sequences[:max_sequences]))
    text_msa = pyhmmer.easel.TextMSA(
        name=b'query',
        sequences=[pyhmmer.easel.TextSequence(name=f'row{i}'.encode(),
                                              sequence=s)
                   for i, s in enumerate(rows)])
    text_msa.reference = 'x' * len(rows[0])
    builder = pyhmmer.plan7.Builder(alphabet, architecture='hand')
    hmm, _, _ = builder.build_msa(text_msa.digitize(alphabet),
                                  pyhmmer.plan7.Background(alphabet))
    # The database is streamed from disk.
    with pyhmmer.easel.SequenceFile(self.database_path, digital=True,
                                    alphabet=alphabet) as database:
      hits = next(iter(pyhmmer.hmmer.hmmsearch(
          hmm, database, cpus=self.cpus, F1=FILTER_P, F2=FILTER_P,
          F3=FILTER_P, E=E_VALUE, incE=E_VALUE, domE=E_VALUE,
          incdomE=E_VALUE)))
    if not len(hits.included):
      return '# STOCKHOLM 1.0\n//\n'
    stream = io.BytesIO()
    hits.to_msa(alphabet, all_consensus_cols=True).write(stream, 'stockholm')
    return stream.getvalue().decode()

  @staticmethod
  def get_template_hits(output: str, query_sequence: str
                        ) -> List[parsers.TemplateHit]:
    return parsers.parse_hmmsearch_stockholm(output, query_sequence)
