"""Raw MSA features: alignments -> integer MSA and deletion matrix.

Suppl. 1.2.2 and Table 1 (`msa`, `deletion_matrix`): the alignments of the
genetic searches are stacked, identical sequences dropped (the first copy,
in search order, is kept) and each residue coded in HHblits' alphabet (the
order that `transforms.correct_msa_restypes` maps to the model's).
"""
from __future__ import annotations

from typing import Dict, Sequence

import numpy as np

from alphafold_jax.common import residue_constants
from alphafold_jax.data import msa_identifiers
from alphafold_jax.data import parsers

# Depth limits of the reference pipeline (Suppl. 1.2.2): the first hits of
# the jackhmmer UniRef90 and MGnify searches kept.
UNIREF_MAX_HITS = 10000
MGNIFY_MAX_HITS = 501


def make_msa_features(msas: Sequence[parsers.Msa]) -> Dict[str, np.ndarray]:
  """Stacks deduplicated alignments into the raw MSA features.

  Args:
    msas: alignments of the same query (N_res columns each); the query must be
      the first row of the first one.

  Returns:
    msa: [N_seq, N_res] int32 HHblits residue codes (gap 21, unknown 20).
    deletion_matrix_int: [N_seq, N_res] int32 deletions before each column.
    num_alignments: [N_res] int32, N_seq repeated.
    msa_species_identifiers: [N_seq] bytes objects, each row's UniProt
      species code (b'' for rows that are not UniProt entries); what
      AlphaFold-Multimer pairs the UniProt rows of different chains by.

  Raises:
    ValueError: no alignment, alignments of differing widths, or a letter
      outside HHblits' alphabet.
  """
  if not msas or not msas[0].sequences:
    raise ValueError('make_msa_features needs at least one non-empty MSA.')
  num_res = len(msas[0].sequences[0])
  seen = set()
  rows, deletions, species = [], [], []
  for index, msa in enumerate(msas):
    for sequence, deletion_row, description in zip(
        msa.sequences, msa.deletion_matrix, msa.descriptions):
      if len(sequence) != num_res:
        raise ValueError(
            f'MSA {index} has a row of {len(sequence)} columns; the query has '
            f'{num_res}.')
      if sequence in seen:
        continue
      seen.add(sequence)
      try:
        rows.append([residue_constants.HHBLITS_AA_TO_ID[r] for r in sequence])
      except KeyError as e:
        raise ValueError(f'MSA {index} has a row with the letter {e.args[0]!r}, '
                         'not an amino acid, X or gap.') from None
      deletions.append(deletion_row)
      species.append(msa_identifiers.species_identifier(description).encode())
  num_alignments = len(rows)
  return {
      'msa': np.asarray(rows, dtype=np.int32).reshape(num_alignments, num_res),
      'deletion_matrix_int': np.asarray(deletions, dtype=np.int32).reshape(
          num_alignments, num_res),
      'num_alignments': np.full((num_res,), num_alignments, dtype=np.int32),
      'msa_species_identifiers': np.array(species, dtype=object),
  }
