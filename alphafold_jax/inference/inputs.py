"""Checks of a run's inputs, done before any search or model runs.

Each failure raises InputError with a message that names the file or flag
at fault: an empty or unreadable FASTA, letters that are not amino acids, a
reused search output that does not parse or belongs to another sequence, a
missing database or parameter file, a sequence too long for the memory
available.
"""
from __future__ import annotations

import os
from typing import List, Mapping, Optional, Sequence, Tuple

import jax
import ml_collections

from alphafold_jax.data import parsers
from alphafold_jax.model import memory_budget

# Fraction of the device's memory that a run may plan to use (the rest
# holds the parameters, XLA's workspace and fragmentation).
_USABLE_MEMORY_FRACTION = 0.8


class InputError(ValueError):
  """A bad input: the message says which and why."""


def read_fasta(path: str) -> Tuple[str, str]:
  """The (name, sequence) of a single-chain FASTA file.

  Raises:
    InputError: the file is missing, unreadable, empty, holds no or several
      sequences, or letters that are not amino acids.
  """
  try:
    with open(path) as f:
      text = f.read()
  except (OSError, UnicodeDecodeError) as e:
    raise InputError(f'Cannot read FASTA file {path}: {e}') from e
  if not text.strip():
    raise InputError(f'FASTA file {path} is empty.')
  try:
    records = parsers.parse_query_fasta(text, path)
  except parsers.ParseError as e:
    raise InputError(str(e)) from e
  if len(records) != 1:
    raise InputError(f'{path}: the monomer pipeline predicts one chain per '
                     f'FASTA file; this one holds {len(records)}.')
  return records[0]


def check_search_output(path: str, num_res: int) -> None:
  """A reused search output (an A3M, Stockholm or HHR file in msas/) parses
  and belongs to a query of num_res residues.

  A Stockholm file must end with its '//' line (jackhmmer writes it last, so
  a file without it was cut short). A file cut at a record boundary (an A3M
  or HHR with fewer hits) cannot be told from a shorter search result.

  Raises:
    InputError: '<path>: <problem>'.
  """
  try:
    text = parsers.read_text(path)
    if path.endswith('.hhr'):
      hits = parsers.parse_hhr(text, path)
    elif path.endswith('.a3m'):
      msa = parsers.parse_a3m(text, path)
    else:
      msa = parsers.parse_stockholm(text, path)
  except parsers.ParseError as e:
    raise InputError(str(e)) from e
  if path.endswith('.hhr'):
    for hit in hits:
      last = max(hit.indices_query, default=-1) + 1
      if last > num_res:
        raise InputError(f'{path}: hit {hit.index} aligns query residue '
                         f'{last}; the FASTA sequence has {num_res} residues '
                         '(a search of another sequence?).')
    return
  if not path.endswith('.a3m') and '//' not in (
      line.strip() for line in text.splitlines()):
    raise InputError(f'{path}: no "//" line at the end; the Stockholm file '
                     'was cut short.')
  width = len(msa.sequences[0])
  if width != num_res:
    raise InputError(f'{path}: the query (first row) has {width} residues; '
                     f'the FASTA sequence has {num_res} (a search of another '
                     'sequence?).')


def read_multimer_fasta(path: str) -> List[Tuple[str, str]]:
  """The [(name, sequence)] records of a complex's FASTA file, one per chain.

  Raises:
    InputError: the file is missing, unreadable or empty, a record is empty
      or holds letters that are not amino acids, or there are more chains
      than PDB chain ids.
  """
  # Imported here: the multimer pipeline is needed only for complexes.
  from alphafold_jax.data.multimer import pipeline as multimer_pipeline  # pylint: disable=g-import-not-at-top
  try:
    with open(path) as f:
      text = f.read()
  except (OSError, UnicodeDecodeError) as e:
    raise InputError(f'Cannot read FASTA file {path}: {e}') from e
  if not text.strip():
    raise InputError(f'FASTA file {path} is empty.')
  try:
    records = parsers.parse_query_fasta(text, path)
    multimer_pipeline.make_chain_id_map(text, path)
  except parsers.ParseError as e:
    raise InputError(str(e)) from e
  return records


def check_fasta_names(paths: Sequence[str]) -> None:
  """Outputs go to <output_dir>/<FASTA file stem>: stems must be unique."""
  stems = [os.path.splitext(os.path.basename(p))[0] for p in paths]
  duplicates = sorted({s for s in stems if stems.count(s) > 1})
  if duplicates:
    raise InputError(f'FASTA file names must be unique (they name the output '
                     f'folders); repeated: {", ".join(duplicates)}.')


def check_paths(paths: Mapping[str, Optional[str]], what: str) -> None:
  """Each path (by the flag that gave it) must exist.

  A database given as an HH-suite prefix exists when files named
  '<prefix>_*' do.

  Raises:
    InputError: naming every flag whose path is unset or missing.
  """
  problems = []
  for flag, path in paths.items():
    if not path:
      problems.append(f'--{flag} is not set')
    elif not (os.path.exists(path) or _has_prefixed_files(path)):
      problems.append(f'--{flag}: {path} does not exist')
  if problems:
    raise InputError(f'Missing {what}: ' + '; '.join(problems) + '.')


def _has_prefixed_files(prefix: str) -> bool:
  directory, base = os.path.split(prefix)
  directory = directory or '.'
  return os.path.isdir(directory) and any(
      name.startswith(base + '_') for name in os.listdir(directory))


def available_memory_bytes() -> int:
  """Memory of the first JAX device (GPU/TPU), or the host's free memory."""
  device = jax.devices()[0]
  stats = device.memory_stats() if device.platform != 'cpu' else None
  if stats and 'bytes_limit' in stats:
    return int(stats['bytes_limit'])
  try:
    with open('/proc/meminfo') as f:
      for line in f:
        if line.startswith('MemAvailable:'):
          return int(line.split()[1]) * 1024
  except OSError:
    pass
  return os.sysconf('SC_PAGE_SIZE') * os.sysconf('SC_PHYS_PAGES')


def check_memory(config: ml_collections.ConfigDict, num_res: int,
                 name: str, available: Optional[int] = None) -> None:
  """Raises InputError when a sequence would not fit in memory.

  The need is `memory_budget.estimate_peak_bytes` at the config's chunk
  size (`global_config.subbatch_size`), the estimate that also chooses the
  chunk for a memory budget, so a run is never refused by one estimate
  and planned by another.
  """
  available = available_memory_bytes() if available is None else available
  needed = memory_budget.estimate_peak_bytes(
      config, num_res, config.model.global_config.get('subbatch_size'))
  if needed > _USABLE_MEMORY_FRACTION * available:
    raise InputError(
        f'{name}: {num_res} residues need about {needed / 2**30:.1f} GiB of '
        f'memory; {available / 2**30:.1f} GiB are available. Use a device '
        'with more memory or predict a shorter sequence (e.g. a domain).')
