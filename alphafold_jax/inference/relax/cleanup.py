"""Preparing a predicted structure for OpenMM: pdbfixer completes it.

Predictions carry no hydrogens and may lack terminal oxygens; Amber needs a
complete, protonated topology. Non-standard residues are replaced by their
parents and heterogens dropped (predictions have none, but the relaxer also
accepts structures from files).
"""
from __future__ import annotations

import io
from typing import Any, Dict

import pdbfixer
from openmm import app

from alphafold_jax.common import residue_constants

# Protonation states at physiological pH.
HYDROGEN_PH = 7.0
# Seed of pdbfixer's placement of missing atoms, so relaxation is repeatable.
FIXER_SEED = 0
_STANDARD_NAMES = frozenset(residue_constants.resnames) | {'HOH'}


def fix_pdb(pdb_str: str) -> tuple[str, Dict[str, Any]]:
  """Adds missing heavy atoms and hydrogens.

  Args:
    pdb_str: PDB text of one structure.

  Returns:
    (fixed PDB text, alterations): what was changed (non-standard residues,
    removed heterogens, missing heavy atoms and terminals).
  """
  fixer = pdbfixer.PDBFixer(pdbfile=io.StringIO(pdb_str))
  alterations = {}
  fixer.findNonstandardResidues()
  alterations['nonstandard_residues'] = list(fixer.nonstandardResidues)
  fixer.replaceNonstandardResidues()
  alterations['removed_heterogens'] = sorted(
      {r.name for r in fixer.topology.residues()} - _STANDARD_NAMES)
  fixer.removeHeterogens(keepWater=False)
  # Gaps in the numbering are real chain breaks of the prediction, not
  # residues to model.
  fixer.findMissingResidues()
  fixer.missingResidues = {}
  fixer.findMissingAtoms()
  alterations['missing_heavy_atoms'] = len(fixer.missingAtoms)
  alterations['missing_terminals'] = len(fixer.missingTerminals)
  fixer.addMissingAtoms(seed=FIXER_SEED)
  fixer.addMissingHydrogens(HYDROGEN_PH)
  out = io.StringIO()
  app.PDBFile.writeFile(fixer.topology, fixer.positions, out, keepIds=True)
  return out.getvalue(), alterations
