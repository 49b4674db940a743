"""Which predictions enter the self-distillation set, and which of their
residues are supervised (Suppl. 1.3).

A prediction is kept when its mean pLDDT reaches `min_mean_plddt`; in a
kept prediction the residues whose pLDDT is below `min_residue_plddt` (the
supplement's 0.5 on its 0-1 scale) are masked out: their atoms get mask 0,
so no loss reads their coordinates.
"""
from __future__ import annotations

import dataclasses
from typing import Optional

import numpy as np

# Suppl. 1.3: residues predicted with pLDDT below 0.5 (50 on the 0-100
# scale) are masked out of a distillation example.
MIN_RESIDUE_PLDDT = 50.
# Our default, not the supplement's: keep a sequence when its mean pLDDT is
# in the released model's "confident" band (>= 70, Jumper et al. 2021).
MIN_MEAN_PLDDT = 70.


@dataclasses.dataclass(frozen=True)
class ConfidenceConfig:
  """Thresholds on pLDDT (0-100)."""
  min_mean_plddt: float = MIN_MEAN_PLDDT
  min_residue_plddt: float = MIN_RESIDUE_PLDDT


def rejection_reason(plddt: np.ndarray, config: ConfidenceConfig
                     ) -> Optional[str]:
  """Why a prediction is left out (its [N_res] pLDDT), or None to keep it."""
  mean = float(np.mean(plddt))
  if mean < config.min_mean_plddt:
    return f'mean pLDDT {mean:.1f} below {config.min_mean_plddt:g}'
  return None


def confident_atom_mask(atom_mask: np.ndarray, plddt: np.ndarray,
                        config: ConfidenceConfig) -> np.ndarray:
  """[N_res, 37] atom mask with low-confidence residues zeroed (new array).

  Args:
    atom_mask: [N_res, 37] the predicted structure's atom mask.
    plddt: [N_res] per-residue pLDDT.
  """
  confident = np.asarray(plddt) >= config.min_residue_plddt
  return np.asarray(atom_mask, np.float32) * confident[:, None].astype(
      np.float32)
