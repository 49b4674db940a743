"""Precomputed alignments of a training set: the data pipeline's searches
for every protein chain of a structure folder (OpenFold's precompute step).

Per distinct chain sequence, the searches of the monomer pipeline
(`pipeline.DataPipeline`: jackhmmer of UniRef90 and MGnify, HHblits of BFD +
UniRef30 or jackhmmer of small BFD; Suppl. 1.2.2), the template search
seeded by the UniRef90 alignment (HHsearch of PDB70 and/or hmmsearch of the
PDB seqres; Suppl. 1.2.3) and the jackhmmer UniProt search whose rows
AlphaFold-Multimer pairs across chains; each only when its database is
given. The outputs land in the layout `alignments` reads:

  <output_dir>/<pdb_id>_<chain>/
      uniref90_hits.sto  mgnify_hits.sto  bfd_uniclust_hits.a3m | small_bfd_hits.sto
      pdb70_hits.hhr  pdb_hits.sto  uniprot_hits.sto
  <output_dir>/precompute_report.json   done / skipped / failed chains

Chains are read as `chains.read_chains` reads them for the PDB build. Chains
with the same sequence (copies in a homomer, the same protein in several
entries) are searched once; the other chains' folders hold hard links to
(or copies of) the same files.

A chain's folder is written under a temporary name and renamed when every
search is in it, so a folder under the chain's name is whole. A run skips
the chains whose folder holds every output the given databases make, and
redoes the others: a folder left by an interrupted run is deleted, and a
folder missing outputs (a database added since) keeps the ones it has and
gains the missing ones. Search outputs are not checked against the
databases they came from: delete a folder to search it again.
"""
from __future__ import annotations

import concurrent.futures
import contextlib
import dataclasses
import logging
import multiprocessing
import os
import shutil
import tempfile
import uuid
from typing import Callable, Dict, Iterable, Iterator, List, Optional, Tuple

from alphafold_jax.common import atomic
from alphafold_jax.data import msa as msa_lib
from alphafold_jax.data import parsers
from alphafold_jax.data import pipeline as pipeline_lib
from alphafold_jax.data.datasets import alignments
from alphafold_jax.data.datasets import chains as chains_lib
from alphafold_jax.data.multimer import pipeline as multimer_pipeline
from alphafold_jax.data.tools import hhblits
from alphafold_jax.data.tools import hhsearch
from alphafold_jax.data.tools import hmmsearch
from alphafold_jax.data.tools import jackhmmer

PDB_SEQRES = 'pdb_hits.sto'  # hmmsearch of the PDB seqres (multimer's).
UNIPROT = multimer_pipeline.UNIPROT_OUTPUT
REPORT_FILE = 'precompute_report.json'
# Folders being written (and the old ones being replaced) have this prefix;
# any found when a run starts were left by an interrupted one.
_TEMP_PREFIX = '.precompute-'
# As chains.read_chains tells mmCIF entries from PDB files.
_MMCIF_SUFFIXES = ('.cif', '.cif.gz', '.mmcif', '.mmcif.gz')

logger = logging.getLogger(__name__)


class DatabaseError(ValueError):
  """A database flag that is missing, inconsistent or points nowhere."""


@dataclasses.dataclass(frozen=True)
class Databases:
  """The searched databases, named after run_alphafold.py's flags (None:
  not searched). Only uniref90 is required; bfd goes with uniref30."""
  uniref90_database_path: str
  mgnify_database_path: Optional[str] = None
  bfd_database_path: Optional[str] = None
  uniref30_database_path: Optional[str] = None
  small_bfd_database_path: Optional[str] = None
  pdb70_database_path: Optional[str] = None
  pdb_seqres_database_path: Optional[str] = None
  uniprot_database_path: Optional[str] = None

  def check(self) -> None:
    """Raises DatabaseError for a set of databases that cannot be searched
    (the tools' constructors check that the files and binaries exist)."""
    if not self.uniref90_database_path:
      raise DatabaseError('--uniref90_database_path is required (its '
                          'alignment is the first one and seeds templates).')
    if bool(self.bfd_database_path) != bool(self.uniref30_database_path):
      raise DatabaseError('--bfd_database_path and --uniref30_database_path '
                          'go together (HHblits searches both).')
    if self.bfd_database_path and self.small_bfd_database_path:
      raise DatabaseError('Give --bfd_database_path (HHblits) or '
                          '--small_bfd_database_path (jackhmmer), not both.')

  def outputs(self) -> Tuple[str, ...]:
    """The files a chain's folder holds when complete."""
    names = [alignments.UNIREF90]
    for path, name in ((self.mgnify_database_path, alignments.MGNIFY),
                       (self.bfd_database_path, alignments.BFD_UNICLUST),
                       (self.small_bfd_database_path, alignments.SMALL_BFD),
                       (self.pdb70_database_path, alignments.PDB70),
                       (self.pdb_seqres_database_path, PDB_SEQRES),
                       (self.uniprot_database_path, UNIPROT)):
      if path:
        names.append(name)
    return tuple(names)


@dataclasses.dataclass
class Searchers:
  """The search tools of one process.

  Attributes:
    msa_pipeline: the monomer pipeline's MSA searches (it reuses outputs
      already in the folder).
    template_searchers: output file name -> HHSearch or Hmmsearch.
    uniprot: jackhmmer of UniProt, or None.
  """
  msa_pipeline: pipeline_lib.DataPipeline
  template_searchers: Dict[str, object]
  uniprot: Optional[jackhmmer.Jackhmmer]


def make_searchers(databases: Databases, cpus: int = 0) -> Searchers:
  """The tools over `databases`, each using `cpus` threads (0: all cores).

  Raises:
    DatabaseError: see Databases.check.
    FileNotFoundError, ToolError: a database file or a binary is missing.
  """
  databases.check()
  d = databases
  bfd = None
  if d.bfd_database_path:
    bfd = hhblits.HHBlits([d.bfd_database_path, d.uniref30_database_path],
                          n_cpu=cpus or os.cpu_count() or 1)
  elif d.small_bfd_database_path:
    bfd = jackhmmer.Jackhmmer(d.small_bfd_database_path, cpus=cpus)
  msa_pipeline = pipeline_lib.DataPipeline(
      uniref90=jackhmmer.Jackhmmer(d.uniref90_database_path, cpus=cpus),
      mgnify=(jackhmmer.Jackhmmer(d.mgnify_database_path, cpus=cpus)
              if d.mgnify_database_path else None),
      bfd=bfd, bfd_is_jackhmmer=bool(d.small_bfd_database_path),
      use_precomputed_msas=True)
  template_searchers = {}
  if d.pdb70_database_path:
    template_searchers[alignments.PDB70] = hhsearch.HHSearch(
        [d.pdb70_database_path])
  if d.pdb_seqres_database_path:
    template_searchers[PDB_SEQRES] = hmmsearch.Hmmsearch(
        d.pdb_seqres_database_path, cpus=cpus)
  uniprot = (jackhmmer.Jackhmmer(d.uniprot_database_path, cpus=cpus)
             if d.uniprot_database_path else None)
  return Searchers(msa_pipeline, template_searchers, uniprot)


def search_sequence(sequence: str, folder: str, searchers: Searchers) -> None:
  """Runs the searches of one sequence into `folder`, keeping the outputs
  already there; every output is parsed before it counts as written.

  Raises:
    ParseError: an output that does not parse, or whose query row is not
      `sequence`.
    ToolError, ValueError: a search that fails.
  """
  os.makedirs(folder, exist_ok=True)
  with tempfile.TemporaryDirectory() as tmp:
    fasta = os.path.join(tmp, 'query.fasta')
    with open(fasta, 'w') as f:
      f.write(f'>query\n{sequence}\n')
    searchers.msa_pipeline.process(fasta, folder)
  uniref90 = parsers.read_text(os.path.join(folder, alignments.UNIREF90))
  for name, searcher in searchers.template_searchers.items():
    path = os.path.join(folder, name)
    if not os.path.exists(path):
      output = searcher.query(uniref90, max_sequences=msa_lib.UNIREF_MAX_HITS)
      searcher.get_template_hits(output, sequence, path)
      _write(path, output)
  path = os.path.join(folder, UNIPROT)
  if searchers.uniprot is not None and not os.path.exists(path):
    output = searchers.uniprot.query(sequence)
    if parsers.parse_stockholm(output, path).sequences[0] != sequence:
      raise parsers.ParseError(f'{path}: the first row is not the query.')
    _write(path, output)


def _write(path: str, text: str) -> None:
  with open(path, 'w') as f:
    f.write(text)


@dataclasses.dataclass(frozen=True)
class ChainResult:
  """What became of one chain: 'done' (written by this run), 'skipped'
  (complete before it) or 'failed' (with the reason)."""
  name: str
  source: str
  status: str
  reason: str = ''


@dataclasses.dataclass(frozen=True)
class _Task:
  """One distinct sequence and the chains that have it."""
  sequence: str
  chains: Tuple[Tuple[str, str], ...]  # (name, source file)
  output_dir: str
  databases: Databases
  cpus: int


def _one_line(text: str) -> str:
  return ' '.join(str(text).split())


def _is_complete(folder: str, outputs: Iterable[str]) -> bool:
  return all(os.path.isfile(os.path.join(folder, n)) for n in outputs)


def _new_temp_folder(output_dir: str, name: str) -> str:
  # os.mkdir, not tempfile.mkdtemp: the folder gets the umask's permissions
  # (mkdtemp's are the owner's only) and keeps them once renamed.
  path = os.path.join(output_dir, f'{_TEMP_PREFIX}{name}-{uuid.uuid4().hex}')
  os.mkdir(path)
  return path


def _link_files(source: str, dest: str, names: Iterable[str]) -> None:
  """Hard links (copies where the file system has none) of `names`."""
  for name in names:
    src = os.path.join(source, name)
    if not os.path.isfile(src) or os.path.exists(os.path.join(dest, name)):
      continue
    try:
      os.link(src, os.path.join(dest, name))
    except OSError:
      shutil.copy2(src, os.path.join(dest, name))


def _install(work: str, final: str) -> None:
  """Renames the whole folder `work` to `final`, replacing an incomplete
  one; files are synced first so that a crash cannot leave a folder under
  the chain's name with empty files in it."""
  for name in os.listdir(work):
    fd = os.open(os.path.join(work, name), os.O_RDONLY)
    try:
      os.fsync(fd)
    finally:
      os.close(fd)
  old = None
  if os.path.exists(final):
    old = os.path.join(os.path.dirname(final), f'{_TEMP_PREFIX}old-'
                       f'{os.path.basename(final)}-{uuid.uuid4().hex}')
    os.rename(final, old)
  os.rename(work, final)
  if old:
    shutil.rmtree(old)


# The tools of a worker process, made on its first task.
_SEARCHERS: Dict[Tuple[Databases, int], Searchers] = {}


def _process_task(task: _Task) -> Tuple[List[ChainResult], Optional[str]]:
  """Brings every chain folder of one sequence to complete.

  Returns:
    Each chain's result, and the chain searched (None when no search ran:
    every output was found in the existing folders).
  """
  outputs = task.databases.outputs()
  final = {name: os.path.join(task.output_dir, name)
           for name, _ in task.chains}
  todo = [(n, s) for n, s in task.chains if not _is_complete(final[n],
                                                             outputs)]
  results = [ChainResult(n, s, 'skipped') for n, s in task.chains
             if (n, s) not in todo]
  if not todo:
    return results, None
  first = todo[0][0]
  work = _new_temp_folder(task.output_dir, first)
  searched = None
  try:
    # Outputs already made for this sequence (a complete copy first, then
    # incomplete folders) are reused, not searched again; files of other
    # searches (databases not given this time) are kept too.
    for name, _ in sorted(task.chains, key=lambda c: (c in todo, c)):
      if os.path.isdir(final[name]):
        _link_files(final[name], work, os.listdir(final[name]))
    if not _is_complete(work, outputs):
      key = (task.databases, task.cpus)
      if key not in _SEARCHERS:
        _SEARCHERS[key] = make_searchers(task.databases, task.cpus)
      search_sequence(task.sequence, work, _SEARCHERS[key])
      searched = first
    for name, _ in todo[1:]:
      copy = _new_temp_folder(task.output_dir, name)
      _link_files(work, copy, os.listdir(work))
      _install(copy, final[name])
    _install(work, final[first])
  except Exception as e:  # pylint: disable=broad-except
    # Any failure of a search or a write loses this sequence only.
    shutil.rmtree(work, ignore_errors=True)
    reason = f'{type(e).__name__}: {_one_line(e)}'
    done = {n for n in final if os.path.isdir(final[n])
            and _is_complete(final[n], outputs)}
    return results + [ChainResult(n, s, 'done' if n in done else 'failed',
                                  '' if n in done else reason)
                      for n, s in todo], searched
  return results + [ChainResult(n, s, 'done') for n, s in todo], searched


def _read_structure(path: str) -> List[Tuple[str, str, str, str]]:
  """(name, source, sequence, reason) of every chain of one file; the
  sequence is '' and the reason set for what cannot be read."""
  source = os.path.basename(path)
  try:
    if path.lower().endswith(_MMCIF_SUFFIXES):
      read = chains_lib.read_mmcif_chains(path)
    else:
      read = [chains_lib.read_pdb_chain(path)]
  except Exception as e:  # pylint: disable=broad-except
    # A damaged file may fail deep in a parser; it must not stop the run.
    return [(source, source, '',
             f'unreadable: {type(e).__name__}: {_one_line(e)}')]
  return [(c.name, c.source, '', _one_line(c.reason))
          if isinstance(c, chains_lib.Skipped)
          else (c.name, c.source, c.sequence, '') for c in read]


@contextlib.contextmanager
def _mapper(num_workers: int) -> Iterator[Callable]:
  """An unordered map over `num_workers` processes (in this process for 1)."""
  if num_workers <= 1:
    yield lambda fn, items: (fn(item) for item in items)
    return
  # Spawned, not forked: the parent may hold JAX's or pyhmmer's threads.
  pool = concurrent.futures.ProcessPoolExecutor(
      num_workers, mp_context=multiprocessing.get_context('spawn'))

  def unordered_map(fn, items):
    futures = [pool.submit(fn, item) for item in items]
    for future in concurrent.futures.as_completed(futures):
      yield future.result()

  try:
    yield unordered_map
  except BaseException:
    # Interrupted (Ctrl-C, an error): neither the running searches nor the
    # queued ones may run on (a search can take hours). The executor has no
    # public way to stop its workers before Python 3.14's terminate_workers.
    for process in list(getattr(pool, '_processes', {}).values()):
      process.terminate()
    pool.shutdown(wait=False, cancel_futures=True)
    raise
  pool.shutdown()


def _remove_leftovers(output_dir: str) -> None:
  for name in os.listdir(output_dir):
    if name.startswith(_TEMP_PREFIX):
      logger.info('Removing %s, left by an interrupted run.', name)
      shutil.rmtree(os.path.join(output_dir, name), ignore_errors=True)


def precompute_alignments(structure_dir: str, output_dir: str,
                          databases: Databases, num_workers: int = 1,
                          fasta_output_path: Optional[str] = None
                          ) -> Dict[str, object]:
  """Searches every protein chain of `structure_dir` into `output_dir`.

  Args:
    structure_dir: mmCIF entries and single-chain PDB files (as
      `chains.read_chains` reads them).
    output_dir: where the '<pdb_id>_<chain>/' folders go.
    databases: what to search.
    num_workers: processes searching at once (each with an equal share of
      the cores).
    fasta_output_path: if set, a FASTA file of every chain read ('>name'
      and its sequence), e.g. for clustering or the distillation builder.

  Returns:
    The report (also written to <output_dir>/precompute_report.json):
    'done' (chains written by this run), 'skipped' (complete before),
    'failed' ({name, source, reason}: unreadable files and chains, failed
    searches), 'searched' (one chain per distinct sequence searched) and
    'counts'.

  Raises:
    DatabaseError, FileNotFoundError, ToolError: before any search, for a
      database or tool that is missing.
  """
  make_searchers(databases)  # Fails now, not in every worker.
  if not os.path.isdir(structure_dir):
    raise FileNotFoundError(f'no structure folder {structure_dir}')
  os.makedirs(output_dir, exist_ok=True)
  _remove_leftovers(output_dir)
  cpus = max(1, (os.cpu_count() or 1) // max(1, num_workers))
  failed: List[ChainResult] = []
  by_sequence: Dict[str, List[Tuple[str, str]]] = {}
  files = chains_lib.structure_files(structure_dir)
  with _mapper(num_workers) as unordered_map:
    for chains in unordered_map(_read_structure, files):
      for name, source, sequence, reason in chains:
        if reason:
          logger.warning('%s: %s; skipped.', source, reason)
          failed.append(ChainResult(name, source, 'failed', reason))
        else:
          by_sequence.setdefault(sequence, []).append((name, source))
    tasks = [_Task(sequence, tuple(sorted(chains)), output_dir, databases,
                   cpus) for sequence, chains in sorted(by_sequence.items(),
                                                        key=lambda x: x[1])]
    if fasta_output_path:
      atomic.write_bytes(fasta_output_path, ''.join(
          f'>{name}\n{task.sequence}\n' for task in tasks
          for name, _ in task.chains).encode())
    results: List[ChainResult] = []
    searched = []
    for i, (task_results, searched_chain) in enumerate(
        unordered_map(_process_task, tasks)):
      results.extend(task_results)
      if searched_chain:
        searched.append(searched_chain)
      for r in task_results:
        if r.status == 'failed':
          logger.warning('%s (%s): search failed: %s', r.name, r.source,
                         r.reason)
      logger.info('Sequence %d/%d: %s', i + 1, len(tasks), ', '.join(
          f'{r.name} {r.status}' for r in task_results))
  failed.extend(r for r in results if r.status == 'failed')
  report = {
      'done': sorted(r.name for r in results if r.status == 'done'),
      'skipped': sorted(r.name for r in results if r.status == 'skipped'),
      'failed': sorted(({'name': r.name, 'source': r.source,
                         'reason': r.reason} for r in failed),
                       key=lambda x: (x['source'], x['name'])),
      'searched': sorted(searched),
  }
  report['counts'] = {k: len(report[k]) for k in ('done', 'skipped',
                                                   'failed', 'searched')}
  atomic.write_json(os.path.join(output_dir, REPORT_FILE), report)
  return report
