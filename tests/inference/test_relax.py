"""Amber relaxation: a distorted real structure comes back physical."""
import dataclasses

import numpy as np
from openmm import unit
import pytest

from alphafold_jax.common import protein
from alphafold_jax.inference.relax import AmberRelaxation
from alphafold_jax.inference.relax import amber_minimize
from alphafold_jax.inference.relax import cleanup
from alphafold_jax.inference.relax import relax as relax_lib
from alphafold_jax.inference.relax import violations
from tests.inference.conftest import DEMO_PDB

NUM_RES = 24
# Å of Gaussian noise: enough to break bonds and make clashes.
NOISE = 0.4
PLDDT = 77.25


def _distort(residues=slice(None)):
  """The first NUM_RES residues of the demo structure with Gaussian noise
  on the atoms of `residues`."""
  with open(DEMO_PDB) as f:
    prot = protein.from_pdb_string(f.read())
  prot = protein.Protein(**{f.name: getattr(prot, f.name)[:NUM_RES]
                            for f in dataclasses.fields(prot)})
  noise = np.zeros(prot.atom_positions.shape)
  noise[residues] = np.random.default_rng(0).normal(
      scale=NOISE, size=prot.atom_positions.shape)[residues]
  return dataclasses.replace(
      prot, atom_positions=prot.atom_positions + noise * prot.atom_mask[..., None],
      b_factors=np.full_like(prot.b_factors, PLDDT))


@pytest.fixture(scope='module')
def distorted():
  return _distort()


@pytest.fixture(scope='module')
def relaxed(distorted):
  return AmberRelaxation().process(distorted)


def test_the_experimental_structure_has_no_violations():
  with open(DEMO_PDB) as f:
    prot = protein.from_pdb_string(f.read())
  assert violations.find_violations(prot)['num_residue_violations'] == 0


def test_relaxation_removes_violations(distorted, relaxed):
  before = violations.find_violations(distorted)['num_residue_violations']
  pdb, debug, remaining = relaxed
  assert before > 0
  assert sum(remaining) == 0
  assert debug['final_energy'] < debug['initial_energy']
  after = protein.from_pdb_string(pdb)
  assert violations.find_violations(after)['num_residue_violations'] == 0


def test_restraints_keep_the_structure(distorted, relaxed):
  after = protein.from_pdb_string(relaxed[0])
  np.testing.assert_array_equal(after.aatype, distorted.aatype)
  ca = 1
  moved = np.linalg.norm(after.atom_positions[:, ca] -
                         distorted.atom_positions[:, ca], axis=-1)
  assert moved.mean() < 1.0


def test_relaxation_is_repeatable(distorted, relaxed):
  """The same prediction relaxes to the same atoms (hydrogens seeded,
  single-threaded forces), and the caller's `random` stream is untouched."""
  import random
  random.seed(7)
  expected = random.random()
  random.seed(7)
  again = AmberRelaxation().process(distorted)
  assert random.random() == expected
  assert again[0] == relaxed[0]
  assert again[1]['final_energy'] == relaxed[1]['final_energy']


def test_b_factors_and_hydrogens(relaxed):
  pdb = relaxed[0]
  atoms = [l for l in pdb.splitlines() if l.startswith('ATOM')]
  assert {float(l[60:66]) for l in atoms} == {PLDDT}
  assert any(l[76:78].strip() == 'H' for l in atoms)


def test_overwrite_b_factors_by_residue():
  pdb = ('ATOM      1  N   ALA A   1       0.000   0.000   0.000  1.00  0.00'
         '           N\n'
         'ATOM      2  CA  ALA A   1       1.000   0.000   0.000  1.00  0.00'
         '           C\n'
         'ATOM      3  N   GLY A   2       2.000   0.000   0.000  1.00  0.00'
         '           N\nEND\n')
  out = relax_lib.overwrite_b_factors(pdb, np.array([10., 20.]))
  values = [float(l[60:66]) for l in out.splitlines() if l.startswith('ATOM')]
  assert values == [10., 10., 20.]
  with pytest.raises(ValueError):
    relax_lib.overwrite_b_factors(pdb, np.array([10.]))


def test_cpu_platform_without_gpu():
  assert amber_minimize.platform_name(use_gpu=False) == 'CPU'


def test_restraints_have_the_claimed_stiffness(distorted):
  """A restrained heavy atom moved by 0.5 Å costs 0.5 k d² with k = 10
  kcal/mol/Å² (Suppl. 1.8.6); hydrogens and excluded residues are free."""
  pdb_str, _ = cleanup.fix_pdb(protein.to_pdb(distorted))
  excluded = 3
  simulation = amber_minimize.make_simulation(pdb_str, {excluded})
  start = simulation.context.getState(getPositions=True).getPositions(
      asNumpy=True).value_in_unit(unit.angstrom)
  atoms = list(simulation.topology.atoms())

  def first(residue, hydrogen):
    return next(a.index for a in atoms if a.residue.index == residue
                and (a.element.symbol == 'H') == hydrogen)

  def restraint_energy(atom, shift=0.5):
    moved = np.array(start)
    moved[atom, 0] += shift
    simulation.context.setPositions(moved * unit.angstrom)
    state = simulation.context.getState(
        getEnergy=True, groups={amber_minimize.RESTRAINT_FORCE_GROUP})
    return state.getPotentialEnergy().value_in_unit(
        unit.kilocalories_per_mole)

  # Zero up to the round trip of the positions through nanometres.
  zero = 1e-9
  assert restraint_energy(first(0, hydrogen=False), shift=0.) < zero
  np.testing.assert_allclose(restraint_energy(first(0, hydrogen=False)),
                             0.5 * 10. * 0.5 ** 2, rtol=1e-4)
  assert restraint_energy(first(0, hydrogen=True)) < zero
  assert restraint_energy(first(excluded, hydrogen=False)) < zero


def test_violations_that_survive_a_round_are_unrestrained(monkeypatch):
  """Restraints 100 times stiffer hold distorted residues 10-13 in
  violation through the first round; the second round minimises with
  exactly the residues still violating unrestrained, and removes the
  violations."""
  rounds = []
  minimize = amber_minimize._minimize_with_retries  # pylint: disable=protected-access

  def recorded(pdb_str, exclude_residues, *args, **kwargs):
    result = minimize(pdb_str, exclude_residues, *args, **kwargs)
    relaxed = protein.from_pdb_string(result['min_pdb'])
    rounds.append((set(exclude_residues), violations.find_violations(
        relaxed)['violations_per_residue']))
    return result

  monkeypatch.setattr(amber_minimize, '_minimize_with_retries', recorded)
  out = amber_minimize.run_pipeline(_distort(slice(10, 14)), stiffness=1000.)
  assert len(rounds) == 2 and out['iteration'] == 1
  (first_excluded, first_violations), (second_excluded, _) = rounds
  assert first_excluded == set()
  violating = set(np.nonzero(first_violations)[0].tolist())
  assert violating and violating < set(range(NUM_RES))
  assert second_excluded == violating
  assert out['num_exclusions'] == len(violating)
  assert out['num_residue_violations'] == 0


def _chains(prot, pieces):
  """A Protein of the given residue slices of `prot`, one chain each,
  numbered from 1 per chain."""
  parts = [{f.name: getattr(prot, f.name)[s] for f in dataclasses.fields(prot)}
           for s in pieces]
  for chain, part in enumerate(parts):
    part['chain_index'] = np.full_like(part['chain_index'], chain)
    part['residue_index'] = np.arange(1, len(part['aatype']) + 1,
                                      dtype=np.int32)
  return protein.Protein(**{k: np.concatenate([p[k] for p in parts])
                            for k in parts[0]})


def test_a_clash_between_chains_with_equal_residue_numbers_is_found():
  with open(DEMO_PDB) as f:
    prot = protein.from_pdb_string(f.read())
  # Chain B: a copy of chain A's first residue, 0.3 Å away; both are
  # residue 1 of their chain.
  complex_ = _chains(prot, [slice(0, 6), slice(0, 1)])
  positions = complex_.atom_positions.copy()
  positions[6:] += 0.3
  complex_ = dataclasses.replace(complex_, atom_positions=positions)
  found = violations.find_violations(complex_)['violations_per_residue']
  assert found[0] and found[6]
  assert violations.find_violations(_chains(prot, [slice(0, 6)]))[
      'num_residue_violations'] == 0


def test_relaxation_keeps_a_chain_break(distorted):
  # Two chains with a missing residue between them: no bond may form.
  complex_ = _chains(distorted, [slice(0, 11), slice(12, NUM_RES)])
  pdb, _, remaining = AmberRelaxation().process(complex_)
  after = protein.from_pdb_string(pdb)
  assert sum(remaining) == 0
  np.testing.assert_array_equal(after.chain_index, complex_.chain_index)
  np.testing.assert_array_equal(after.residue_index, complex_.residue_index)
  carbon, nitrogen = 2, 0
  gaps = [np.linalg.norm(p.atom_positions[10, carbon] -
                         p.atom_positions[11, nitrogen])
          for p in (complex_, after)]
  # A peptide bond across the break would be 1.33 Å long; the restraints
  # keep the break's ends within 1 Å of where they were.
  assert gaps[1] > 2 * 1.33
  assert abs(gaps[1] - gaps[0]) < 1.
  assert sum(l.startswith('TER') for l in pdb.splitlines()) == 2
