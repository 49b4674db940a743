"""AmberRelaxation: a predicted Protein in, a relaxed PDB and its report out."""
from __future__ import annotations

import dataclasses
from typing import Any, Dict, List, Tuple

import numpy as np

from alphafold_jax.common import protein as protein_lib
from alphafold_jax.inference.relax import amber_minimize

# PDB columns (0-based, end exclusive) of the fields rewritten or read.
_B_FACTOR_COLUMNS = (60, 66)
_RESIDUE_ID_COLUMNS = (21, 27)  # chain, residue number, insertion code


def overwrite_b_factors(pdb_str: str, b_factors: np.ndarray) -> str:
  """Sets each residue's B-factor (per-residue values, [N]) in PDB text.

  Residues are matched in order of appearance, so hydrogens added by the
  relaxation carry their residue's pLDDT too.
  """
  lines = []
  residue = -1
  previous_id = None
  for line in pdb_str.splitlines():
    if line.startswith(('ATOM', 'HETATM')):
      residue_id = line[slice(*_RESIDUE_ID_COLUMNS)]
      if residue_id != previous_id:
        residue += 1
        previous_id = residue_id
      if residue >= len(b_factors):
        raise ValueError(f'The PDB text has more residues than the '
                         f'{len(b_factors)} B-factors given.')
      line = line.ljust(_B_FACTOR_COLUMNS[1])
      line = (line[:_B_FACTOR_COLUMNS[0]] + f'{b_factors[residue]:6.2f}' +
              line[_B_FACTOR_COLUMNS[1]:])
    lines.append(line)
  return '\n'.join(lines) + '\n'


@dataclasses.dataclass(frozen=True)
class AmberRelaxation:
  """The released relaxation's settings (Suppl. 1.8.6)."""
  max_iterations: int = amber_minimize.MAX_ITERATIONS
  tolerance: float = amber_minimize.TOLERANCE
  stiffness: float = amber_minimize.STIFFNESS
  max_outer_iterations: int = amber_minimize.MAX_OUTER_ITERATIONS
  use_gpu: bool = False

  def process(self, prot: protein_lib.Protein
              ) -> Tuple[str, Dict[str, Any], List[float]]:
    """Relaxes one structure.

    Returns:
      (relaxed PDB text with hydrogens and the input's per-residue
      B-factors, debug data {initial_energy, final_energy, attempts, rmsd,
      iterations}, per-residue remaining violations [N] as 0/1 floats).
    """
    out = amber_minimize.run_pipeline(
        prot, stiffness=self.stiffness, tolerance=self.tolerance,
        max_iterations=self.max_iterations,
        max_outer_iterations=self.max_outer_iterations,
        use_gpu=self.use_gpu)
    start, end = out['posinit'], out['pos']
    rmsd = float(np.sqrt(np.sum((start - end) ** 2) / start.shape[0]))
    relaxed = out['relaxed']
    if relaxed.aatype.shape != prot.aatype.shape or np.any(
        relaxed.aatype != prot.aatype):
      raise RuntimeError('Relaxation changed the sequence of the structure.')
    min_pdb = overwrite_b_factors(out['min_pdb'], prot.b_factors[:, 0])
    debug = {'initial_energy': float(out['einit']),
             'final_energy': float(out['efinal']),
             'attempts': int(out['min_attempts']), 'rmsd': rmsd,
             'iterations': int(out['iteration']) + 1}
    violations = np.asarray(out['violations_per_residue'],
                            np.float64).tolist()
    return min_pdb, debug, violations
