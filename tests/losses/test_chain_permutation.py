"""Multi-chain permutation alignment: swapping identical chains of the truth
changes no loss once the truth is aligned to the prediction."""
import jax
import numpy as np
import pytest

from alphafold_jax.losses import chain_permutation
from alphafold_jax.losses.total_multimer import multimer_total_loss
from tests.losses.multimer_batch import complex_ground_truth
from tests.losses.multimer_batch import load_example
from tests.losses.multimer_batch import training_config
from tests.losses.multimer_value import rotation
from tests.losses.multimer_value import value_from_truth


def _homomer():
  """The fixture's complex with a second copy of its peptide (chain 3, the
  same entity as chain 2) placed beside the first: A + 2 B."""
  ex = load_example()
  b = ex['asym_id'] == 2
  rot, shift = rotation([0., 0., 1.], 2.), np.array([12., 8., -5.])
  centre = ex['all_atom_positions'][b][:, 1].mean(0)
  copy = ((ex['all_atom_positions'][b] - centre) @ rot.T + centre + shift)
  copy = copy * ex['all_atom_mask'][b][..., None]
  cat = lambda x, y: np.concatenate([x, y])
  batch = {
      'aatype': cat(ex['aatype'], ex['aatype'][b]),
      'residue_index': cat(ex['residue_index'], ex['residue_index'][b]),
      'asym_id': cat(ex['asym_id'], np.full(b.sum(), 3.)),
      'entity_id': cat(ex['entity_id'], ex['entity_id'][b]),
      'sym_id': cat(ex['sym_id'], np.full(b.sum(), 2.)),
      'seq_mask': np.ones(b.size + b.sum(), np.float32),
      'resolution': np.float64(2.5),
  }
  positions = cat(ex['all_atom_positions'], copy)
  mask = cat(ex['all_atom_mask'], ex['all_atom_mask'][b])
  batch.update(complex_ground_truth(batch['aatype'], positions, mask,
                                    batch['asym_id']))
  rng = np.random.default_rng(0)
  batch['true_msa'] = rng.integers(0, 22, (4, batch['aatype'].size))
  batch['bert_mask'] = np.ones((4, batch['aatype'].size))
  return {k: (np.asarray(v, np.float64) if np.issubdtype(
      np.asarray(v).dtype, np.floating) else v) for k, v in batch.items()}


def _swap_chains(batch, a, b):
  """The truth features of chains a and b (equal lengths) exchanged."""
  index = np.arange(batch['asym_id'].size)
  ia = np.flatnonzero(batch['asym_id'] == a)
  ib = np.flatnonzero(batch['asym_id'] == b)
  index[ia], index[ib] = ib, ia
  return {k: (v[index] if k in chain_permutation.TRUTH_FEATURES else v)
          for k, v in batch.items()}


def _outputs(batch, heads):
  """A prediction near the truth (chain A turned, every atom jittered) with
  random head logits."""
  n = batch['aatype'].size
  value = value_from_truth(batch, {1: (rotation([1., 0., 0.], 0.2),
                                       np.array([1., -2., 0.5]))})
  rng = np.random.default_rng(1)
  for k in ('final_atom14_positions', 'final_atom_positions'):
    value[k] = value[k] + rng.normal(scale=0.5, size=value[k].shape)
  value['sidechains']['atom_pos'] = np.stack(
      [value['final_atom14_positions']] * 2)
  value['traj'] = value['traj'] + np.concatenate(
      [np.zeros(value['traj'].shape[:-1] + (9,)),
       rng.normal(size=value['traj'].shape[:-1] + (3,))], axis=-1)
  value['final_frames'] = value['traj'][-1]
  dist = heads.distogram
  return {
      'structure_module': value,
      'distogram': {'logits': rng.normal(size=(n, n, dist.num_bins)),
                    'bin_edges': np.linspace(dist.first_break,
                                             dist.last_break,
                                             dist.num_bins - 1)},
      'masked_msa': {'logits': rng.normal(size=(4, n, 22))},
      'experimentally_resolved': {'logits': rng.normal(size=(n, 37))},
      'predicted_lddt': {'logits': rng.normal(size=(n, 50))},
      'predicted_aligned_error': {
          'logits': rng.normal(size=(n, n, 64)),
          'breaks': np.linspace(0., 31., 63)},
  }


_COMPILED = {}


def _all_losses(outputs, batch, heads, align):
  if align not in _COMPILED:  # one compilation per setting
    _COMPILED[align] = jax.jit(lambda o, b: multimer_total_loss(
        o, b, heads, align_chains=align))
  total, losses = _COMPILED[align](outputs, batch)
  flat = {'total': float(total)}
  for name, out in losses.items():
    flat[name] = float(out['loss'])
  for k in ('fape', 'intra_chain_fape', 'interface_fape', 'sidechain_fape',
            'chi_loss', 'chain_centre_mass_loss', 'violation_loss'):
    flat['structure_module/' + k] = float(losses['structure_module'][k])
  return flat


def _assert_alignment_undoes_the_swap(outputs, batch, swapped, heads):
  """Every loss is the same for `batch` and `swapped` (its truth copies
  relabelled) with the alignment on, and differs with it off."""
  before = _all_losses(outputs, batch, heads, align=True)
  after = _all_losses(outputs, swapped, heads, align=True)
  for k in before:
    np.testing.assert_allclose(after[k], before[k], rtol=1e-9, err_msg=k)
  # Without the alignment the swapped truth scores differently.
  unaligned = _all_losses(outputs, swapped, heads, align=False)
  assert unaligned['total'] > before['total'] + 0.1
  for k in ('structure_module/interface_fape', 'distogram',
            'structure_module'):
    assert abs(unaligned[k] - before[k]) > 1e-3 * abs(before[k]), k


@pytest.fixture(scope='module')
def case():
  with jax.enable_x64(True):
    batch = _homomer()
    heads = training_config().model.heads
    return batch, heads, _outputs(batch, heads)


def test_swapping_identical_chains_changes_no_loss(case, x64):
  batch, heads, outputs = case
  swapped = _swap_chains(batch, 2, 3)
  _assert_alignment_undoes_the_swap(outputs, batch, swapped, heads)


def test_permutation_finds_the_swap_and_leaves_heteromers_alone(case, x64):
  batch, _, outputs = case
  pred_ca = outputs['structure_module']['final_atom_positions'][:, 1]
  swapped = _swap_chains(batch, 2, 3)
  index = chain_permutation.find_chain_permutation(
      pred_ca, swapped['all_atom_positions'][:, 1],
      swapped['all_atom_mask'][:, 1], batch['asym_id'], batch['entity_id'])
  asym = batch['asym_id']
  np.testing.assert_array_equal(index[asym == 2], np.flatnonzero(asym == 3))
  np.testing.assert_array_equal(index[asym == 3], np.flatnonzero(asym == 2))
  np.testing.assert_array_equal(index[asym == 1], np.flatnonzero(asym == 1))
  # Copies cropped alike: matching by residue_index is matching by position.
  np.testing.assert_array_equal(chain_permutation.find_chain_permutation(
      pred_ca, swapped['all_atom_positions'][:, 1],
      swapped['all_atom_mask'][:, 1], batch['asym_id'], batch['entity_id'],
      batch['residue_index']), index)
  # Every chain its own entity: nothing to permute.
  entity = batch['asym_id']
  index = chain_permutation.find_chain_permutation(
      pred_ca, swapped['all_atom_positions'][:, 1],
      swapped['all_atom_mask'][:, 1], batch['asym_id'], entity)
  np.testing.assert_array_equal(index, np.arange(asym.size))


def test_kabsch_recovers_a_rigid_motion():
  rng = np.random.default_rng(0)
  points = rng.normal(size=(20, 3)) * 5
  rot = rotation([1., 2., -1.], 1.1)
  moved = points @ rot.T + np.array([3., -1., 2.])
  r, t = chain_permutation.kabsch(points, moved, np.ones(20))
  np.testing.assert_allclose(points @ r.T + t, moved, atol=1e-9)


def _helix(num_res):
  """Cα of an α-helix along x (1.5 Å rise, 100° turn per residue):
  elongated, so that centres of different stretches lie far apart."""
  t = np.arange(num_res)
  angle = np.deg2rad(100.) * t
  return np.stack([1.5 * t, 2.3 * np.cos(angle), 2.3 * np.sin(angle)], -1)


def test_copies_cropped_differently_are_matched_by_residue_index(x64):
  # A homodimer of two parallel helices 10 Å apart (X, Y) whose slot 1
  # holds residues 10-59 and slot 2 residues 30-89 of the chain, and a
  # 5-residue chain of another entity. The truth puts copy X in slot 1,
  # the prediction copy Y: the copies are swapped.
  x = _helix(90)
  y = x + np.array([0., 10., 0.])
  ri1, ri2 = np.arange(10, 60), np.arange(30, 90)
  other = np.array([[0., -20., 0.]]) + np.arange(5)[:, None] * [3.8, 0, 0]
  residue_index = np.concatenate([ri1, ri2, np.arange(5)])
  asym_id = np.repeat([1, 2, 3], [50, 60, 5])
  entity_id = np.repeat([1, 1, 2], [50, 60, 5])
  true_ca = np.concatenate([x[ri1], y[ri2], other])
  rng = np.random.default_rng(0)
  pred_ca = (np.concatenate([y[ri1], x[ri2], other]) +
             rng.normal(scale=0.3, size=true_ca.shape))
  pred_ca = pred_ca @ rotation([1., -1., 2.], 0.7).T + [5., 3., -8.]
  index = chain_permutation.find_chain_permutation(
      pred_ca, true_ca, np.ones(115), asym_id, entity_id, residue_index)
  # Slot 1 (10-59) reads slot 2's residues 30-59; 10-29 have no truth.
  # Slot 2 (30-89) reads slot 1's residues 30-59; 60-89 have no truth.
  expected = np.concatenate([
      np.where(ri1 >= 30, 50 + ri1 - 30, -1),
      np.where(ri2 <= 59, ri2 - 10, -1), 110 + np.arange(5)])
  np.testing.assert_array_equal(index, expected)

  # The features follow the index; the masks of residues without truth
  # are 0, and those residues keep their own slot's other features.
  n = 115
  batch = {'asym_id': asym_id, 'entity_id': entity_id,
           'residue_index': residue_index,
           'all_atom_positions': rng.normal(size=(n, 37, 3)),
           'all_atom_mask': np.ones((n, 37)),
           'pseudo_beta_mask': np.ones(n),
           'chi_mask': rng.integers(0, 2, (n, 4)).astype(np.float64),
           'rigidgroups_gt_exists': np.ones((n, 8)),
           'atom14_atom_is_ambiguous': rng.integers(0, 2, (n, 14))}
  batch['all_atom_positions'][:, 1] = true_ca
  aligned = jax.jit(chain_permutation.align_truth_to_prediction)(
      np.zeros((n, 37, 3)) + pred_ca[:, None], batch)
  has = expected >= 0
  read = np.where(has, expected, np.arange(n))
  np.testing.assert_array_equal(aligned['chain_permutation'], expected)
  for k in ('all_atom_positions', 'atom14_atom_is_ambiguous'):
    np.testing.assert_array_equal(aligned[k], batch[k][read], err_msg=k)
  for k in ('all_atom_mask', 'pseudo_beta_mask', 'chi_mask',
            'rigidgroups_gt_exists'):
    want = batch[k][read] * has.reshape((n,) + (1,) * (batch[k].ndim - 1))
    np.testing.assert_array_equal(aligned[k], want, err_msg=k)
  # The residues matched carry the same residue of the same physical copy.
  ca = np.asarray(aligned['all_atom_positions'])[:, 1]
  np.testing.assert_array_equal(ca[:50][ri1 >= 30], y[30:60])
  np.testing.assert_array_equal(ca[50:110][ri2 <= 59], x[30:60])


def _cropped_homomer(swap):
  """_homomer with its peptide copies cropped differently: slot 2 keeps
  residues 0-7 of the peptide, slot 3 residues 3-8, then 4 padding
  residues (the shapes of _homomer, so the compiled losses are reused).
  Both copies are resolved on residues 3-7 only, the residues the two
  crops share, so that either labelling of the copies leaves the same
  residues supervised. swap: slot 2 holds copy 3's truth and slot 3
  copy 2's (each at its slot's residues)."""
  full = _homomer()
  asym = full['asym_id']
  first = np.flatnonzero(asym == 1)
  copy2, copy3 = np.flatnonzero(asym == 2), np.flatnonzero(asym == 3)
  slot2, slot3 = copy2[0:8], copy3[3:9]  # residue rows of the features
  truth2, truth3 = (copy3[0:8], copy2[3:9]) if swap else (slot2, slot3)
  rows = np.concatenate([first, slot2, slot3])
  truth_rows = np.concatenate([first, truth2, truth3])
  batch = {k: full[k][rows] for k in (
      'aatype', 'residue_index', 'asym_id', 'entity_id', 'sym_id',
      'seq_mask')}
  mask = full['all_atom_mask'][truth_rows]
  shared = np.isin(batch['residue_index'], full['residue_index'][copy2[3:8]])
  mask = mask * ~((batch['asym_id'] > 1) & ~shared)[:, None]
  positions = full['all_atom_positions'][truth_rows] * mask[..., None]
  batch.update(complex_ground_truth(batch['aatype'], positions, mask,
                                    batch['asym_id']))
  pad = 4
  batch = {k: np.concatenate([v, np.zeros((pad,) + v.shape[1:], v.dtype)])
           for k, v in batch.items()}
  batch['true_msa'] = np.pad(full['true_msa'][:, rows], ((0, 0), (0, pad)))
  batch['bert_mask'] = np.pad(full['bert_mask'][:, rows], ((0, 0), (0, pad)))
  batch['resolution'] = full['resolution']
  return {k: (np.asarray(v, np.float64) if np.issubdtype(
      np.asarray(v).dtype, np.floating) else v) for k, v in batch.items()}


def test_swapping_differently_cropped_copies_changes_no_loss(case, x64):
  # The copies are matched by residue_index: after alignment both
  # labellings give every loss the same truth, residue by residue.
  _, heads, _ = case
  batch = _cropped_homomer(swap=False)
  swapped = _cropped_homomer(swap=True)
  outputs = _outputs(batch, heads)
  _assert_alignment_undoes_the_swap(outputs, batch, swapped, heads)
