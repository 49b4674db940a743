"""The output files of a prediction, in the released AlphaFold2's layout.

Per target directory: features.pkl, msas/, unrelaxed_<model>.pdb,
relaxed_<model>.pdb, ranked_<i>.pdb and .cif, result_<model>.pkl,
ranking_debug.json, timings.json, relax_metrics.json; and the AlphaFold DB
files confidence_<model>.json and pae_<model>.json. Every write goes to a
temporary file first and is renamed into place, so an interrupted run never
leaves a truncated output.
"""
from __future__ import annotations

import io
import json
import pickle
from typing import Any, Dict, Mapping, Sequence

import numpy as np

from alphafold_jax.common import atomic

# AlphaFold DB confidence bands of pLDDT: very low (D), low (L), confident
# (M), very high (H).
PLDDT_BANDS = ((50., 'D'), (70., 'L'), (90., 'M'))
PLDDT_TOP_BAND = 'H'
# Decimals kept in the AlphaFold DB JSON files.
PLDDT_DECIMALS = 2
PAE_DECIMALS = 1


def write_bytes(path: str, data: bytes) -> None:
  """Writes `data` to `path` atomically."""
  atomic.write_bytes(path, data)


def write_text(path: str, text: str) -> None:
  write_bytes(path, text.encode())


def write_json(path: str, obj: Any, indent: int | None = 4) -> None:
  write_text(path, json.dumps(obj, indent=indent))


def write_pickle(path: str, obj: Any) -> None:
  write_bytes(path, pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL))


def write_npz(path: str, **arrays: np.ndarray) -> None:
  buffer = io.BytesIO()
  np.savez(buffer, **arrays)
  write_bytes(path, buffer.getvalue())


def confidence_category(score: float) -> str:
  """The AlphaFold DB band of one pLDDT value."""
  for upper, band in PLDDT_BANDS:
    if score < upper:
      return band
  return PLDDT_TOP_BAND


def confidence_json(plddt: np.ndarray) -> Dict[str, list]:
  """confidence_<model>.json: per-residue pLDDT and its band (1-based)."""
  scores = np.round(np.asarray(plddt, np.float64), PLDDT_DECIMALS)
  return {
      'residueNumber': list(range(1, len(scores) + 1)),
      'confidenceScore': scores.tolist(),
      'confidenceCategory': [confidence_category(s) for s in scores],
  }


def pae_json(pae: np.ndarray, max_pae: float) -> list:
  """pae_<model>.json: the [N, N] predicted aligned error (Å) and its cap."""
  errors = np.round(np.asarray(pae, np.float64), PAE_DECIMALS)
  return [{'predicted_aligned_error': errors.tolist(),
           'max_predicted_aligned_error': float(max_pae)}]


# ranking_debug.json's key for each model's confidence: mean pLDDT (or pTM
# for pTM models) for the monomer, 0.8 ipTM + 0.2 pTM for the multimer.
MONOMER_RANKING_KEY = 'plddts'
MULTIMER_RANKING_KEY = 'iptm+ptm'


def ranking(ranking_confidences: Mapping[str, float],
            key: str = MONOMER_RANKING_KEY) -> Dict[str, Any]:
  """ranking_debug.json: each model's confidence and the best-first order."""
  order = sorted(ranking_confidences, key=ranking_confidences.get,
                 reverse=True)
  return {key: {k: float(v) for k, v in ranking_confidences.items()},
          'order': order}


def relax_metrics(violations: Mapping[str, Sequence[float]],
                  errors: Mapping[str, str] | None = None
                  ) -> Dict[str, Dict[str, Any]]:
  """relax_metrics.json: the residues still violating after relaxation, and
  for models whose relaxation failed, why."""
  metrics = {name: {'remaining_violations': list(v),
                    'remaining_violations_count': float(np.sum(v))}
             for name, v in violations.items()}
  metrics.update({name: {'error': e} for name, e in (errors or {}).items()})
  return metrics
