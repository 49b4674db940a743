"""A protein structure in the atom37 layout, and its PDB / mmCIF reading and writing.

Shapes: N residues, atom37 = residue_constants.atom_type_num. Reading uses
Biopython; writing produces plain PDB ATOM records or a minimal mmCIF with
one entity per chain. The B-factor column carries whatever `b_factors` holds;
for predictions that is the per-residue pLDDT (Suppl. section 1.9.6).
"""
import dataclasses
import io
import string
from typing import Any, Mapping, Optional

import numpy as np
from Bio.Data import PDBData
from Bio.PDB import MMCIFParser
from Bio.PDB import PDBParser
from Bio.PDB.PDBExceptions import PDBConstructionException

from alphafold_jax.common import residue_constants as rc

# Chain identifiers a PDB file can hold (one character each).
PDB_CHAIN_IDS = string.ascii_uppercase + string.ascii_lowercase + string.digits
PDB_MAX_CHAINS = len(PDB_CHAIN_IDS)  # 62

# Modified residues keep their parent's atoms, except selenomethionine's
# selenium, which takes the place of methionine's sulphur.
_MODIFIED_ATOM_RENAMES = {'MSE': {'SE': 'SD'}}


@dataclasses.dataclass(frozen=True)
class Protein:
  """A protein structure: one row per residue, atoms in the atom37 layout."""
  # [N, 37, 3] Cartesian coordinates in Å.
  atom_positions: np.ndarray
  # [N] residue type, index into residue_constants.restypes_with_x (20 = X).
  aatype: np.ndarray
  # [N, 37] 1 where the atom is present.
  atom_mask: np.ndarray
  # [N] residue number as written in the file (author numbering).
  residue_index: np.ndarray
  # [N] chain of each residue, 0-based in order of appearance.
  chain_index: np.ndarray
  # [N, 37] B-factors; for predictions the per-residue pLDDT.
  b_factors: np.ndarray

  def __post_init__(self):
    num_res = np.shape(self.aatype)[0] if np.ndim(self.aatype) == 1 else None
    expected = {
        'atom_positions': (num_res, rc.atom_type_num, 3),
        'aatype': (num_res,),
        'atom_mask': (num_res, rc.atom_type_num),
        'residue_index': (num_res,),
        'chain_index': (num_res,),
        'b_factors': (num_res, rc.atom_type_num),
    }
    for name, shape in expected.items():
      if np.shape(getattr(self, name)) != shape:
        raise ValueError(f'Protein.{name} has shape '
                         f'{np.shape(getattr(self, name))}, expected {shape} '
                         '(N residues from aatype).')
    num_chains = len(np.unique(self.chain_index))
    if num_chains > PDB_MAX_CHAINS:
      raise ValueError(f'Protein has {num_chains} chains; at most '
                       f'{PDB_MAX_CHAINS} can be written to PDB files.')


def _residue_type(resname: str) -> int:
  """Index in restypes_with_x; modified residues map to their parent."""
  letter = rc.restype_3to1.get(resname)
  if letter is None:
    letter = PDBData.protein_letters_3to1_extended.get(resname, 'X')
  return rc.restype_order_with_x.get(letter, rc.unk_restype_index)


def _is_protein_residue(residue) -> bool:
  hetfield = residue.id[0]
  if hetfield == ' ':
    return True
  # Hetero residues count only when they are modified amino acids.
  return (hetfield.startswith('H_') and
          residue.get_resname() in PDBData.protein_letters_3to1_extended)


def residue_to_atom37(residue, dtype=np.float64):
  """A Biopython residue's atoms in the atom37 layout: positions [37, 3],
  mask [37] and B-factors [37]. Atoms outside the layout are dropped;
  selenomethionine's SE takes the place of MET's SD."""
  renames = _MODIFIED_ATOM_RENAMES.get(residue.get_resname(), {})
  pos = np.zeros([rc.atom_type_num, 3], dtype)
  mask = np.zeros([rc.atom_type_num], dtype)
  bfac = np.zeros([rc.atom_type_num], dtype)
  for atom in residue:
    name = renames.get(atom.get_name(), atom.get_name())
    if name not in rc.atom_order:
      continue
    i = rc.atom_order[name]
    pos[i] = atom.get_coord()
    mask[i] = 1.
    bfac[i] = atom.get_bfactor()
  return pos, mask, bfac


def _from_bio_structure(structure, chain_id: Optional[str],
                        source: str) -> Protein:
  """Protein of the first model of a Biopython structure."""
  models = list(structure)
  if not models:
    raise ValueError(f'{source}: no atoms found.')
  model = models[0]
  chains = [c for c in model if chain_id is None or c.id == chain_id]
  if not chains:
    raise ValueError(f'{source}: no chain {chain_id!r}; chains present: '
                     f'{", ".join(c.id for c in model) or "none"}.')

  atom_positions, aatype, atom_mask = [], [], []
  residue_index, chain_index, b_factors = [], [], []
  chain_ids = []
  for chain in chains:
    for residue in chain:
      if not _is_protein_residue(residue):
        continue
      if residue.id[2] != ' ':
        raise ValueError(
            f'{source}: residue {residue.get_resname()} {residue.id[1]} of '
            f'chain {chain.id} has insertion code {residue.id[2]!r}; '
            'insertion codes are not supported.')
      pos, mask, bfac = residue_to_atom37(residue)
      if not mask.any():
        # Residues without any heavy atom of the atom37 set carry nothing.
        continue
      if chain.id not in chain_ids:
        chain_ids.append(chain.id)
      atom_positions.append(pos)
      aatype.append(_residue_type(residue.get_resname()))
      atom_mask.append(mask)
      residue_index.append(residue.id[1])
      chain_index.append(chain_ids.index(chain.id))
      b_factors.append(bfac)
  if not aatype:
    raise ValueError(f'{source}: no protein residues found'
                     f'{"" if chain_id is None else f" in chain {chain_id!r}"}.')
  return Protein(
      atom_positions=np.array(atom_positions),
      aatype=np.array(aatype, dtype=np.int32),
      atom_mask=np.array(atom_mask),
      residue_index=np.array(residue_index, dtype=np.int32),
      chain_index=np.array(chain_index, dtype=np.int32),
      b_factors=np.array(b_factors))


def from_pdb_string(pdb_str: str, chain_id: Optional[str] = None,
                    source: str = '<pdb string>') -> Protein:
  """Reads the first model of a PDB file.

  Args:
    pdb_str: contents of a PDB file.
    chain_id: read only this chain; all chains when None.
    source: name of the input (e.g. its path), used in error messages.

  Raises:
    ValueError: malformed or truncated records, no protein residues, missing
      chain, or insertion codes.
  """
  try:
    structure = PDBParser(QUIET=True).get_structure('', io.StringIO(pdb_str))
  except (PDBConstructionException, ValueError, IndexError) as e:
    raise ValueError(f'{source}: malformed or truncated PDB file: {e}') from e
  return _from_bio_structure(structure, chain_id, source)


def from_mmcif_string(mmcif_str: str, chain_id: Optional[str] = None,
                      source: str = '<mmcif string>') -> Protein:
  """Reads the first model of an mmCIF file (author chain ids and numbering).

  Args:
    mmcif_str: contents of an mmCIF file.
    chain_id: author chain id to read; all chains when None.
    source: name of the input (e.g. its path), used in error messages.

  Raises:
    ValueError: truncated or malformed file, no protein residues, missing
      chain, or insertion codes.
  """
  lines = [line for line in mmcif_str.splitlines() if line.strip()]
  if lines and lines[-1].startswith(('ATOM', 'HETATM')):
    # Complete mmCIF files close their last category with '#'; ending on an
    # atom record means the file was cut inside the atom list.
    raise ValueError(f'{source}: mmCIF file ends inside the _atom_site list; '
                     'it looks truncated.')
  try:
    structure = MMCIFParser(QUIET=True).get_structure(
        '', io.StringIO(mmcif_str))
  except KeyError as e:
    raise ValueError(f'{source}: malformed or truncated mmCIF file: missing '
                     f'field {e}.') from e
  except (PDBConstructionException, ValueError, IndexError) as e:
    raise ValueError(f'{source}: malformed or truncated mmCIF file '
                     f'({type(e).__name__}: {e}).') from e
  return _from_bio_structure(structure, chain_id, source)


def _atom_records(prot: Protein):
  """(chain id, residue number, resname, atom name, element, xyz, b) per atom."""
  for i in range(prot.aatype.shape[0]):
    chain = PDB_CHAIN_IDS[int(prot.chain_index[i])]
    resname = rc.resnames[int(prot.aatype[i])]
    for j, atom_name in enumerate(rc.atom_types):
      if prot.atom_mask[i, j] > 0.5:
        yield (i, chain, int(prot.residue_index[i]), resname, atom_name,
               atom_name[0], prot.atom_positions[i, j], prot.b_factors[i, j])


def to_pdb(prot: Protein) -> str:
  """PDB-format text: ATOM records, TER after each chain, END."""
  lines = []
  serial = 1
  previous = None
  for i, chain, resnum, resname, atom_name, element, xyz, b in (
      _atom_records(prot)):
    if previous is not None and prot.chain_index[i] != prot.chain_index[
        previous[0]]:
      lines.append(_ter_record(serial, *previous[1:]))
      serial += 1
    # Names shorter than 4 characters start in column 14 (PDB convention).
    name = atom_name if len(atom_name) == 4 else f' {atom_name}'
    lines.append(
        f'{"ATOM":<6}{serial:>5} {name:<4} {resname:>3} {chain:>1}'
        f'{resnum:>4}    {xyz[0]:>8.3f}{xyz[1]:>8.3f}{xyz[2]:>8.3f}'
        f'{1.0:>6.2f}{b:>6.2f}          {element:>2}  ')
    serial += 1
    previous = (i, chain, resnum, resname)
  if previous is not None:
    lines.append(_ter_record(serial, *previous[1:]))
  lines.append('END')
  return '\n'.join(lines) + '\n'


def _ter_record(serial: int, chain: str, resnum: int, resname: str) -> str:
  return f'{"TER":<6}{serial:>5}      {resname:>3} {chain:>1}{resnum:>4}'


def to_mmcif(prot: Protein, name: str = 'prediction') -> str:
  """Minimal mmCIF text: one polymer entity per chain and the _atom_site list."""
  chains = list(dict.fromkeys(int(c) for c in prot.chain_index))
  out = [f'data_{name}', '#', f'_entry.id {name}', '#']
  out += ['loop_', '_entity.id', '_entity.type']
  out += [f'{e + 1} polymer' for e in range(len(chains))]
  out += ['#', 'loop_', '_entity_poly_seq.entity_id', '_entity_poly_seq.num',
          '_entity_poly_seq.mon_id', '_entity_poly_seq.hetero']
  label_seq_id = np.zeros(prot.aatype.shape[0], dtype=np.int32)
  for e, chain in enumerate(chains):
    residues = np.nonzero(prot.chain_index == chain)[0]
    for num, i in enumerate(residues, start=1):
      label_seq_id[i] = num
      out.append(f'{e + 1} {num} {rc.resnames[int(prot.aatype[i])]} n')
  out += ['#', 'loop_', '_struct_asym.id', '_struct_asym.entity_id']
  out += [f'{PDB_CHAIN_IDS[c]} {e + 1}' for e, c in enumerate(chains)]
  fields = ['group_PDB', 'id', 'type_symbol', 'label_atom_id', 'label_alt_id',
            'label_comp_id', 'label_asym_id', 'label_entity_id',
            'label_seq_id', 'pdbx_PDB_ins_code', 'Cartn_x', 'Cartn_y',
            'Cartn_z', 'occupancy', 'B_iso_or_equiv', 'pdbx_formal_charge',
            'auth_seq_id', 'auth_comp_id', 'auth_asym_id', 'auth_atom_id',
            'pdbx_PDB_model_num']
  out += ['#', 'loop_'] + [f'_atom_site.{f}' for f in fields]
  for serial, (i, chain, resnum, resname, atom_name, element, xyz, b) in (
      enumerate(_atom_records(prot), start=1)):
    entity = chains.index(int(prot.chain_index[i])) + 1
    out.append(
        f'ATOM {serial} {element} {atom_name} . {resname} {chain} {entity} '
        f'{label_seq_id[i]} ? {xyz[0]:.3f} {xyz[1]:.3f} {xyz[2]:.3f} 1.00 '
        f'{b:.2f} ? {resnum} {resname} {chain} {atom_name} 1')
  out.append('#')
  return '\n'.join(out) + '\n'


def ideal_atom_mask(prot: Protein) -> np.ndarray:
  """[N, 37] the atoms each residue type has (no OXT)."""
  return rc.restype_atom37_mask[prot.aatype]


def _drop_ensemble_axis(x) -> np.ndarray:
  """Per-residue features of the processed batch carry a leading ensemble
  axis; the first entry holds the residues."""
  x = np.asarray(x)
  return x[0] if x.ndim == 2 else x


def from_prediction(features: Mapping[str, Any], result: Mapping[str, Any],
                    b_factors: Optional[np.ndarray] = None) -> Protein:
  """Protein of a model prediction.

  Args:
    features: model inputs with 'aatype' and 'residue_index' ([N] or with a
      leading ensemble axis [E, N]; residue_index 0-based) and optionally
      'asym_id' (chain of each residue, [N] or [E, N]).
    result: model outputs, either nested (result['structure_module']) or
      flattened ('structure_module/final_atom_positions'), holding
      final_atom_positions [N, 37, 3] and final_atom_mask [N, 37].
    b_factors: [N] per-residue values (e.g. pLDDT) or [N, 37]; zeros if None.
  """
  if 'structure_module' in result:
    structure = result['structure_module']
    positions = structure['final_atom_positions']
    mask = structure['final_atom_mask']
  else:
    positions = result['structure_module/final_atom_positions']
    mask = result['structure_module/final_atom_mask']
  positions, mask = np.asarray(positions), np.asarray(mask)
  aatype = _drop_ensemble_axis(features['aatype'])
  if 'asym_id' in features:
    chain_index = _drop_ensemble_axis(features['asym_id']).astype(np.int32)
    # asym_id counts chains from 1; the Protein counts from 0.
    chain_index = chain_index - chain_index.min()
  else:
    chain_index = np.zeros_like(aatype, dtype=np.int32)
  if b_factors is None:
    b_factors = np.zeros_like(mask)
  b_factors = np.asarray(b_factors)
  if b_factors.ndim == 1:
    b_factors = np.repeat(b_factors[:, None], rc.atom_type_num, axis=-1)
  return Protein(
      atom_positions=positions,
      aatype=aatype.astype(np.int32),
      atom_mask=mask,
      residue_index=_drop_ensemble_axis(features['residue_index']).astype(
          np.int32) + 1,
      chain_index=chain_index,
      b_factors=b_factors)
