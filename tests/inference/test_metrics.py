"""lDDT-Cα and TM-score against known cases."""
import numpy as np
import pytest

from alphafold_jax.common import protein
from alphafold_jax.common import residue_constants
from alphafold_jax.inference import metrics
from tests.inference.conftest import DEMO_PDB

CA = residue_constants.atom_order['CA']


@pytest.fixture(scope='module')
def ca():
  with open(DEMO_PDB) as f:
    prot = protein.from_pdb_string(f.read())
  return prot.atom_positions[:, CA]


def _rotation(seed):
  q, _ = np.linalg.qr(np.random.default_rng(seed).normal(size=(3, 3)))
  return q * np.linalg.det(q)


def test_identical_structures_score_one(ca):
  moved = ca @ _rotation(0).T + np.array([5., -3., 12.])
  assert metrics.tm_score(moved, ca) == pytest.approx(1.)
  assert metrics.lddt_ca(moved, ca) == pytest.approx(1.)


def test_scores_fall_with_noise(ca):
  rng = np.random.default_rng(1)
  small = ca + rng.normal(scale=0.5, size=ca.shape)
  large = ca + rng.normal(scale=4., size=ca.shape)
  assert metrics.tm_score(large, ca) < metrics.tm_score(small, ca) < 1.
  assert metrics.lddt_ca(large, ca) < metrics.lddt_ca(small, ca) < 1.


def test_unrelated_structure_scores_low(ca):
  random_walk = np.cumsum(
      np.random.default_rng(2).normal(size=ca.shape), axis=0) * 2.2
  assert metrics.tm_score(random_walk, ca) < 0.3


def test_mirror_image_is_not_superposable(ca):
  assert metrics.tm_score(ca * np.array([1., 1., -1.]), ca) < 0.6


def test_mask_drops_residues(ca):
  wrong = ca.copy()
  wrong[:10] += 30.
  mask = np.ones(len(ca))
  mask[:10] = 0
  assert metrics.tm_score(wrong, ca, mask) == pytest.approx(1.)


def test_d0_floor():
  assert metrics.tm_d0(10) == metrics.MIN_D0
  assert metrics.tm_d0(100) == pytest.approx(1.24 * 85 ** (1 / 3) - 1.8)


def test_compare_structures_needs_the_same_sequence():
  with open(DEMO_PDB) as f:
    prot = protein.from_pdb_string(f.read())
  scores = metrics.compare_structures(prot, prot)
  assert scores == {'lddt_ca': pytest.approx(1.), 'tm_score': pytest.approx(1.),
                    'num_residues': 96}
  shorter = protein.from_pdb_string(protein.to_pdb(prot).replace(
      ' A  98 ', ' B  98 '), chain_id='A')
  with pytest.raises(ValueError, match='differ in sequence'):
    metrics.compare_structures(shorter, prot)


def _demo_complex():
  path = DEMO_PDB.parent / '3pwp_DE.pdb'
  with open(path) as f:
    return protein.from_pdb_string(f.read())


def _replace(prot, **fields):
  values = {k: np.asarray(getattr(prot, k)) for k in (
      'atom_positions', 'aatype', 'atom_mask', 'residue_index',
      'chain_index', 'b_factors')}
  values.update(fields)
  return protein.Protein(**values)


def test_compare_complexes_scores_the_interface():
  truth = _demo_complex()
  same = metrics.compare_complexes(truth, truth)
  assert same['dockq'] == pytest.approx(1., abs=1e-5)
  assert same['interface_lddt'] == pytest.approx(1.)
  assert same['lddt_ca'] == pytest.approx(1.)
  assert (same['num_chains'], same['num_interfaces'],
          same['num_residues']) == (2, 1, 100)
  # The second chain moved 4 Å away: each chain is still exact, the
  # interface is not.
  second = (truth.chain_index == truth.chain_index[-1])[:, None, None]
  moved = _replace(truth, atom_positions=truth.atom_positions +
                   second * np.array([4., 0., 0.]))
  scores = metrics.compare_complexes(moved, truth)
  assert scores['dockq'] < 0.8
  assert scores['interface_lddt'] < 0.9
  assert scores['lddt_ca'] < 1.
  # The prediction's own chains, renamed, score alike (chains by order).
  renamed = _replace(truth, chain_index=truth.chain_index + 5)
  assert metrics.compare_complexes(renamed, truth)['dockq'] == pytest.approx(
      same['dockq'])


def test_compare_complexes_needs_the_same_chains():
  truth = _demo_complex()
  split = _replace(truth, chain_index=np.where(
      np.arange(len(truth.aatype)) < 40, 0, 1))
  with pytest.raises(ValueError, match=r'chains differ in length: predicted '
                     r'\[40, 60\], experimental \[50, 50\]'):
    metrics.compare_complexes(split, truth)
  one = _replace(truth, chain_index=np.zeros_like(truth.chain_index))
  with pytest.raises(ValueError, match='two or more chains'):
    metrics.compare_complexes(one, one)
