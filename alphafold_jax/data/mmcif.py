"""mmCIF parsing through Biopython, for templates and training structures.

Gives, per protein chain (author chain id): the SEQRES sequence with
modified residues mapped to their parent amino acid, the structure residue
at each SEQRES position (or that it is missing), atom37 coordinates and
masks (Suppl. 1.2.3, 1.2.9), and the entry's header: release date,
resolution and experimental method.
"""
from __future__ import annotations

import collections
import dataclasses
import datetime
import gzip
import io
import zlib
from typing import Dict, List, Mapping, Optional, Tuple

import numpy as np
from Bio.Data import PDBData
from Bio.PDB import MMCIFParser
from Bio.PDB.MMCIF2Dict import MMCIF2Dict

from alphafold_jax.common import protein
from alphafold_jax.common import residue_constants
from alphafold_jax.data import parsers

# Consecutive C-alpha atoms further apart than this (Å) mean a broken file.
MAX_CA_CA_DISTANCE = 150.
# mmCIF fields holding the resolution, in order of preference.
_RESOLUTION_FIELDS = ('_refine.ls_d_res_high',
                      '_em_3d_reconstruction.resolution',
                      '_reflns.d_resolution_high')
_WATER = ('HOH', 'WAT')
# Prefixes of the mmCIF categories of biological assemblies.
_ASSEMBLY_CATEGORIES = ('_pdbx_struct_assembly', '_pdbx_struct_oper_list.')
# The _atom_site columns that `parse` reads.
_ATOM_SITE_COLUMNS = ('label_asym_id', 'auth_asym_id', 'label_seq_id',
                      'auth_seq_id', 'pdbx_PDB_ins_code', 'label_comp_id',
                      'group_PDB', 'pdbx_PDB_model_num')


class MmcifError(parsers.ParseError):
  """An mmCIF file that cannot be used; the message names the file."""


@dataclasses.dataclass(frozen=True)
class ResidueAtPosition:
  """The structure residue at one SEQRES position.

  Attributes:
    residue_id: Biopython residue id (hetflag, number, insertion code), None
      when the residue is missing from the model.
    name: three-letter residue name.
    is_missing: no coordinates for this SEQRES residue.
  """
  residue_id: Optional[Tuple[str, int, str]]
  name: str
  is_missing: bool


@dataclasses.dataclass(frozen=True)
class MmcifObject:
  """A parsed mmCIF entry (first model only).

  Attributes:
    file_id: the entry id (as given to `parse`).
    header: release_date ('YYYY-MM-DD', the earliest revision),
      resolution (Å, 0.0 when not reported), structure_method (lower-case,
      comma-joined experimental methods).
    structure: the Biopython model.
    chain_to_seqres: author chain id -> one-letter SEQRES sequence.
    seqres_to_structure: author chain id -> {SEQRES index: residue}.
    label_to_auth: label_asym_id -> author chain id, for the polymer chains
      with coordinates (biological assemblies name chains by label id).
    assembly_info: the entry's _pdbx_struct_assembly*,
      _pdbx_struct_oper_list.* fields as lists of strings (see
      bio_assembly.py), empty when the entry gives none.
  """
  file_id: str
  header: Mapping[str, object]
  structure: object
  chain_to_seqres: Mapping[str, str]
  seqres_to_structure: Mapping[str, Mapping[int, ResidueAtPosition]]
  label_to_auth: Mapping[str, str] = dataclasses.field(default_factory=dict)
  assembly_info: Mapping[str, List[str]] = dataclasses.field(
      default_factory=dict)


def _as_list(value) -> List[str]:
  return value if isinstance(value, list) else [value]


def _one_letter(residue_name: str) -> str:
  """Parent amino acid of a (possibly modified) residue, X if unknown."""
  code = PDBData.protein_letters_3to1_extended.get(residue_name.upper(), 'X')
  return code if len(code) == 1 else 'X'


def _header(info: Mapping[str, List[str]]) -> Dict[str, object]:
  dates = info.get('_pdbx_audit_revision_history.revision_date')
  if dates:
    release_date = min(_as_list(dates))
  else:
    release_date = _as_list(info.get(
        '_pdbx_database_status.recvd_initial_deposition_date', ['?']))[0]
  resolution = 0.
  for field in _RESOLUTION_FIELDS:
    for value in _as_list(info.get(field, [])):
      try:
        resolution = float(value)
        break
      except ValueError:
        continue
    if resolution:
      break
  methods = _as_list(info.get('_exptl.method', []))
  return {'release_date': release_date, 'resolution': resolution,
          'structure_method': ','.join(m.lower() for m in methods)}


def _protein_entities(info: Mapping[str, List[str]]) -> Dict[str, List[str]]:
  """entity id -> SEQRES residue names, for polymer entities containing a
  peptide-linked monomer."""
  peptide = {c for c, t in zip(_as_list(info.get('_chem_comp.id', [])),
                               _as_list(info.get('_chem_comp.type', [])))
             if 'peptide' in t.lower()}
  entities = collections.defaultdict(list)
  for entity, name in zip(_as_list(info.get('_entity_poly_seq.entity_id', [])),
                          _as_list(info.get('_entity_poly_seq.mon_id', []))):
    entities[entity].append(name)
  return {e: names for e, names in entities.items()
          if any(n in peptide for n in names)}


def _atom_site(info: Mapping[str, List[str]], source: str
               ) -> Dict[str, List[str]]:
  """The _atom_site columns that `parse` reads, all of one length."""
  missing = [k for k in _ATOM_SITE_COLUMNS if f'_atom_site.{k}' not in info]
  if missing:
    raise MmcifError(f'{source}: no _atom_site.{missing[0]} (a truncated or '
                     'damaged file).')
  atoms = {k: _as_list(info[f'_atom_site.{k}']) for k in _ATOM_SITE_COLUMNS}
  lengths = {len(column) for column in atoms.values()}
  if len(lengths) != 1:
    raise MmcifError(f'{source}: _atom_site columns of differing lengths '
                     f'{sorted(lengths)} (a truncated or damaged file).')
  return atoms


def parse(text: str, file_id: str, source: Optional[str] = None
          ) -> MmcifObject:
  """Parses mmCIF text.

  Args:
    text: mmCIF content.
    file_id: the entry id, used in the result.
    source: names the file in error messages; file_id when None.

  Returns:
    The MmcifObject of the first model's protein chains.

  Raises:
    MmcifError: text that is not mmCIF, a missing or malformed field that
      `parse` reads, no release date or no protein chain.
  """
  source = source or file_id
  try:
    info = MMCIF2Dict(io.StringIO(text))
    structure = MMCIFParser(QUIET=True).get_structure(file_id,
                                                      io.StringIO(text))
  except Exception as e:  # Biopython raises many types on bad input.
    raise MmcifError(f'{source}: cannot parse the mmCIF file: {e}') from e
  models = list(structure)
  if not models:
    raise MmcifError(f'{source}: no model in the mmCIF file.')
  model = models[0]
  entities = _protein_entities(info)
  if not entities:
    raise MmcifError(f'{source}: no protein chain in the mmCIF file.')
  header = _header(info)
  try:
    datetime.date.fromisoformat(str(header['release_date']))
  except ValueError:
    raise MmcifError(f'{source}: no release date (YYYY-MM-DD), got '
                     f'{header["release_date"]!r}.') from None

  atoms = _atom_site(info, source)
  first_model = atoms['pdbx_PDB_model_num'][0]
  label_to_auth, present = {}, collections.defaultdict(dict)
  for i in range(len(atoms['label_asym_id'])):
    if (atoms['pdbx_PDB_model_num'][i] != first_model
        or atoms['label_seq_id'][i] in ('.', '?')):
      continue
    label, auth = atoms['label_asym_id'][i], atoms['auth_asym_id'][i]
    label_to_auth[label] = auth
    name = atoms['label_comp_id'][i]
    hetflag = ' '
    if atoms['group_PDB'][i] == 'HETATM':
      hetflag = 'W' if name in _WATER else 'H_' + name
    insertion = atoms['pdbx_PDB_ins_code'][i]
    insertion = ' ' if insertion in ('.', '?') else insertion
    try:
      seq_index = int(atoms['label_seq_id'][i]) - 1
      auth_seq_id = int(atoms['auth_seq_id'][i])
    except ValueError:
      raise MmcifError(f'{source}: atom {i + 1} has a residue number that is '
                       f'not an integer ({atoms["label_seq_id"][i]!r}, '
                       f'{atoms["auth_seq_id"][i]!r}).') from None
    present[label][seq_index] = ((hetflag, auth_seq_id, insertion), name)

  chain_to_seqres, seqres_to_structure = {}, {}
  for label, entity in zip(_as_list(info.get('_struct_asym.id', [])),
                           _as_list(info.get('_struct_asym.entity_id', []))):
    if entity not in entities or label not in label_to_auth:
      continue
    auth = label_to_auth[label]
    names = entities[entity]
    chain_to_seqres[auth] = ''.join(_one_letter(n) for n in names)
    seqres_to_structure[auth] = {
        i: (ResidueAtPosition(present[label][i][0], present[label][i][1],
                              False) if i in present[label]
            else ResidueAtPosition(None, name, True))
        for i, name in enumerate(names)}
  if not chain_to_seqres:
    raise MmcifError(f'{source}: no protein chain with coordinates.')
  assembly_info = {k: _as_list(v) for k, v in info.items()
                   if k.startswith(_ASSEMBLY_CATEGORIES)}
  return MmcifObject(file_id=file_id, header=header, structure=model,
                     chain_to_seqres=chain_to_seqres,
                     seqres_to_structure=seqres_to_structure,
                     label_to_auth=dict(label_to_auth),
                     assembly_info=assembly_info)


def read(path: str, file_id: Optional[str] = None) -> MmcifObject:
  """Parses an mmCIF file (plain or .gz); file_id defaults to its name.

  Raises:
    MmcifError: naming `path`: an unreadable file, or see `parse_file_bytes`.
  """
  try:
    with open(path, 'rb') as f:
      data = f.read()
  except OSError as e:
    raise MmcifError(f'{path}: cannot read: {e}') from e
  return parse_file_bytes(data, path, file_id)


def parse_file_bytes(data: bytes, path: str, file_id: Optional[str] = None
                     ) -> MmcifObject:
  """Parses the bytes of the mmCIF file `path` (gzip-compressed when the
  name ends in .gz); file_id defaults to the file's name.

  Raises:
    MmcifError: naming `path`: a damaged or truncated gzip stream, text that
      is not UTF-8, or see `parse`.
  """
  if path.endswith('.gz'):
    try:
      data = gzip.decompress(data)
    # gzip reports a damaged stream as BadGzipFile (an OSError), zlib.error,
    # or EOFError when it ends early.
    except (OSError, EOFError, zlib.error) as e:
      raise MmcifError(f'{path}: not a readable gzip file: {e}') from e
  try:
    text = data.decode('utf-8')
  except UnicodeDecodeError as e:
    raise MmcifError(f'{path}: not UTF-8 text (byte {e.start} is '
                     f'{data[e.start]:#04x}).') from e
  if file_id is None:
    file_id = path.rsplit('/', 1)[-1].split('.')[0].lower()
  return parse(text, file_id, source=path)


def release_date(mmcif: MmcifObject) -> datetime.date:
  return datetime.date.fromisoformat(str(mmcif.header['release_date']))


def get_atom_positions(mmcif: MmcifObject, chain_id: str,
                       max_ca_ca_distance: float = MAX_CA_CA_DISTANCE
                       ) -> Tuple[np.ndarray, np.ndarray]:
  """atom37 coordinates of one chain, one row per SEQRES residue.

  Selenomethionine's SE is stored as SD (MSE -> MET); arginine NH1/NH2 are
  swapped where NH2 is the one closer to CD (a naming error in some files).

  Args:
    mmcif: the parsed entry.
    chain_id: author chain id.
    max_ca_ca_distance: largest accepted distance (Å) between C-alphas of
      consecutive present residues.

  Returns:
    positions [N_seqres, 37, 3] float32 and mask [N_seqres, 37] float32.

  Raises:
    MmcifError: unknown chain or C-alphas too far apart.
  """
  if (chain_id not in mmcif.seqres_to_structure
      or chain_id not in mmcif.structure):
    raise MmcifError(f'{mmcif.file_id}: no protein chain {chain_id!r} '
                     f'(chains: {sorted(mmcif.seqres_to_structure)}).')
  chain = mmcif.structure[chain_id]
  residues = mmcif.seqres_to_structure[chain_id]
  num_res = len(residues)
  positions = np.zeros((num_res, residue_constants.atom_type_num, 3),
                       np.float32)
  mask = np.zeros((num_res, residue_constants.atom_type_num), np.float32)
  order = residue_constants.atom_order
  for index in range(num_res):
    at = residues[index]
    if at.is_missing or at.residue_id not in chain:
      continue
    residue = chain[at.residue_id]
    positions[index], mask[index], _ = protein.residue_to_atom37(residue, np.float32)
    if residue.get_resname() == 'ARG':
      cd, nh1, nh2 = (order[n] for n in ('CD', 'NH1', 'NH2'))
      if mask[index, [cd, nh1, nh2]].all() and (
          np.linalg.norm(positions[index, nh1] - positions[index, cd])
          > np.linalg.norm(positions[index, nh2] - positions[index, cd])):
        positions[index, [nh1, nh2]] = positions[index, [nh2, nh1]]
  ca = order['CA']
  present = np.nonzero(mask[:, ca])[0]
  gaps = np.linalg.norm(np.diff(positions[present, ca], axis=0), axis=-1)
  if gaps.size and gaps.max() > max_ca_ca_distance:
    raise MmcifError(f'{mmcif.file_id} chain {chain_id}: consecutive C-alphas '
                     f'{gaps.max():.1f} Å apart (more than '
                     f'{max_ca_ca_distance} Å).')
  return positions, mask
