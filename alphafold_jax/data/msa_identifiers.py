"""Species of MSA rows, read from UniProt entry names (AlphaFold-Multimer
supplement, "MSA pairing").

Rows of the UniProt search are paired across chains by species. The species
is the mnemonic code that ends a UniProtKB entry name: `sp|P69905|HBA_HUMAN`
(Swiss-Prot: accession, then protein mnemonic _ species) and
`tr|A0A0A0MRZ7|A0A0A0MRZ7_HUMAN` (TrEMBL: the accession repeated) both give
`HUMAN`. Stockholm names carry the hit's residue range after a slash
(`.../HBA_HUMAN/1-141`), which is dropped; a trailing `_<digits>` (small BFD's
numbering) is ignored, as is an isoform suffix `_<digit>` on the accession.
Rows whose name is not a UniProt entry (the query, MGnify, BFD) have no
species: the empty string.
"""
from __future__ import annotations

import re
from typing import Optional

_UNIPROT_ENTRY = re.compile(
    r'^(?:sp|tr)\|'
    r'[A-Za-z0-9]{6,10}(?:_\d)?\|'  # Accession, optional isoform suffix.
    r'[A-Za-z0-9]+_'  # Protein mnemonic (Swiss-Prot) or accession (TrEMBL).
    r'(?P<species>[A-Za-z0-9]{1,5})'
    r'(?:_\d+)?$')


def _sequence_identifier(description: str) -> Optional[str]:
  """The first word of a description, without a `/start-end` range."""
  words = description.split()
  if not words:
    return None
  return words[0].partition('/')[0]


def species_identifier(description: str) -> str:
  """The UniProt species code of an MSA row's description ('' if none).

  Args:
    description: a FASTA header (without '>') or Stockholm sequence name,
      e.g. 'sp|P69905|HBA_HUMAN/1-141 Hemoglobin subunit alpha'.

  Returns:
    The species mnemonic ('HUMAN'), or '' when the first word is not a
    UniProtKB entry name.
  """
  identifier = _sequence_identifier(description)
  if identifier is None:
    return ''
  match = _UNIPROT_ENTRY.search(identifier.strip())
  return match.group('species') if match else ''
