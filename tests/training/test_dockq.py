"""training/dockq.py and the interface lDDT of complex_metrics.py.

DockQ is checked against the DockQ package (2.1.3) on a real complex: PDB
1BD2's MHC heavy chain, beta-2-microglobulin and peptide (chains A, B, C,
the native read by the package from the mmCIF file itself), with
predictions made by moving chains and jittering every atom, written as PDB.
"""
import importlib
import os
import pathlib

import jax
import numpy as np
import pytest

from alphafold_jax.common import protein as protein_lib
from alphafold_jax.common import residue_constants
from alphafold_jax.data import structure_features
from alphafold_jax.losses.lddt import lddt
from alphafold_jax.training import complex_metrics
from alphafold_jax.training import dockq


def _dockq_package():
  """The DockQ package's scoring module. The Makefile installs it when the
  machine can build it (it compiles a C extension); CI must have it."""
  try:
    return importlib.import_module('DockQ.DockQ')
  except ImportError as e:
    if os.environ.get('CI') == 'true':
      pytest.fail(f'DockQ is not installed ({e}); CI installs it (Makefile).')
    pytest.skip(f'DockQ is not installed ({e}).')

COMPLEX = (pathlib.Path(__file__).parents[1] / 'fixtures' / 'data' /
           '1BD2.cif.gz')
CHAINS = ('A', 'B', 'C')
_CA = residue_constants.atom_order['CA']
# One compiled program for every test (all score the same three chains).
_complex_dockq = jax.jit(dockq.complex_dockq, static_argnums=5)
_MAX_CHAINS = 4


@pytest.fixture(scope='module')
def native():
  parts = [structure_features.read_structure(COMPLEX, c) for c in CHAINS]
  fields = ('atom_positions', 'aatype', 'atom_mask', 'residue_index',
            'b_factors')
  values = {f: np.concatenate([getattr(p, f) for p in parts]) for f in fields}
  values['chain_index'] = np.concatenate(
      [np.full(p.aatype.shape, i, np.int32) for i, p in enumerate(parts)])
  return protein_lib.Protein(**values)


def _rotation(axis, degrees):
  axis = np.asarray(axis, float) / np.linalg.norm(axis)
  angle = np.deg2rad(degrees)
  k = np.array([[0, -axis[2], axis[1]], [axis[2], 0, -axis[0]],
                [-axis[1], axis[0], 0]])
  return np.eye(3) + np.sin(angle) * k + (1 - np.cos(angle)) * k @ k


def _prediction(native, moves, noise, seed):
  """Every atom of each residue type (as a prediction has them: the ones
  the truth lacks put near its Cα), chains moved rigidly about their
  centres by moves[chain] = (axis, degrees, shift), then jittered."""
  rng = np.random.default_rng(seed)
  mask = residue_constants.STANDARD_ATOM_MASK[native.aatype].astype(float)
  ca = native.atom_positions[:, _CA]
  positions = np.where(native.atom_mask[..., None] > 0, native.atom_positions,
                       ca[:, None] + rng.normal(0., 1.5, ca.shape)[:, None])
  for chain, (axis, degrees, shift) in moves.items():
    sel = native.chain_index == chain
    centre = ca[sel].mean(0)
    positions[sel] = ((positions[sel] - centre) @ _rotation(axis,
                                                            degrees).T +
                      centre + np.asarray(shift))
  positions = positions + rng.normal(0., noise, positions.shape)
  return protein_lib.Protein(
      atom_positions=positions * mask[..., None], aatype=native.aatype,
      atom_mask=mask, residue_index=native.residue_index,
      chain_index=native.chain_index, b_factors=np.zeros_like(mask))


@pytest.mark.parametrize('moves, noise', [
    ({2: ((1., 0., 0.), 10., (1., 0., 0.))}, 0.3),
    ({1: ((0., 1., 1.), 20., (0., 3., 0.)),
      2: ((1., 1., 0.), 60., (2., -4., 3.))}, 1.0),
])
def test_dockq_matches_the_dockq_package(native, tmp_path, moves, noise):
  dockq_package = _dockq_package()
  prediction = _prediction(native, moves, noise, seed=len(moves))
  model_path = tmp_path / 'model.pdb'
  model_path.write_text(protein_lib.to_pdb(prediction))
  reference, total = dockq_package.run_on_all_native_interfaces(
      dockq_package.load_PDB(str(model_path)),
      dockq_package.load_PDB(str(COMPLEX), chains=list(CHAINS)),
      chain_map={c: c for c in CHAINS})
  # The heavy chain binds both others; beta-2-microglobulin and the peptide
  # do not touch.
  assert sorted(reference) == ['AB', 'AC']

  whole = _complex_dockq(
      prediction.atom_positions, prediction.atom_mask,
      native.atom_positions, native.atom_mask, native.chain_index + 1,
      _MAX_CHAINS)
  assert int(whole['num_interfaces']) == 2
  np.testing.assert_allclose(whole['dockq'], total / 2, atol=1e-4)
  pair_names = [''.join(CHAINS[int(c) - 1] for c in pair)
                for pair in whole['pair_chains'] if np.all(np.isfinite(pair))]
  assert pair_names == ['AB', 'AC', 'BC']
  for p, pair in enumerate(pair_names):
    ours = {k: float(v[p]) for k, v in whole['pairs'].items()}
    if pair not in reference:
      assert ours['num_native_contacts'] == 0
      continue
    expected = reference[pair]
    assert ours['num_native_contacts'] == expected['nat_total'], pair
    np.testing.assert_allclose(ours['fnat'], expected['fnat'], atol=1e-6)
    np.testing.assert_allclose(ours['irmsd'], expected['iRMSD'], atol=2e-3)
    np.testing.assert_allclose(ours['lrmsd'], expected['LRMSD'], atol=2e-3)
    np.testing.assert_allclose(ours['dockq'], expected['DockQ'], atol=1e-4)


def test_dockq_of_the_truth_is_one_and_falls_as_the_ligand_moves(native):
  mask = native.atom_mask
  peptide = native.chain_index == 2

  def shifted(distance):
    """Scores of the heavy chain-peptide interface (the second pair)."""
    moved = native.atom_positions + np.where(peptide[:, None, None],
                                             [distance, 0., 0.], 0.)
    scores = _complex_dockq(moved, mask, native.atom_positions, mask,
                            native.chain_index + 1, _MAX_CHAINS)
    assert list(scores['pair_chains'][1]) == [1., 3.]
    return {k: float(v[1]) for k, v in scores['pairs'].items()}

  exact, near, far = shifted(0.), shifted(4.), shifted(20.)
  np.testing.assert_allclose(exact['dockq'], 1., atol=1e-5)
  # The peptide is the ligand (fewer residues): LRMSD is its shift.
  np.testing.assert_allclose(near['lrmsd'], 4., atol=1e-3)
  np.testing.assert_allclose(far['lrmsd'], 20., atol=1e-3)
  assert far['fnat'] == 0. < near['fnat'] < 1.
  assert far['dockq'] < near['dockq'] < 1.


def test_interface_lddt_scores_inter_chain_pairs_only(native):
  ca = native.atom_positions[:, _CA].astype(np.float32)
  ca_mask = native.atom_mask[:, _CA].astype(np.float32)
  asym_id = native.chain_index
  interface_lddt = jax.jit(complex_metrics.interface_lddt_ca)
  np.testing.assert_allclose(interface_lddt(ca, ca, ca_mask, asym_id), 1.,
                             atol=1e-6)
  # The peptide moved as a whole: every chain's own fold is exact, so the
  # plain lDDT-Cα (all pairs, mostly intra-chain) stays higher than the
  # interface's, which is the definition written out.
  moved = ca + np.where(asym_id[:, None] == 2, [6., 0., 0.], 0.).astype(
      np.float32)
  moved_score = float(interface_lddt(moved, ca, ca_mask, asym_id))
  plain = float(lddt(moved[None], ca[None], ca_mask[None, :, None])[0])
  np.testing.assert_allclose(moved_score, _brute_force_interface_lddt(
      moved, ca, ca_mask, asym_id), atol=1e-5)
  assert moved_score < 0.9 < plain
  rng = np.random.default_rng(0)
  noisy = ca + rng.normal(0., 1., ca.shape).astype(np.float32)
  np.testing.assert_allclose(
      interface_lddt(noisy, ca, ca_mask, asym_id),
      _brute_force_interface_lddt(noisy, ca, ca_mask, asym_id), atol=1e-5)
  # A single chain has no interface.
  assert float(complex_metrics.has_interface(ca, ca_mask, asym_id)) == 1.
  assert float(complex_metrics.has_interface(
      ca, ca_mask, np.zeros_like(asym_id))) == 0.


def _brute_force_interface_lddt(pred, true, mask, asym_id):
  d_true = np.linalg.norm(true[:, None] - true[None], axis=-1)
  d_pred = np.linalg.norm(pred[:, None] - pred[None], axis=-1)
  scored = ((asym_id[:, None] != asym_id[None]) & (mask[:, None] > 0) &
            (mask[None] > 0) & (d_true < 15.))
  err = np.abs(d_pred - d_true)[scored]
  return np.mean([np.mean(err < t) for t in (0.5, 1., 2., 4.)])
