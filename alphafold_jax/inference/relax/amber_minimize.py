"""Restrained Amber99sb energy minimisation with OpenMM (Suppl. 1.8.6).

The predicted structure is minimised under the Amber99sb force field with
harmonic restraints (10 kcal/mol/Å²) that hold every heavy atom near its
predicted place; residues still in violation after a round lose their
restraints in the next, until none is left or the rounds run out.
"""
from __future__ import annotations

import io
import logging
import time
from typing import Any, Dict, Optional, Sequence, Set

import numpy as np
from openmm import app as openmm_app
from openmm import openmm
from openmm import unit

from alphafold_jax.common import protein as protein_lib
from alphafold_jax.inference.relax import cleanup
from alphafold_jax.inference.relax import violations as violations_lib

ENERGY = unit.kilocalories_per_mole
LENGTH = unit.angstroms
FORCE_FIELD = 'amber99sb.xml'
# Restraint strength of the released relaxation (kcal/mol/Å²).
STIFFNESS = 10.0
# Converge when the RMS force falls below this; 2.39 kcal/mol/nm is
# OpenMM's default of 10 kJ/mol/nm, the released pipeline's setting.
TOLERANCE = 2.39
# 0: minimise until the tolerance is met.
MAX_ITERATIONS = 0
# Rounds of minimisation, each unrestraining the residues still violating.
MAX_OUTER_ITERATIONS = 3
# OpenMM's minimiser occasionally fails on a bad start; retry this often.
MAX_ATTEMPTS = 100
# Platforms tried in order when a GPU may be used.
GPU_PLATFORMS = ('CUDA', 'OpenCL')
# On the CPU platform, one thread: with several, forces are summed in a varying
# order and the minimisation of one structure ends in different places from
# run to run (final energies -143.8 and -111.2 kcal/mol on the demo's
# prediction); single-threaded it is repeatable (7 s for the demo's 96
# residues on one core).
CPU_PROPERTIES = {'Threads': '1'}
# The force group of the restraints, so that their energy can be read alone.
RESTRAINT_FORCE_GROUP = 1


def platform_name(use_gpu: bool) -> str:
  """'CUDA' or 'OpenCL' when asked for and available, else 'CPU'."""
  available = {openmm.Platform.getPlatform(i).getName()
               for i in range(openmm.Platform.getNumPlatforms())}
  if use_gpu:
    for name in GPU_PLATFORMS:
      if name in available:
        return name
  return 'CPU'


def _add_restraints(system, pdb, stiffness, exclude_residues: Set[int]):
  """Harmonic restraints on the heavy atoms of the residues not excluded."""
  force = openmm.CustomExternalForce(
      '0.5 * k * ((x - x0)^2 + (y - y0)^2 + (z - z0)^2)')
  force.addGlobalParameter('k', stiffness)
  for name in ('x0', 'y0', 'z0'):
    force.addPerParticleParameter(name)
  for atom, position in zip(pdb.topology.atoms(), pdb.positions):
    if atom.residue.index in exclude_residues:
      continue
    if atom.element is not None and atom.element.symbol == 'H':
      continue
    force.addParticle(atom.index, position)
  force.setForceGroup(RESTRAINT_FORCE_GROUP)
  system.addForce(force)


def _positions_angstrom(state) -> np.ndarray:
  return np.asarray(state.getPositions().value_in_unit(LENGTH))


def make_simulation(pdb_str: str, exclude_residues: Set[int],
                    stiffness: float = STIFFNESS, use_gpu: bool = False):
  """The Amber99sb system of a protonated structure with its restraints,
  placed at the structure's positions.

  Args: as `minimize`.

  Returns:
    The openmm Simulation; the restraints are in force group
    RESTRAINT_FORCE_GROUP.
  """
  pdb = openmm_app.PDBFile(io.StringIO(pdb_str))
  force_field = openmm_app.ForceField(FORCE_FIELD)
  system = force_field.createSystem(pdb.topology,
                                    constraints=openmm_app.HBonds)
  if stiffness > 0:
    _add_restraints(system, pdb, stiffness * ENERGY / (LENGTH ** 2),
                    exclude_residues)
  # Zero temperature: the integrator only serves the minimiser.
  integrator = openmm.LangevinIntegrator(0, 0.01, 0.0)
  name = platform_name(use_gpu)
  platform = openmm.Platform.getPlatformByName(name)
  simulation = openmm_app.Simulation(
      pdb.topology, system, integrator, platform,
      CPU_PROPERTIES if name == 'CPU' else None)
  simulation.context.setPositions(pdb.positions)
  return simulation


def minimize(pdb_str: str, exclude_residues: Set[int],
             stiffness: float = STIFFNESS, tolerance: float = TOLERANCE,
             max_iterations: int = MAX_ITERATIONS,
             use_gpu: bool = False) -> Dict[str, Any]:
  """One restrained minimisation of a protonated structure.

  Args:
    pdb_str: PDB text with hydrogens (cleanup.fix_pdb output).
    exclude_residues: 0-based residue positions left unrestrained.
    stiffness: restraint constant (kcal/mol/Å²).
    tolerance: RMS-force convergence threshold (kcal/mol/nm).
    max_iterations: minimiser steps, 0 for no limit.
    use_gpu: run on a GPU platform when OpenMM has one.

  Returns:
    einit, efinal (kcal/mol), posinit, pos [N_atoms, 3] (Å), min_pdb.
  """
  simulation = make_simulation(pdb_str, exclude_residues, stiffness, use_gpu)
  start = simulation.context.getState(getEnergy=True, getPositions=True)
  simulation.minimizeEnergy(
      maxIterations=max_iterations,
      tolerance=tolerance * ENERGY / unit.nanometer)
  end = simulation.context.getState(getEnergy=True, getPositions=True)
  out = io.StringIO()
  openmm_app.PDBFile.writeFile(simulation.topology, end.getPositions(), out,
                               keepIds=True)
  return {
      'einit': start.getPotentialEnergy().value_in_unit(ENERGY),
      'efinal': end.getPotentialEnergy().value_in_unit(ENERGY),
      'posinit': _positions_angstrom(start),
      'pos': _positions_angstrom(end),
      'min_pdb': out.getvalue(),
  }


def _minimize_with_retries(pdb_str: str, exclude_residues: Set[int],
                           max_attempts: int, **kwargs) -> Dict[str, Any]:
  for attempt in range(1, max_attempts + 1):
    try:
      result = minimize(pdb_str, exclude_residues, **kwargs)
      result['min_attempts'] = attempt
      return result
    except Exception as e:  # pylint: disable=broad-except
      # OpenMM raises plain Exceptions (e.g. NaN particle coordinates).
      logging.info('Minimisation attempt %d failed: %s', attempt, e)
      last_error = e
  raise RuntimeError(f'Amber minimisation failed after {max_attempts} '
                     f'attempts: {last_error}')


def run_pipeline(prot: protein_lib.Protein,
                 stiffness: float = STIFFNESS,
                 tolerance: float = TOLERANCE,
                 max_iterations: int = MAX_ITERATIONS,
                 max_outer_iterations: int = MAX_OUTER_ITERATIONS,
                 exclude_residues: Optional[Sequence[int]] = None,
                 max_attempts: int = MAX_ATTEMPTS,
                 use_gpu: bool = False) -> Dict[str, Any]:
  """Minimises until no residue violates or the rounds run out.

  Returns:
    The last round's `minimize` output plus violations_per_residue [N],
    num_residue_violations, num_exclusions, iteration (rounds run),
    min_attempts and the protein `relaxed` (heavy atoms, no hydrogens).
  """
  excluded = set(exclude_residues or ())
  pdb_str, _ = cleanup.fix_pdb(protein_lib.to_pdb(prot))
  violations = np.inf
  iteration = 0
  result = {}
  while violations > 0 and iteration < max_outer_iterations:
    started = time.time()
    result = _minimize_with_retries(
        pdb_str, excluded, max_attempts, stiffness=stiffness,
        tolerance=tolerance, max_iterations=max_iterations, use_gpu=use_gpu)
    relaxed = protein_lib.from_pdb_string(result['min_pdb'],
                                          source='minimised structure')
    result['relaxed'] = relaxed
    result.update(violations_lib.find_violations(relaxed))
    result['num_exclusions'] = len(excluded)
    result['iteration'] = iteration
    violations = int(result['num_residue_violations'])
    excluded |= set(np.nonzero(result['violations_per_residue'])[0].tolist())
    logging.info('Relaxation round %d: E %.1f -> %.1f kcal/mol, %d residues '
                 'in violation, %.1fs', iteration, result['einit'],
                 result['efinal'], violations, time.time() - started)
    # The next round starts from the minimised heavy atoms, re-protonated.
    pdb_str, _ = cleanup.fix_pdb(protein_lib.to_pdb(relaxed))
    iteration += 1
  return result
