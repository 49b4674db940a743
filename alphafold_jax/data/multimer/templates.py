"""Template features of a complex's chains from hmmsearch hits.

AlphaFold-Multimer searches templates with hmmsearch (the chain's UniRef90
alignment against the PDB seqres sequences) and featurises them as the
monomer pipeline does (templates.TemplateFeaturizer), with two differences
of the reference's multimer featuriser: a hit whose aligned template
sequence repeats an earlier template is skipped (the seqres file lists
identical chains of one entry separately), and a chain without any usable
hit gets one all-zero template instead of none.
"""
from __future__ import annotations

from typing import Dict, List, Sequence

import numpy as np

from alphafold_jax.common import residue_constants
from alphafold_jax.data import mmcif as mmcif_lib
from alphafold_jax.data import parsers
from alphafold_jax.data import templates as templates_lib


def zero_template_features(num_res: int) -> Dict[str, np.ndarray]:
  """One template with no residues aligned (all features zero)."""
  return {
      'template_aatype': np.zeros(
          (1, num_res, len(residue_constants.restypes_with_x_and_gap)),
          np.float32),
      'template_all_atom_positions': np.zeros(
          (1, num_res, residue_constants.atom_type_num, 3), np.float32),
      'template_all_atom_masks': np.zeros(
          (1, num_res, residue_constants.atom_type_num), np.float32),
      'template_sum_probs': np.zeros((1, 1), np.float32),
      'template_domain_names': np.array([b''], dtype=object),
      'template_sequence': np.array([b''], dtype=object),
  }


class HmmsearchTemplateFeaturizer(templates_lib.TemplateFeaturizer):
  """TemplateFeaturizer for a multimer's chains: distinct templates only,
  one zero template when none is usable."""

  def get_templates(self, query_sequence: str,
                    hits: Sequence[parsers.TemplateHit]
                    ) -> templates_lib.TemplateSearchResult:
    """The features of at most max_hits distinct templates, hits taken in
    order of sum_probs (hmmsearch hits have none: search order)."""
    chosen: List[Dict[str, np.ndarray]] = []
    seen = set()
    errors, warnings = [], []
    for hit in sorted(hits, key=lambda h: -(h.sum_probs or 0.)):
      if len(chosen) >= self.max_hits:
        break
      try:
        features, warning = self._featurize(hit, query_sequence)
      except (templates_lib.TemplateError, mmcif_lib.MmcifError,
              parsers.ParseError) as e:
        errors.append(f'hit {hit.index} ({hit.name.split()[0]}): {e}')
        continue
      if warning:
        warnings.append(warning)
      if features['template_sequence'] in seen:
        continue
      seen.add(features['template_sequence'])
      chosen.append(features)
    if chosen:
      features = {key: np.stack([c[key] for c in chosen]) for key in chosen[0]}
    else:
      features = zero_template_features(len(query_sequence))
    return templates_lib.TemplateSearchResult(features, tuple(errors),
                                              tuple(warnings))
