"""Confidence plots: pLDDT along the sequence and the PAE heatmap (PNG)."""
from __future__ import annotations

import io
from typing import List, Optional

import matplotlib
matplotlib.use('Agg')  # No display: write files only.
from matplotlib import pyplot as plt  # pylint: disable=g-import-not-at-top
import numpy as np

from alphafold_jax.inference import outputs

DPI = 100
# Colours of the AlphaFold DB pLDDT bands, lowest first.
BAND_COLORS = ('#FF7D45', '#FFDB13', '#65CBF3', '#0053D6')
BAND_EDGES = (0., 50., 70., 90., 100.)


# The lines that mark where one chain of a complex ends.
CHAIN_BOUNDARY_STYLE = {'color': 'black', 'lw': 0.8, 'ls': '--'}


def chain_boundaries(asym_id: Optional[np.ndarray]) -> List[float]:
  """Positions (between residues, 1-based: 10.5 lies between residues 10
  and 11) where the chain of `asym_id` [N] changes."""
  if asym_id is None:
    return []
  asym_id = np.asarray(asym_id)
  return (np.nonzero(asym_id[1:] != asym_id[:-1])[0] + 1.5).tolist()


def confidence_png(plddt: np.ndarray, pae: Optional[np.ndarray] = None,
                   max_pae: Optional[float] = None, title: str = '',
                   asym_id: Optional[np.ndarray] = None) -> bytes:
  """PNG bytes: pLDDT per residue, and beside it the PAE heatmap if given;
  for a complex (asym_id [N], the chain of each residue) dashed lines mark
  the chain boundaries on both."""
  boundaries = chain_boundaries(asym_id)
  num_panels = 1 if pae is None else 2
  fig, axes = plt.subplots(1, num_panels, figsize=(6 * num_panels, 4.5),
                           dpi=DPI, squeeze=False)
  ax = axes[0, 0]
  residues = np.arange(1, len(plddt) + 1)
  for lower, upper, color in zip(BAND_EDGES[:-1], BAND_EDGES[1:],
                                 BAND_COLORS):
    ax.axhspan(lower, upper, color=color, alpha=0.15, lw=0)
  ax.plot(residues, plddt, color='black', lw=1.2)
  ax.set_xlim(1, max(len(plddt), 2))
  ax.set_ylim(0, 100)
  ax.set_xlabel('Residue')
  ax.set_ylabel('pLDDT')
  ax.set_title(f'{title} pLDDT (mean {np.mean(plddt):.1f})'.strip())
  for x in boundaries:
    ax.axvline(x, **CHAIN_BOUNDARY_STYLE)
  if pae is not None:
    ax = axes[0, 1]
    image = ax.imshow(pae, cmap='Greens_r', vmin=0,
                      vmax=max_pae if max_pae else float(np.max(pae)),
                      extent=(0.5, len(pae) + 0.5, len(pae) + 0.5, 0.5))
    fig.colorbar(image, ax=ax, label='Expected position error (Å)')
    for x in boundaries:
      ax.axvline(x, **CHAIN_BOUNDARY_STYLE)
      ax.axhline(x, **CHAIN_BOUNDARY_STYLE)
    ax.set_xlabel('Scored residue')
    ax.set_ylabel('Aligned residue')
    ax.set_title(f'{title} PAE'.strip())
  fig.tight_layout()
  buffer = io.BytesIO()
  fig.savefig(buffer, format='png')
  plt.close(fig)
  return buffer.getvalue()


def write_confidence_png(path: str, plddt: np.ndarray,
                         pae: Optional[np.ndarray] = None,
                         max_pae: Optional[float] = None,
                         title: str = '',
                         asym_id: Optional[np.ndarray] = None) -> None:
  outputs.write_bytes(path, confidence_png(plddt, pae, max_pae, title,
                                           asym_id))
