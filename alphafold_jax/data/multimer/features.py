"""Raw per-chain features -> the AlphaFold-Multimer model's input.

AlphaFold-Multimer supplement, "Features" and "MSA pairing": the chains'
monomer features are converted and labelled with their chain identifiers,
the UniProt alignments of a heteromer's chains are paired by species, the
MSAs and templates cropped and the chains merged (merging.py), and the MSA
padded to at least 512 rows. No random draw happens here: the model samples
its MSA clusters and BERT masks itself.
"""
from __future__ import annotations

from typing import Dict, List, Mapping

import numpy as np

from alphafold_jax.common import residue_constants
from alphafold_jax.data import templates as templates_lib
from alphafold_jax.data.multimer import assembly
from alphafold_jax.data.multimer import merging
from alphafold_jax.data.multimer import pairing

_REQUIRED = ('aatype', 'sequence', 'seq_length', 'residue_index', 'msa',
             'deletion_matrix_int', 'num_alignments')
_REQUIRED_ALL_SEQ = ('msa_all_seq', 'deletion_matrix_int_all_seq',
                     'msa_species_identifiers_all_seq')

Features = Dict[str, np.ndarray]


def _check_chain(chain_id: str, raw: Mapping[str, np.ndarray],
                 needs_all_seq: bool) -> None:
  required = _REQUIRED + (_REQUIRED_ALL_SEQ if needs_all_seq else ())
  missing = [k for k in required if k not in raw]
  if missing:
    hint = (' (a heteromer needs the UniProt search\'s *_all_seq features)'
            if any(k.endswith('_all_seq') for k in missing) else '')
    raise ValueError(f'chain {chain_id}: raw features lack {missing}{hint}.')
  num_res = np.shape(raw['aatype'])[0]
  for name in ('msa', 'msa_all_seq'):
    if name in raw and (np.ndim(raw[name]) != 2
                        or np.shape(raw[name])[1] != num_res):
      raise ValueError(f'chain {chain_id}: {name} has shape '
                       f'{np.shape(raw[name])}, expected [N_seq, {num_res}].')
  num_alignments = int(np.asarray(raw['num_alignments']).reshape(-1)[0])
  if num_alignments != np.shape(raw['msa'])[0]:
    raise ValueError(f'chain {chain_id}: num_alignments is {num_alignments} '
                     f'but msa has {np.shape(raw["msa"])[0]} rows.')


def _sequence(raw: Mapping[str, np.ndarray]) -> str:
  value = np.asarray(raw['sequence']).reshape(-1)[0]
  return value.decode() if isinstance(value, bytes) else str(value)


def _add_unmerged_features(chains: List[Features]) -> List[Features]:
  """Per chain: float deletion matrices, deletion_mean [N_res] (over the
  unpaired MSA), all_atom_mask [N_res, 37] of the residue types with zero
  all_atom_positions, assembly_num_chains and entity_mask [N_res]."""
  new_chains = []
  for chain in chains:
    chain = dict(chain)
    chain['deletion_matrix'] = np.asarray(chain.pop('deletion_matrix_int'),
                                          np.float32)
    if 'deletion_matrix_int_all_seq' in chain:
      chain['deletion_matrix_all_seq'] = np.asarray(
          chain.pop('deletion_matrix_int_all_seq'), np.float32)
    chain['deletion_mean'] = np.mean(chain['deletion_matrix'], axis=0)
    all_atom_mask = residue_constants.STANDARD_ATOM_MASK[chain['aatype']]
    chain['all_atom_mask'] = all_atom_mask
    chain['all_atom_positions'] = np.zeros(all_atom_mask.shape + (3,))
    chain['assembly_num_chains'] = np.asarray(len(chains))
    chain['entity_mask'] = (chain['entity_id'] != 0).astype(np.int32)
    new_chains.append(chain)
  return new_chains


def process_multimer_features(
    chains: Mapping[str, Mapping[str, np.ndarray]],
    msa_crop_size: int = merging.MSA_CROP_SIZE,
    max_templates: int = merging.MAX_TEMPLATES,
    min_msa_rows: int = merging.MIN_MSA_ROWS) -> Features:
  """The model's input for a complex.

  Args:
    chains: chain id -> that chain's raw monomer features (Suppl. Table 1:
      aatype [N_res, 21] one-hot, msa and deletion_matrix_int [N_seq, N_res],
      msa_species_identifiers [N_seq], template features, ...); for a
      heteromer (more than one distinct sequence) also the UniProt search's
      msa_all_seq, deletion_matrix_int_all_seq and
      msa_species_identifiers_all_seq. Chains with the same sequence are
      copies of one entity.
    msa_crop_size, max_templates, min_msa_rows: the reference's 2048, 4 and
      512.

  Returns:
    aatype, residue_index [N_res] int32; asym_id, sym_id, entity_id [N_res]
    float64; seq_mask [N_res] float32; entity_mask [N_res] int32;
    deletion_mean [N_res] float32; all_atom_positions [N_res, 37, 3] (zeros)
    and all_atom_mask [N_res, 37]; msa [N_seq, N_res] int32 (model order),
    deletion_matrix, msa_mask, bert_mask [N_seq, N_res] float32,
    cluster_bias_mask [N_seq], N_seq >= min_msa_rows; template_aatype
    [max_templates, N_res], template_all_atom_positions [max_templates,
    N_res, 37, 3], template_all_atom_mask [max_templates, N_res, 37];
    seq_length, num_alignments (rows before padding), num_templates (of the
    first chain), assembly_num_chains scalars. Residues are ordered entity
    by entity (see assembly.add_assembly_features).

  Raises:
    ValueError: no chains, a chain's features are missing or inconsistent,
      or a heteromer lacks the `*_all_seq` features.
  """
  if not chains:
    raise ValueError('process_multimer_features needs at least one chain.')
  is_heteromer = len({_sequence(raw) for raw in chains.values()}) > 1
  converted = {}
  for chain_id, raw in chains.items():
    _check_chain(chain_id, raw, needs_all_seq=is_heteromer)
    raw = dict(raw)
    if not is_heteromer:
      # Copies of one sequence are not paired: the UniProt rows are unused.
      raw = {k: v for k, v in raw.items() if not k.endswith('_all_seq')}
    if 'template_aatype' not in raw:
      raw.update(templates_lib.empty_template_features(
          np.shape(raw['aatype'])[0]))
    converted[chain_id] = assembly.convert_monomer_features(raw, chain_id)

  ordered = [f for _, f in assembly.add_assembly_features(converted)]
  ordered = _add_unmerged_features(ordered)
  if is_heteromer:
    ordered = pairing.create_paired_features(ordered)
    ordered = pairing.deduplicate_unpaired_sequences(ordered)
  ordered = [merging.crop_chain(c, pair_msa_sequences=is_heteromer,
                                msa_crop_size=msa_crop_size,
                                max_templates=max_templates)
             for c in ordered]
  example = merging.merge_chain_features(
      ordered, pair_msa_sequences=is_heteromer, max_templates=max_templates)
  example = merging.finalize(example)
  return merging.pad_msa(example, min_msa_rows)
