"""Template features from search hits (Suppl. 1.2.3).

Each hit (HHR block or hmmsearch row) names a PDB chain and aligns part of
it to the query. Hits released after `max_template_date`, aligned over at
most 10% of the query, shorter than 10 residues, or near-identical
subsequences of the query (more than 95% of its length) are rejected.
The chain is read from its mmCIF file; when the hit's sequence is not in the
file's SEQRES (a different version of the entry), it is realigned with
kalign. The first `max_hits` accepted hits (by sum_probs) become the
template features.
"""
from __future__ import annotations

import dataclasses
import datetime
import os
import re
from typing import Dict, List, Mapping, Optional, Sequence, Tuple

import numpy as np

from alphafold_jax.common import residue_constants
from alphafold_jax.data import mmcif as mmcif_lib
from alphafold_jax.data import parsers

# Suppl. 1.2.3 / the reference's hit filters.
MAX_SUBSEQUENCE_RATIO = 0.95
MIN_ALIGN_RATIO = 0.1
MIN_TEMPLATE_LENGTH = 10
# Hits featurised (the model's data config keeps the first 4).
MAX_TEMPLATE_HITS = 20
# Realignment to the mmCIF sequence must share this fraction of residues.
MIN_REALIGNED_IDENTITY = 0.1
# Fewer atoms than alanine's five means no usable coordinates.
MIN_TEMPLATE_ATOMS = 5
_PDB_ID_CHAIN = re.compile(r'([a-zA-Z\d]{4})_([a-zA-Z0-9.]+)')
# obsolete.dat's fixed columns: 'OBSLTE', the date, the obsolete id and the
# first id that replaced it (absent for an entry withdrawn without one).
_OBSOLETE_RECORD = 'OBSLTE'
_OBSOLETE_ID = slice(20, 24)
_REPLACEMENT_ID = slice(29, 33)
_PDB_ID = re.compile(r'[a-zA-Z\d]{4}')


class TemplateError(ValueError):
  """A hit rejected by a filter or without usable coordinates."""


@dataclasses.dataclass(frozen=True)
class TemplateSearchResult:
  """features: template_aatype [N_templ, N_res, 22] one-hot (HHblits order),
  template_all_atom_positions [N_templ, N_res, 37, 3],
  template_all_atom_masks [N_templ, N_res, 37], template_sum_probs
  [N_templ, 1], template_domain_names [N_templ] (bytes),
  template_sequence [N_templ] (bytes); errors/warnings: one line per
  rejected hit."""
  features: Mapping[str, np.ndarray]
  errors: Tuple[str, ...]
  warnings: Tuple[str, ...]


def read_obsolete_pdbs(path: str) -> Dict[str, str]:
  """obsolete.dat: obsolete PDB id -> the id that replaced it.

  Raises:
    ParseError: naming the file: unreadable, not text, or an OBSLTE line
      whose ids are not PDB ids.
  """
  mapping = {}
  for number, line in enumerate(parsers.read_text(path).splitlines(), 1):
    if not line.startswith(_OBSOLETE_RECORD):
      continue
    obsolete = line[_OBSOLETE_ID]
    replacement = line[_REPLACEMENT_ID].strip()
    if not _PDB_ID.fullmatch(obsolete) or (
        replacement and not _PDB_ID.fullmatch(replacement)):
      raise parsers.ParseError(f'{path}, line {number}: not an OBSLTE record '
                               f'(obsolete id, replacement id): {line!r}.')
    if replacement:
      mapping[obsolete.lower()] = replacement.lower()
  return mapping


def empty_template_features(num_res: int) -> Dict[str, np.ndarray]:
  """Features of zero templates for a query of num_res residues."""
  return {
      'template_aatype': np.zeros(
          (0, num_res, len(residue_constants.restypes_with_x_and_gap)),
          np.float32),
      'template_all_atom_positions': np.zeros(
          (0, num_res, residue_constants.atom_type_num, 3), np.float32),
      'template_all_atom_masks': np.zeros(
          (0, num_res, residue_constants.atom_type_num), np.float32),
      'template_sum_probs': np.zeros((0, 1), np.float32),
      'template_domain_names': np.zeros((0,), object),
      'template_sequence': np.zeros((0,), object),
  }


def pdb_id_and_chain(hit: parsers.TemplateHit) -> Tuple[str, str]:
  match = _PDB_ID_CHAIN.match(hit.name)
  if not match:
    raise TemplateError(f'hit name {hit.name!r} does not start with '
                        'PDBID_CHAIN.')
  return match.group(1).lower(), match.group(2)


def assess_hit(hit: parsers.TemplateHit, query_sequence: str) -> None:
  """The prefilters on the alignment alone.

  Raises:
    TemplateError: aligned over <= 10% of the query, a >95%-length
      subsequence of the query, or shorter than 10 residues.
  """
  template_sequence = hit.hit_sequence.replace('-', '')
  align_ratio = hit.aligned_cols / len(query_sequence)
  length_ratio = len(template_sequence) / len(query_sequence)
  if align_ratio <= MIN_ALIGN_RATIO:
    raise TemplateError(f'aligned over {align_ratio:.3f} of the query '
                        f'(at most {MIN_ALIGN_RATIO}).')
  if (template_sequence in query_sequence
      and length_ratio > MAX_SUBSEQUENCE_RATIO):
    raise TemplateError('a near-identical subsequence of the query '
                        f'(length ratio {length_ratio:.3f}).')
  if len(template_sequence) < MIN_TEMPLATE_LENGTH:
    raise TemplateError(f'{len(template_sequence)} residues (fewer than '
                        f'{MIN_TEMPLATE_LENGTH}).')


def query_to_hit_mapping(hit: parsers.TemplateHit,
                         query_sequence: str) -> Dict[int, int]:
  """query residue index -> index within the hit's ungapped aligned
  segment, for every column where both are residues."""
  if not hit.query:
    return {}
  offset = query_sequence.find(hit.query.replace('-', ''))
  hit_length = len(hit.hit_sequence.replace('-', ''))
  hit_min = min((i for i in hit.indices_hit if i > -1), default=0)
  query_min = min((i for i in hit.indices_query if i > -1), default=0)
  mapping = {}
  for q, t in zip(hit.indices_query, hit.indices_hit):
    if q > -1 and t > -1:
      q, t = q - query_min + offset, t - hit_min
      if t < hit_length and q < len(query_sequence):
        mapping[q] = t
  return mapping


def _find_in_seqres(template_sequence: str, chain_id: str,
                    mmcif: mmcif_lib.MmcifObject
                    ) -> Optional[Tuple[str, str, int]]:
  """(seqres, chain, offset) of the hit's sequence in the entry: the named
  chain, else any chain, else a match with X as a wildcard."""
  seqres = mmcif.chain_to_seqres.get(chain_id)
  if seqres and template_sequence in seqres:
    return seqres, chain_id, seqres.find(template_sequence)
  for other, seqres in mmcif.chain_to_seqres.items():
    if template_sequence in seqres:
      return seqres, other, seqres.find(template_sequence)
  pattern = re.compile(''.join('.' if r == 'X' else f'(?:{r}|X)'
                               for r in template_sequence))
  for other, seqres in mmcif.chain_to_seqres.items():
    match = pattern.search(seqres)
    if match:
      return seqres, other, match.start()
  return None


def _realign(template_sequence: str, chain_id: str,
             mmcif: mmcif_lib.MmcifObject, mapping: Mapping[int, int],
             aligner) -> Tuple[str, str, Dict[int, int]]:
  """Maps query -> hit segment onto query -> the entry's SEQRES via an
  alignment (kalign) of the two template sequences."""
  seqres = mmcif.chain_to_seqres.get(chain_id)
  if not seqres:
    if len(mmcif.chain_to_seqres) != 1:
      raise TemplateError(f'chain {chain_id!r} not in {mmcif.file_id} '
                          f'(chains {sorted(mmcif.chain_to_seqres)}).')
    chain_id, seqres = next(iter(mmcif.chain_to_seqres.items()))
  if aligner is None:
    raise TemplateError(f'{mmcif.file_id}_{chain_id}: the hit sequence differs '
                        'from the mmCIF SEQRES and no aligner (kalign) is set.')
  try:
    old, new = parsers.parse_a3m(aligner.align([template_sequence,
                                                seqres])).sequences[:2]
  except parsers.ParseError as e:
    raise TemplateError(f'{mmcif.file_id}_{chain_id}: the aligner\'s output '
                        f'does not parse: {e}') from e
  old_to_new, old_index, new_index, same = {}, -1, -1, 0
  for old_residue, new_residue in zip(old, new):
    old_index += old_residue != '-'
    new_index += new_residue != '-'
    if old_residue != '-' and new_residue != '-':
      old_to_new[old_index] = new_index
      same += old_residue == new_residue
  if same / min(len(template_sequence), len(seqres)) < MIN_REALIGNED_IDENTITY:
    raise TemplateError(f'{mmcif.file_id}_{chain_id}: the hit and SEQRES '
                        'sequences align with under 10% identity.')
  return seqres, chain_id, {q: old_to_new[t] for q, t in mapping.items()
                            if t in old_to_new}


def extract_template_features(hit: parsers.TemplateHit, query_sequence: str,
                              mmcif: mmcif_lib.MmcifObject, chain_id: str,
                              aligner=None
                              ) -> Tuple[Dict[str, np.ndarray], Optional[str]]:
  """One template's features, aligned to the query.

  Returns:
    (features without the leading template axis, a warning or None).

  Raises:
    TemplateError: the chain cannot be mapped or has no coordinates.
  """
  template_sequence = hit.hit_sequence.replace('-', '')
  mapping = query_to_hit_mapping(hit, query_sequence)
  warning = None
  found = _find_in_seqres(template_sequence, chain_id, mmcif)
  if found:
    seqres, chain_id, offset = found
    mapping = {q: t + offset for q, t in mapping.items()}
  else:
    seqres, chain_id, mapping = _realign(template_sequence, chain_id, mmcif,
                                         mapping, aligner)
    warning = (f'{mmcif.file_id}_{chain_id}: hit sequence not in the mmCIF '
               'SEQRES; realigned.')
  try:
    positions, masks = mmcif_lib.get_atom_positions(mmcif, chain_id)
  except mmcif_lib.MmcifError as e:
    raise TemplateError(str(e)) from e
  num_res = len(query_sequence)
  template_positions = np.zeros(
      (num_res, residue_constants.atom_type_num, 3), np.float32)
  template_masks = np.zeros((num_res, residue_constants.atom_type_num),
                            np.float32)
  letters = ['-'] * num_res
  for q, t in mapping.items():
    template_positions[q] = positions[t]
    template_masks[q] = masks[t]
    letters[q] = seqres[t]
  if template_masks.sum() < MIN_TEMPLATE_ATOMS:
    raise TemplateError(f'{mmcif.file_id}_{chain_id}: no atoms aligned to '
                        'the query.')
  sequence = ''.join(letters)
  return {
      'template_aatype': residue_constants.sequence_to_onehot(
          sequence, residue_constants.HHBLITS_AA_TO_ID).astype(np.float32),
      'template_all_atom_positions': template_positions,
      'template_all_atom_masks': template_masks,
      'template_sum_probs': np.array([hit.sum_probs or 0.], np.float32),
      'template_domain_names': f'{mmcif.file_id}_{chain_id}'.encode(),
      'template_sequence': sequence.encode(),
  }, warning


class TemplateFeaturizer:
  """Hits -> template features, reading mmCIF files from a directory."""

  def __init__(self, mmcif_dir: str, max_template_date: str,
               max_hits: int = MAX_TEMPLATE_HITS, aligner=None,
               obsolete_pdbs: Optional[Mapping[str, str]] = None,
               release_dates: Optional[Mapping[str, str]] = None):
    """
    Args:
      mmcif_dir: folder of '<pdb id>.cif' (or '.cif.gz') files, any case.
      max_template_date: 'YYYY-MM-DD'; entries released later are rejected.
      max_hits: templates kept.
      aligner: object with align(sequences) -> A3M text (e.g.
        tools.kalign.Kalign()); needed only for hits whose sequence is not in
        their mmCIF SEQRES.
      obsolete_pdbs: obsolete id -> replacement id (`read_obsolete_pdbs`).
      release_dates: pdb id -> 'YYYY-MM-DD', to reject hits before reading
        their files.

    Raises:
      FileNotFoundError: mmcif_dir does not exist.
      ValueError: a malformed date.
    """
    if not os.path.isdir(mmcif_dir):
      raise FileNotFoundError(f'template mmCIF folder not found: {mmcif_dir}')
    self._files = {}
    for name in os.listdir(mmcif_dir):
      if name.lower().endswith(('.cif', '.cif.gz')):
        self._files[name.split('.')[0].lower()] = os.path.join(mmcif_dir,
                                                               name)
    self.max_template_date = datetime.date.fromisoformat(max_template_date)
    self.max_hits = max_hits
    self.aligner = aligner
    self.obsolete_pdbs = dict(obsolete_pdbs or {})
    self.release_dates = dict(release_dates or {})
    self._cache: Dict[str, mmcif_lib.MmcifObject] = {}

  def _mmcif(self, pdb_id: str) -> mmcif_lib.MmcifObject:
    """The parsed entry; a damaged file raises MmcifError (not a
    TemplateError): the mmCIF folder needs repair, not the hit skipping."""
    if pdb_id not in self._cache:
      if pdb_id not in self._files:
        raise TemplateError(f'no mmCIF file for {pdb_id}.')
      self._cache[pdb_id] = mmcif_lib.read(self._files[pdb_id], pdb_id)
    return self._cache[pdb_id]

  def _featurize(self, hit: parsers.TemplateHit, query_sequence: str):
    pdb_id, chain_id = pdb_id_and_chain(hit)
    if pdb_id not in self._files and pdb_id in self.obsolete_pdbs:
      pdb_id = self.obsolete_pdbs[pdb_id]
    date = self.release_dates.get(pdb_id)
    if date and datetime.date.fromisoformat(date) > self.max_template_date:
      raise TemplateError(f'released {date}, after {self.max_template_date}.')
    assess_hit(hit, query_sequence)
    mmcif = self._mmcif(pdb_id)
    if mmcif_lib.release_date(mmcif) > self.max_template_date:
      raise TemplateError(f'released {mmcif.header["release_date"]}, after '
                          f'{self.max_template_date}.')
    return extract_template_features(hit, query_sequence, mmcif, chain_id,
                                     self.aligner)

  def get_templates(self, query_sequence: str,
                    hits: Sequence[parsers.TemplateHit]
                    ) -> TemplateSearchResult:
    """Featurises the best accepted hits (by sum_probs, stable).

    Returns:
      The stacked features of at most max_hits templates, and why the other
      hits were dropped.

    Raises:
      MmcifError: a hit's mmCIF file is damaged (naming it).
    """
    chosen: List[Dict[str, np.ndarray]] = []
    errors, warnings = [], []
    for hit in sorted(hits, key=lambda h: -(h.sum_probs or 0.)):
      if len(chosen) >= self.max_hits:
        break
      try:
        features, warning = self._featurize(hit, query_sequence)
      except TemplateError as e:
        errors.append(f'hit {hit.index} ({hit.name.split()[0]}): {e}')
        continue
      chosen.append(features)
      if warning:
        warnings.append(warning)
    if not chosen:
      features = empty_template_features(len(query_sequence))
    else:
      features = {key: np.stack([c[key] for c in chosen]) for key in chosen[0]}
    return TemplateSearchResult(features, tuple(errors), tuple(warnings))
