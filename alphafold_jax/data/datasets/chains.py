"""Training chains read from a folder of structures (Suppl. 1.2.1, 1.2.9).

Two kinds of file are read:
  * mmCIF entries ('<pdb_id>.cif', optionally .gz): every protein chain, its
    sequence the SEQRES one (modified residues mapped to their parent amino
    acid) with residues missing from the model masked out, and the entry's
    release date, resolution and experimental method;
  * single-chain PDB files ('<pdb_id><chain>.pdb' or '<pdb_id>_<chain>.pdb',
    optionally .gz): the residues with coordinates, numbered as in the file;
    the resolution from REMARK 2 when present, the release date unknown.
A file or chain that cannot be read becomes a `Skipped` with the reason.
"""
from __future__ import annotations

import dataclasses
import gzip
import os
import re
from typing import Iterator, List, Union

import numpy as np

from alphafold_jax.common import protein as protein_lib
from alphafold_jax.common import residue_constants
from alphafold_jax.data import mmcif as mmcif_lib
from alphafold_jax.data.datasets import filters

_MMCIF_SUFFIXES = ('.cif', '.cif.gz', '.mmcif', '.mmcif.gz')
_PDB_SUFFIXES = ('.pdb', '.pdb.gz', '.ent', '.ent.gz')
_PDB_CHAIN_FILE = re.compile(r'^([0-9][A-Za-z0-9]{3})_?([A-Za-z0-9]{1,4})$')
_PDB_RESOLUTION = re.compile(
    r'^REMARK   2 RESOLUTION\.\s+([0-9.]+)\s+ANGSTROM', re.MULTILINE)


@dataclasses.dataclass(frozen=True)
class ChainStructure:
  """One protein chain with its ground truth.

  Attributes:
    name: '<pdb_id>_<chain_id>' (the alignment folder's name).
    sequence: one-letter sequence [N_res], X for unknown residues.
    residue_index: [N_res] int32.
    all_atom_positions: [N_res, 37, 3] float32 Å.
    all_atom_mask: [N_res, 37] float32; all zero for residues missing from
      the model.
    resolution: Å, 0 when not reported.
    release_date: 'YYYY-MM-DD', '' when unknown.
    structure_method: experimental method(s), lower case, '' when unknown.
    source: the file's name.
  """
  name: str
  sequence: str
  residue_index: np.ndarray
  all_atom_positions: np.ndarray
  all_atom_mask: np.ndarray
  resolution: float
  release_date: str
  structure_method: str
  source: str


@dataclasses.dataclass(frozen=True)
class Skipped:
  """A chain (or a whole file, named after it) left out, and why."""
  name: str
  source: str
  reason: str


ChainOrSkipped = Union[ChainStructure, Skipped]


def _read_text(path: str) -> str:
  opener = gzip.open if path.endswith('.gz') else open
  with opener(path, 'rt') as f:
    return f.read()


def _stem(filename: str) -> str:
  for suffix in _MMCIF_SUFFIXES + _PDB_SUFFIXES:
    if filename.lower().endswith(suffix):
      return filename[:-len(suffix)]
  return filename


def read_mmcif_chains(path: str) -> List[ChainOrSkipped]:
  """Every protein chain of one mmCIF entry, in chain-id order."""
  source = os.path.basename(path)
  pdb_id = _stem(source).lower()
  try:
    entry = mmcif_lib.read(path, pdb_id)
  except mmcif_lib.MmcifError as e:
    return [Skipped(pdb_id, source, f'unreadable mmCIF: {e}')]
  header = entry.header
  results: List[ChainOrSkipped] = []
  for chain_id in sorted(entry.chain_to_seqres):
    name = filters.chain_name(pdb_id, chain_id)
    try:
      positions, mask = mmcif_lib.get_atom_positions(entry, chain_id)
    except mmcif_lib.MmcifError as e:
      results.append(Skipped(name, source, str(e)))
      continue
    sequence = entry.chain_to_seqres[chain_id]
    results.append(ChainStructure(
        name=name, sequence=sequence,
        residue_index=np.arange(len(sequence), dtype=np.int32),
        all_atom_positions=positions, all_atom_mask=mask,
        resolution=float(header['resolution']),
        release_date=str(header['release_date']),
        structure_method=str(header['structure_method']), source=source))
  return results


def read_pdb_chain(path: str) -> ChainOrSkipped:
  """The single chain of a '<pdb_id><chain>.pdb[.gz]' file."""
  source = os.path.basename(path)
  match = _PDB_CHAIN_FILE.match(_stem(source))
  if not match:
    return Skipped(_stem(source), source, 'the file name is not '
                   '<pdb_id><chain>.pdb or <pdb_id>_<chain>.pdb')
  name = filters.chain_name(match.group(1), match.group(2))
  try:
    text = _read_text(path)
    prot = protein_lib.from_pdb_string(text, match.group(2), source=source)
  except Exception as e:  # Unreadable files raise many types (gzip, parser).
    return Skipped(name, source, f'unreadable PDB file: {e}')
  if not len(prot.aatype):
    return Skipped(name, source, f'no residue of chain {match.group(2)}')
  resolution = _PDB_RESOLUTION.search(text)
  return ChainStructure(
      name=name,
      sequence=''.join(residue_constants.restypes_with_x[a]
                       for a in prot.aatype),
      residue_index=np.asarray(prot.residue_index, np.int32),
      all_atom_positions=np.asarray(prot.atom_positions, np.float32),
      all_atom_mask=np.asarray(prot.atom_mask, np.float32),
      resolution=float(resolution.group(1)) if resolution else 0.,
      release_date='', structure_method='', source=source)


def structure_files(folder: str) -> List[str]:
  """The mmCIF and PDB files of a folder, sorted by name."""
  names = sorted(n for n in os.listdir(folder)
                 if n.lower().endswith(_MMCIF_SUFFIXES + _PDB_SUFFIXES))
  return [os.path.join(folder, n) for n in names]


def file_stem(filename: str) -> str:
  """The file name without its structure suffix ('5PTI.cif.gz' -> '5PTI')."""
  return _stem(filename)


def mmcif_files(folder: str) -> List[str]:
  """The mmCIF files of a folder, sorted by name."""
  return [p for p in structure_files(folder)
          if p.lower().endswith(_MMCIF_SUFFIXES)]


def read_chains(folder: str) -> Iterator[ChainOrSkipped]:
  """Every chain of every structure file of `folder`, in a fixed order."""
  for path in structure_files(folder):
    if path.lower().endswith(_MMCIF_SUFFIXES):
      yield from read_mmcif_chains(path)
    else:
      yield read_pdb_chain(path)
