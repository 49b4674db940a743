"""Parsers for the text formats of the search tools (Suppl. 1.2.2-1.2.3).

FASTA (queries and databases), A3M (HHblits alignments: lower-case letters
are insertions relative to the query, counted into the deletion matrix),
Stockholm (jackhmmer/hmmsearch alignments: columns where the query has a gap
are insert columns, counted the same way) and HHR (HHsearch hit lists, the
template hits of Suppl. 1.2.3).
"""
from __future__ import annotations

import dataclasses
import re
import string
from typing import Iterator, List, Optional, Sequence, Tuple

# Letters accepted in a query sequence: the 20 standard amino acids, the
# unknown residue X and the ambiguity/rare codes that the features map to X.
_AMINO_ACID_LETTERS = frozenset('ACDEFGHIKLMNPQRSTVWY' 'X' 'BJOUZ')
_GAP = '-'
_LOWERCASE_DELETER = str.maketrans('', '', string.ascii_lowercase + '.')
# Characters of an aligned row: residue letters (upper case aligned, lower
# case inserted), '-' gaps and '.' padding of insert columns. Anything else
# (a '*', a control character, a non-ASCII letter) is a damaged file, and
# would otherwise break the column counts or the HHblits residue codes.
_ALIGNED_ROW_CHARS = frozenset(string.ascii_letters + _GAP + '.')

# The statistics line of a detailed HHR hit.
_HHR_SUM_PROBS = re.compile(r'Sum_probs=([-+0-9.eE]+)')
_HHR_ALIGNED_COLS = re.compile(r'Aligned_cols=([0-9]+)')
# Query/template rows of an HHR alignment that are annotations, not residues.
_HHR_ANNOTATION_ROWS = ('ss_dssp', 'ss_pred', 'ss_conf', 'Consensus')
_HHR_SEGMENT_CHARS = frozenset(string.ascii_letters + _GAP)


class ParseError(ValueError):
  """A file that does not follow its format; the message names the file."""


def read_text(path: str) -> str:
  """The UTF-8 text of a file.

  Raises:
    ParseError: the file cannot be read or is not UTF-8 text (a binary or
      damaged file), naming it.
  """
  try:
    with open(path, 'rb') as f:
      data = f.read()
  except OSError as e:
    raise ParseError(f'{path}: cannot read: {e.strerror or e}') from e
  return decode_text(data, path)


def decode_text(data: bytes, source: str = '<bytes>') -> str:
  """`data` as UTF-8 text; ParseError naming `source` otherwise."""
  try:
    return data.decode('utf-8')
  except UnicodeDecodeError as e:
    raise ParseError(f'{source}: not UTF-8 text (byte {e.start} is '
                     f'{data[e.start]:#04x}).') from e


def _check_row_characters(row: str, description: str, source: str) -> None:
  bad = set(row) - _ALIGNED_ROW_CHARS
  if bad:
    raise ParseError(f'{source}: row {description!r} has characters that are '
                     f'neither residues nor gaps: {"".join(sorted(bad))!r}.')


@dataclasses.dataclass(frozen=True)
class Msa:
  """A multiple sequence alignment aligned to the query's columns.

  Attributes:
    sequences: [N_seq] strings of length N_res (upper-case letters and '-');
      the first is the query.
    deletion_matrix: [N_seq][N_res] number of residues deleted (insertions
      relative to the query) before each aligned column.
    descriptions: [N_seq] FASTA/Stockholm names of the sequences.
  """
  sequences: Tuple[str, ...]
  deletion_matrix: Tuple[Tuple[int, ...], ...]
  descriptions: Tuple[str, ...]

  def __post_init__(self):
    if not (len(self.sequences) == len(self.deletion_matrix)
            == len(self.descriptions)):
      raise ValueError(
          f'Msa needs as many sequences ({len(self.sequences)}), deletion '
          f'rows ({len(self.deletion_matrix)}) and descriptions '
          f'({len(self.descriptions)}).')

  def __len__(self) -> int:
    return len(self.sequences)

  def truncate(self, max_seqs: int) -> 'Msa':
    """The first `max_seqs` sequences (the depth limits of Suppl. 1.2.2)."""
    return Msa(self.sequences[:max_seqs], self.deletion_matrix[:max_seqs],
               self.descriptions[:max_seqs])


@dataclasses.dataclass(frozen=True)
class TemplateHit:
  """One hit of a template search (HHR block or Stockholm row).

  Attributes:
    index: 1-based rank of the hit in the search output.
    name: the hit's description, starting with its PDB id and chain
      (e.g. '2RBG_A ...').
    aligned_cols: number of aligned columns.
    sum_probs: sum of the posterior probabilities of the aligned columns
      (Suppl. 1.2.3), None where the tool does not report it.
    query: aligned query segment (with '-').
    hit_sequence: aligned hit segment (with '-'): for HHR hits the same
      length as `query`; for hmmsearch hits it also holds the residues the
      hit inserts between query columns (upper case).
    indices_query: [N_col] 0-based query residue index per alignment column,
      -1 at query gaps.
    indices_hit: [N_col] 0-based hit residue index per column (in the
      template chain's numbering), -1 at hit gaps.
  """
  index: int
  name: str
  aligned_cols: int
  sum_probs: Optional[float]
  query: str
  hit_sequence: str
  indices_query: Tuple[int, ...]
  indices_hit: Tuple[int, ...]


def _fasta_records(text: str, source: str) -> Iterator[Tuple[str, str]]:
  description = None
  chunks: List[str] = []
  for line_number, line in enumerate(text.splitlines(), start=1):
    line = line.strip()
    if line.startswith('>'):
      if description is not None:
        yield description, ''.join(chunks)
      description, chunks = line[1:], []
    elif line:
      if description is None:
        raise ParseError(f'{source}, line {line_number}: sequence before the '
                         'first ">" header.')
      chunks.append(line)
  if description is not None:
    yield description, ''.join(chunks)


def parse_fasta(text: str, source: str = '<string>'
                ) -> Tuple[List[str], List[str]]:
  """Sequences and descriptions of a FASTA text, in file order.

  Lenient, for databases and alignments: sequences are returned as written
  (no checks on letters, empty records or duplicate names).

  Args:
    text: FASTA content.
    source: file name used in error messages.

  Returns:
    (sequences, descriptions), two lists of equal length.
  """
  records = list(_fasta_records(text, source))
  return [s for _, s in records], [d for d, _ in records]


def parse_query_fasta(text: str, source: str = '<string>'
                      ) -> List[Tuple[str, str]]:
  """The records of a query FASTA file, checked.

  Args:
    text: FASTA content with one or more protein chains.
    source: file name used in error messages.

  Returns:
    [(name, sequence)] with upper-case sequences; `name` is the first word of
    the header.

  Raises:
    ParseError: no records, an empty name or sequence, a letter that is not
      an amino acid, or two records with the same name.
  """
  records = []
  seen = set()
  for description, sequence in _fasta_records(text, source):
    name = description.split()[0] if description.split() else ''
    if not name:
      raise ParseError(f'{source}: a record has an empty name (">" alone).')
    if name in seen:
      raise ParseError(f'{source}: duplicate record name {name!r}.')
    seen.add(name)
    sequence = sequence.upper()
    if not sequence:
      raise ParseError(f'{source}: record {name!r} has an empty sequence.')
    bad = sorted(set(sequence) - _AMINO_ACID_LETTERS)
    if bad:
      raise ParseError(f'{source}: record {name!r} contains letters that are '
                       f'not amino acids: {"".join(bad)!r}.')
    records.append((name, sequence))
  if not records:
    raise ParseError(f'{source}: no FASTA records found.')
  return records


def parse_a3m(text: str, source: str = '<string>') -> Msa:
  """Parses an A3M alignment (HHblits output).

  Upper-case letters and '-' are aligned to query columns; each run of
  lower-case letters is an insertion, counted into the deletion matrix entry
  of the next aligned column (Suppl. 1.2.9, `deletion_matrix`).

  Args:
    text: A3M content; the first record is the query.
    source: file name used in error messages.

  Returns:
    The Msa, all rows of the query's length.

  Raises:
    ParseError: no records, a row with characters other than letters, '-'
      and '.', or rows of differing aligned length.
  """
  sequences, descriptions = parse_fasta(text, source)
  if not sequences:
    raise ParseError(f'{source}: no sequences in the A3M alignment.')
  aligned, deletion_matrix = [], []
  for sequence, description in zip(sequences, descriptions):
    _check_row_characters(sequence, description, source)
    deletions, count = [], 0
    for residue in sequence:
      if residue.islower():
        count += 1
      elif residue != '.':
        deletions.append(count)
        count = 0
    aligned.append(sequence.translate(_LOWERCASE_DELETER))
    deletion_matrix.append(tuple(deletions))
  _check_query(aligned[0], descriptions[0], source)
  _check_aligned_lengths(aligned, descriptions, source)
  return Msa(tuple(aligned), tuple(deletion_matrix), tuple(descriptions))


def _check_aligned_lengths(sequences: Sequence[str],
                           descriptions: Sequence[str], source: str) -> None:
  for sequence, description in zip(sequences, descriptions):
    if len(sequence) != len(sequences[0]):
      raise ParseError(
          f'{source}: row {description!r} has {len(sequence)} aligned columns, '
          f'the query has {len(sequences[0])}.')


def _stockholm_rows(text: str, dots_as_gaps: bool, source: str
                    ) -> Tuple[List[str], List[str]]:
  """Names and rows of a Stockholm text, blocks concatenated; '.' (padding
  of insert columns) becomes '-' when `dots_as_gaps`."""
  rows = {}
  for line in text.splitlines():
    line = line.strip()
    if not line or line.startswith('#') or line == '//':
      continue
    fields = line.split()
    row = ''.join(fields[1:])
    _check_row_characters(row, fields[0], source)
    if dots_as_gaps:
      row = row.replace('.', _GAP)
    rows[fields[0]] = rows.get(fields[0], '') + row
  return list(rows), list(rows.values())


def _check_query(sequence: str, description: str, source: str) -> None:
  if not sequence.strip(_GAP):
    raise ParseError(f'{source}: the query (first row, {description!r}) has '
                     'no residues.')


def parse_stockholm(text: str, source: str = '<string>') -> Msa:
  """Parses a Stockholm alignment (jackhmmer/hmmsearch output).

  The first row is the query. Columns where the query has a gap are insert
  columns: they are dropped and their residues counted into the deletion
  matrix of the next query column. '.' and '-' are both gaps.

  Args:
    text: Stockholm content.
    source: file name used in error messages.

  Returns:
    The Msa over the query's residues.

  Raises:
    ParseError: no sequences, a query without residues, characters other
      than letters, '-' and '.', or rows of differing length.
  """
  names, rows = _stockholm_rows(text, dots_as_gaps=True, source=source)
  if not rows:
    raise ParseError(f'{source}: no sequences in the Stockholm alignment.')
  _check_query(rows[0], names[0], source)
  _check_aligned_lengths(rows, names, source)
  query = rows[0]
  keep = [i for i, residue in enumerate(query) if residue != _GAP]
  sequences, deletion_matrix = [], []
  for row in rows:
    sequences.append(''.join(row[i] for i in keep).upper())
    deletions, count = [], 0
    for residue, query_residue in zip(row, query):
      if query_residue != _GAP:
        deletions.append(count)
        count = 0
      elif residue != _GAP:
        count += 1
    deletion_matrix.append(tuple(deletions))
  return Msa(tuple(sequences), tuple(deletion_matrix), tuple(names))


def stockholm_to_a3m(text: str, source: str = '<string>',
                     max_sequences: Optional[int] = None) -> str:
  """Rewrites a Stockholm alignment as A3M (insert-column residues in
  lower case, gaps in insert columns removed), keeping at most
  `max_sequences` rows. Used to hand jackhmmer output to HHsearch."""
  names, rows = _stockholm_rows(text, dots_as_gaps=True, source=source)
  if not rows:
    raise ParseError(f'{source}: no sequences in the Stockholm alignment.')
  _check_aligned_lengths(rows, names, source)
  query = rows[0]
  lines = []
  for name, row in list(zip(names, rows))[:max_sequences]:
    # Upper case in the query's columns whatever the file's case, as
    # parse_stockholm reads them; a lower-case letter there would be taken
    # for an insertion.
    a3m = ''.join(r.upper() if q != _GAP else r.lower()
                  for r, q in zip(row, query) if q != _GAP or r != _GAP)
    lines.extend([f'>{name}', a3m])
  return '\n'.join(lines) + '\n'


def _hhr_residue_indices(segment: str, start: int) -> List[int]:
  indices, counter = [], start
  for residue in segment:
    if residue == _GAP:
      indices.append(-1)
    else:
      indices.append(counter)
      counter += 1
  return indices


def _parse_hhr_hit(lines: Sequence[str], source: str) -> TemplateHit:
  """One detailed HHR block, from its 'No <k>' line to the next one."""
  try:
    index = int(lines[0].split()[1])
  except (IndexError, ValueError):
    raise ParseError(f'{source}: bad HHR hit header {lines[0]!r}.') from None
  if len(lines) < 3 or not lines[1].startswith('>') or not lines[1][1:].strip():
    raise ParseError(f'{source}: HHR hit {index} has no ">name" line.')
  stats = lines[2]
  aligned_cols = _HHR_ALIGNED_COLS.search(stats)
  if aligned_cols is None:
    raise ParseError(f'{source}: HHR hit {index} has no Aligned_cols in '
                     f'{stats!r}.')
  sum_probs = _HHR_SUM_PROBS.search(stats)
  try:
    sum_probs = float(sum_probs.group(1)) if sum_probs else None
  except ValueError:
    raise ParseError(f'{source}: HHR hit {index}: bad Sum_probs in '
                     f'{stats!r}.') from None
  query, hit = [], []
  indices_query, indices_hit = [], []
  for line in lines[3:]:
    if not line.startswith(('Q ', 'T ')):
      continue
    fields = line.split()
    if len(fields) < 5 or fields[1] in _HHR_ANNOTATION_ROWS:
      continue
    try:
      start, segment = int(fields[2]), fields[3]
    except ValueError:
      start, segment = 0, ''
    # Residue numbers are 1-based; the segment holds residues and '-' gaps.
    if start < 1 or set(segment) - _HHR_SEGMENT_CHARS:
      raise ParseError(f'{source}: HHR hit {index}: bad alignment line '
                       f'{line!r}.')
    if line.startswith('Q '):
      query.append(segment)
      indices_query.extend(_hhr_residue_indices(segment, start - 1))
    else:
      hit.append(segment)
      indices_hit.extend(_hhr_residue_indices(segment, start - 1))
  query_str, hit_str = ''.join(query), ''.join(hit)
  if len(query_str) != len(hit_str):
    raise ParseError(f'{source}: HHR hit {index}: query and template '
                     'alignments differ in length.')
  return TemplateHit(
      index=index, name=lines[1][1:].strip(),
      aligned_cols=int(aligned_cols.group(1)),
      sum_probs=sum_probs,
      query=query_str, hit_sequence=hit_str,
      indices_query=tuple(indices_query), indices_hit=tuple(indices_hit))


def parse_hhr(text: str, source: str = '<string>') -> List[TemplateHit]:
  """The template hits of an HHsearch .hhr file, in rank order.

  Raises:
    ParseError: a hit block without its name, statistics or a well-formed
      alignment (query and template rows of equal length, residues and '-').
  """
  lines = text.splitlines()
  starts = [i for i, line in enumerate(lines) if line.startswith('No ')]
  ends = starts[1:] + [len(lines)]
  return [_parse_hhr_hit(lines[s:e], source) for s, e in zip(starts, ends)]


def parse_hmmsearch_stockholm(text: str, query_sequence: str,
                              source: str = '<string>') -> List[TemplateHit]:
  """Template hits from an hmmsearch Stockholm alignment against the query
  profile (Suppl. 1.2.3).

  The profile's match states are the query's residues, so in each row
  upper-case letters and '-' are aligned to successive query residues,
  lower-case letters are hit residues inserted between them and '.' is
  padding. The hit's sequence keeps its insertions (so that without gaps it
  is a contiguous piece of the template chain). Row names are 'PDBID_CHAIN/start-end' (1-based range of the hit
  within the template chain). hmmsearch reports no sum of probabilities:
  sum_probs is 0.

  Args:
    text: hmmsearch Stockholm output (hits only).
    query_sequence: the query, N_res residues (the profile length).
    source: file name used in error messages.

  Returns:
    One TemplateHit per row, in output order, with query-length alignments.
  """
  names, rows = _stockholm_rows(text, dots_as_gaps=False, source=source)
  hits = []
  for index, (name, row) in enumerate(zip(names, rows), start=1):
    match = re.search(r'/(\d+)-(\d+)$', name)
    counter = int(match.group(1)) - 1 if match else 0
    indices_hit = []
    for residue in row:
      if residue == '.':
        continue
      if residue.islower():
        counter += 1
      elif residue == _GAP:
        indices_hit.append(-1)
      else:
        indices_hit.append(counter)
        counter += 1
    if len(indices_hit) != len(query_sequence):
      raise ParseError(
          f'{source}: hit {name!r} has {len(indices_hit)} match columns, the '
          f'query has {len(query_sequence)} residues.')
    hits.append(TemplateHit(
        index=index, name=name.split('/')[0],
        aligned_cols=sum(i > -1 for i in indices_hit), sum_probs=0.0,
        query=query_sequence, hit_sequence=row.replace('.', '').upper(),
        indices_query=tuple(range(len(query_sequence))),
        indices_hit=tuple(indices_hit)))
  return hits
