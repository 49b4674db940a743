"""Amber relaxation: a distorted real structure comes back physical."""
import dataclasses

import numpy as np
import pytest

from alphafold_jax.common import protein
from alphafold_jax.inference.relax import AmberRelaxation
from alphafold_jax.inference.relax import amber_minimize
from alphafold_jax.inference.relax import relax as relax_lib
from alphafold_jax.inference.relax import violations
from tests.inference.conftest import DEMO_PDB

NUM_RES = 24
# Å of Gaussian noise: enough to break bonds and make clashes.
NOISE = 0.4
PLDDT = 77.25


@pytest.fixture(scope='module')
def distorted():
  with open(DEMO_PDB) as f:
    prot = protein.from_pdb_string(f.read())
  prot = protein.Protein(**{f.name: getattr(prot, f.name)[:NUM_RES]
                            for f in dataclasses.fields(prot)})
  noise = np.random.default_rng(0).normal(scale=NOISE,
                                          size=prot.atom_positions.shape)
  return dataclasses.replace(
      prot, atom_positions=prot.atom_positions + noise * prot.atom_mask[..., None],
      b_factors=np.full_like(prot.b_factors, PLDDT))


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
