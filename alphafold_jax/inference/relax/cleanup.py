"""Preparing a predicted structure for OpenMM: pdbfixer completes it.

Predictions carry no hydrogens and may lack terminal oxygens; Amber needs a
complete, protonated topology. Non-standard residues are replaced by their
parents and heterogens dropped (predictions have none, but the relaxer also
accepts structures from files).
"""
from __future__ import annotations

import io
import random
from typing import Any, Dict

import openmm
import pdbfixer
from openmm import app

from alphafold_jax.common import residue_constants

# Protonation states at physiological pH.
HYDROGEN_PH = 7.0
# Seed of pdbfixer's placement of missing atoms and hydrogens, so
# relaxation is repeatable.
FIXER_SEED = 0
# OpenMM's single-threaded double-precision platform for pdbfixer's own
# minimisations (new atoms and hydrogens): the multi-threaded CPU platform
# sums forces in a varying order (amber_minimize.CPU_PROPERTIES). Without it
# and the seed, two runs on the same structure placed the hydrogens
# differently (relaxed lDDT-Ca 95.1 and 95.5 from one unrelaxed prediction
# of the demo).
FIXER_PLATFORM = 'Reference'
_STANDARD_NAMES = frozenset(residue_constants.resnames) | {'HOH'}


def fix_pdb(pdb_str: str) -> tuple[str, Dict[str, Any]]:
  """Adds missing heavy atoms and hydrogens.

  Args:
    pdb_str: PDB text of one structure.

  Returns:
    (fixed PDB text, alterations): what was changed (non-standard residues,
    removed heterogens, missing heavy atoms and terminals).
  """
  fixer = pdbfixer.PDBFixer(
      pdbfile=io.StringIO(pdb_str),
      platform=openmm.Platform.getPlatformByName(FIXER_PLATFORM))
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
  # OpenMM's Modeller starts the new hydrogens at offsets drawn from Python's
  # global `random`: seeded here, and its state restored for the caller.
  state = random.getstate()
  random.seed(FIXER_SEED)
  try:
    fixer.addMissingHydrogens(HYDROGEN_PH)
  finally:
    random.setstate(state)
  out = io.StringIO()
  app.PDBFile.writeFile(fixer.topology, fixer.positions, out, keepIds=True)
  return out.getvalue(), alterations
