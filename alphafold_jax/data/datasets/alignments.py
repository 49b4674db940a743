"""Precomputed alignments of one chain, in the AlphaFold2 / OpenFold layout.

  <alignment_dir>/<pdb_id>_<chain>/
      uniref90_hits.sto        jackhmmer, UniRef90
      mgnify_hits.sto          jackhmmer, MGnify
      bfd_uniclust_hits.a3m    HHblits, BFD + UniClust30 (or instead:)
      small_bfd_hits.sto       jackhmmer, small BFD
      pdb70_hits.hhr           HHsearch, PDB70 (templates)

The files are stacked into the raw MSA features in the data pipeline's order
(UniRef90 truncated to its first 10,000 hits, BFD, MGnify truncated to 501;
Suppl. 1.2.2); a present hhr file gives template features when a template
featurizer is supplied (Suppl. 1.2.3).
"""
from __future__ import annotations

import os
from typing import Dict, List, Optional

import numpy as np

from alphafold_jax.data import msa as msa_lib
from alphafold_jax.data import parsers
from alphafold_jax.data import templates as templates_lib

UNIREF90 = 'uniref90_hits.sto'
MGNIFY = 'mgnify_hits.sto'
BFD_UNICLUST = 'bfd_uniclust_hits.a3m'
SMALL_BFD = 'small_bfd_hits.sto'
PDB70 = 'pdb70_hits.hhr'
# Raw template features kept in an example (the rest are the search's
# bookkeeping).
TEMPLATE_KEYS = ('template_aatype', 'template_all_atom_positions',
                 'template_all_atom_masks', 'template_sum_probs')


class AlignmentError(ValueError):
  """Missing, malformed or mismatched alignments."""


def read_msas(folder: str, max_uniref_hits: int = msa_lib.UNIREF_MAX_HITS,
              max_mgnify_hits: int = msa_lib.MGNIFY_MAX_HITS
              ) -> List[parsers.Msa]:
  """The alignments present in `folder`, in the pipeline's order.

  Raises:
    AlignmentError: no alignment file, or one that does not parse.
  """
  if not os.path.isdir(folder):
    raise AlignmentError(f'no alignment folder {folder}')
  msas = []
  readers = (
      (UNIREF90, parsers.parse_stockholm, max_uniref_hits),
      (BFD_UNICLUST, parsers.parse_a3m, None),
      (SMALL_BFD, parsers.parse_stockholm, None),
      (MGNIFY, parsers.parse_stockholm, max_mgnify_hits),
  )
  for name, parse, max_hits in readers:
    path = os.path.join(folder, name)
    if not os.path.exists(path):
      continue
    try:
      msa = parse(parsers.read_text(path), path)
    except parsers.ParseError as e:
      raise AlignmentError(f'malformed {name}: {e}') from e
    msas.append(msa.truncate(max_hits) if max_hits else msa)
  if not msas:
    raise AlignmentError(f'no alignment file in {folder}')
  return msas


def msa_features(folder: str, sequence: str) -> Dict[str, np.ndarray]:
  """Raw MSA features of a chain from its alignment folder.

  Args:
    folder: the chain's alignment folder.
    sequence: the chain's sequence [N_res]; every alignment's query (first
      row) must equal it.

  Returns:
    msa, deletion_matrix_int [N_seq, N_res] int32, num_alignments [N_res].

  Raises:
    AlignmentError: see `read_msas`, or a query that is not `sequence`.
  """
  msas = read_msas(folder)
  for msa in msas:
    query = msa.sequences[0] if msa.sequences else ''
    if query != sequence:
      raise AlignmentError(
          f'alignment query {query[:30]!r}... ({len(query)} residues) is not '
          f'the chain sequence ({len(sequence)} residues)')
  return msa_lib.make_msa_features(msas)


def template_features(folder: str, sequence: str,
                      featurizer: Optional[templates_lib.TemplateFeaturizer]
                      ) -> Dict[str, np.ndarray]:
  """Template features from pdb70_hits.hhr, or zero templates.

  Returns:
    template_aatype [N_templ, N_res, 22], template_all_atom_positions
    [N_templ, N_res, 37, 3], template_all_atom_masks [N_templ, N_res, 37],
    template_sum_probs [N_templ, 1].

  Raises:
    AlignmentError: a malformed hhr file or a damaged template mmCIF.
  """
  path = os.path.join(folder, PDB70)
  if featurizer is None or not os.path.exists(path):
    features = templates_lib.empty_template_features(len(sequence))
  else:
    # Also a damaged template mmCIF (an MmcifError, a ParseError): the
    # chain is skipped, and the build report names the file.
    try:
      hits = parsers.parse_hhr(parsers.read_text(path), path)
      features = featurizer.get_templates(sequence, hits).features
    except parsers.ParseError as e:
      raise AlignmentError(f'malformed {PDB70} or its templates: {e}') from e
  return {k: np.asarray(features[k], np.float32) for k in TEMPLATE_KEYS}
