"""Raw features of a single-sequence training example taken from a structure.

Suppl. 1.2.9 / Table 1 give the raw features the pipeline starts from; for a
protein with no alignment the MSA is the query alone (the single-sequence
regime used by the tiny overfitting runs). The ground truth
(`all_atom_positions`, `all_atom_mask`, `resolution`) rides along so that
`process_features(..., mode='train')` adds every supervised feature.

  prot = read_structure('tests/fixtures/data/3a4rA.pdb.gz', chain_id='A')
  raw = raw_features_from_protein(prot)
"""
from __future__ import annotations

import gzip
import pathlib
from typing import Dict, Optional

import numpy as np

from alphafold_jax.common import protein as protein_lib
from alphafold_jax.common import residue_constants

_MMCIF_SUFFIXES = ('.cif', '.mmcif')


def read_structure(path, chain_id: Optional[str] = None,
                   all_chains: bool = False) -> protein_lib.Protein:
  """One chain of a PDB or mmCIF file (optionally gzipped), or all of them.

  Args:
    path: .pdb, .cif or .mmcif, each optionally with .gz.
    chain_id: the (author) chain read; the file's first chain when None.
    all_chains: every chain of the first model (chain_id must be None).
  """
  if all_chains and chain_id is not None:
    raise ValueError('read_structure: chain_id and all_chains exclude '
                     'each other.')
  path = pathlib.Path(path)
  opener = gzip.open if path.suffix == '.gz' else open
  with opener(path, 'rt') as f:
    text = f.read()
  suffix = path.with_suffix('').suffix if path.suffix == '.gz' else path.suffix
  if suffix in _MMCIF_SUFFIXES:
    prot = protein_lib.from_mmcif_string(text, chain_id, source=str(path))
  else:
    prot = protein_lib.from_pdb_string(text, chain_id, source=str(path))
  if chain_id is None and not all_chains:
    # Keep the first chain only: a training example is one chain.
    first = prot.chain_index == prot.chain_index[0]
    prot = protein_lib.Protein(**{
        k: np.asarray(getattr(prot, k))[first]
        for k in ('atom_positions', 'aatype', 'atom_mask', 'residue_index',
                  'chain_index', 'b_factors')})
  return prot


def raw_features_from_protein(prot: protein_lib.Protein,
                              resolution: Optional[float] = None
                              ) -> Dict[str, np.ndarray]:
  """The raw features of `process_features` for a single-sequence example.

  Args:
    prot: one chain.
    resolution: the structure's resolution (Å); the pipeline's default when
      None.

  Returns:
    aatype [N_res, 21] one-hot, residue_index, seq_length,
    between_segment_residues, num_alignments [N_res]; msa and
    deletion_matrix_int [1, N_res] (the query in HHblits codes); the ground
    truth all_atom_positions [N_res, 37, 3] and all_atom_mask [N_res, 37];
    resolution when given.
  """
  aatype = np.asarray(prot.aatype, np.int32)
  num_res = aatype.shape[0]
  sequence = ''.join(residue_constants.restypes_with_x[a] for a in aatype)
  features = {
      'aatype': residue_constants.sequence_to_onehot(
          sequence, residue_constants.restype_order_with_x),
      'residue_index': np.asarray(prot.residue_index, np.int32),
      'seq_length': np.full((num_res,), num_res, np.int32),
      'between_segment_residues': np.zeros((num_res,), np.int32),
      'msa': np.asarray([[residue_constants.HHBLITS_AA_TO_ID[r]
                          for r in sequence]], np.int32),
      'deletion_matrix_int': np.zeros((1, num_res), np.int32),
      'num_alignments': np.ones((num_res,), np.int32),
      'all_atom_positions': np.asarray(prot.atom_positions, np.float32),
      'all_atom_mask': np.asarray(prot.atom_mask, np.float32),
  }
  if resolution is not None:
    features['resolution'] = np.asarray(resolution, np.float32)
  return features
