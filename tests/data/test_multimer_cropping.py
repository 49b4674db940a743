"""Multi-chain cropping: contiguous per chain, spatial around an interface,
features and truth cut together, fixed by the seed."""
import numpy as np
import pytest

from alphafold_jax.data.multimer import cropping


@pytest.fixture(scope='module')
def example(golden_dir):
  d = golden_dir / 'multimer_small'
  with np.load(d / 'example.npz') as data:
    batch = {k: data[k] for k in data.files}
  with np.load(d / 'truth.npz') as data:
    batch.update({k: data[k] for k in data.files})
  return batch


def _runs(index):
  """Number of runs of consecutive integers in sorted `index`."""
  return 1 + int(np.sum(np.diff(index) != 1)) if index.size else 0


def test_contiguous_crop_keeps_one_stretch_per_chain_and_fills_the_crop(
    example):
  asym = example['asym_id']
  for seed in range(20):
    index = cropping.contiguous_crop(asym, 20, np.random.default_rng(seed))
    assert index.size == 20
    for chain in (1, 2):
      kept = index[asym[index] == chain]
      assert _runs(kept) <= 1
  # Chain order and lengths vary with the seed.
  crops = {tuple(cropping.contiguous_crop(asym, 20,
                                          np.random.default_rng(s)))
           for s in range(20)}
  assert len(crops) > 5


def test_spatial_crop_keeps_the_residues_nearest_an_interface_residue(
    example):
  ca = example['all_atom_positions'][:, 1]
  mask = example['all_atom_mask'][:, 1]
  asym = example['asym_id']
  interface = cropping.interface_residues(ca, mask, asym)
  assert set(asym[interface]) == {1., 2.}
  index = cropping.spatial_crop(ca, mask, asym, 20,
                                np.random.default_rng(0))
  assert index.size == 20
  # Some kept residue is an interface residue within which all kept ones are
  # nearer than all dropped (resolved) ones.
  dropped = np.setdiff1d(np.flatnonzero(mask > 0), index)
  ok = False
  for anchor in np.intersect1d(index, interface):
    d = np.linalg.norm(ca - ca[anchor], axis=-1)
    if d[index].max() <= d[dropped].min():
      ok = True
  assert ok
  # Both chains are in the crop: it is around an interface.
  assert set(asym[index]) == {1., 2.}


def test_spatial_crop_needs_an_interface(example):
  ca = example['all_atom_positions'][:, 1].copy()
  asym = example['asym_id']
  ca[asym == 2] += 100.
  assert cropping.spatial_crop(ca, example['all_atom_mask'][:, 1], asym, 20,
                               np.random.default_rng(0)) is None


def test_features_and_truth_are_cropped_together(example):
  out = cropping.crop_complex(example, 20, np.random.default_rng(3))
  index = out['crop_index']
  assert out['seq_length'] == 20
  for key in ('aatype', 'asym_id', 'residue_index', 'all_atom_positions',
              'all_atom_mask'):
    np.testing.assert_array_equal(out[key], example[key][index])
  np.testing.assert_array_equal(out['msa'], example['msa'][:, index])
  np.testing.assert_array_equal(out['template_all_atom_positions'],
                                example['template_all_atom_positions'][:, index])
  # Per-sequence features are untouched, and the input is not modified.
  np.testing.assert_array_equal(out['cluster_bias_mask'],
                                example['cluster_bias_mask'])
  assert example['aatype'].shape == (53,)


def test_crop_is_fixed_by_the_seed_and_mixes_both_kinds(example):
  def crop(seed, **kw):
    return cropping.crop_complex(example, 20, np.random.default_rng(seed),
                                 **kw)['crop_index']
  np.testing.assert_array_equal(crop(7), crop(7))
  asym = example['asym_id']
  ca = example['all_atom_positions'][:, 1]
  mask = example['all_atom_mask'][:, 1]
  # prob 1: always the spatial crop; prob 0: always contiguous stretches.
  for seed in range(5):
    rng = np.random.default_rng(seed)
    rng.random()  # the crop kind's draw
    np.testing.assert_array_equal(
        crop(seed, spatial_crop_prob=1.),
        cropping.spatial_crop(ca, mask, asym, 20, rng))
    index = crop(seed, spatial_crop_prob=0.)
    assert all(_runs(index[asym[index] == c]) <= 1 for c in (1, 2))
  spatial = [not np.array_equal(crop(s), crop(s, spatial_crop_prob=0.))
             for s in range(20)]
  assert 3 < sum(spatial) < 17  # about half of them, as the paper mixes


def test_small_complex_is_kept_whole(example):
  out = cropping.crop_complex(example, 64, np.random.default_rng(0))
  np.testing.assert_array_equal(out['crop_index'], np.arange(53))
  np.testing.assert_array_equal(out['msa'], example['msa'])
  with pytest.raises(ValueError, match='crop_size'):
    cropping.crop_complex(example, 0, np.random.default_rng(0))
