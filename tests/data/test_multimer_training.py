"""A stored complex made a training example: the truth follows the
features' entity-by-entity residue order, through the crop; shapes are
fixed (crop, MSA rows); the same seed gives the same example."""
import numpy as np
import pytest

from alphafold_jax.common import residue_constants
from alphafold_jax.data import templates
from alphafold_jax.data.datasets import complex_records
from alphafold_jax.data.datasets import complexes
from alphafold_jax.data.multimer import training

# Chains A and C are copies (one entity), B another: the example orders
# them A, C, B.
SEQUENCES = {'A': 'ACDEFGHIKLMN', 'B': 'PQRSTVWY', 'C': 'ACDEFGHIKLMN'}
NUM_RES = sum(len(s) for s in SEQUENCES.values())
NUM_MSA_ROWS = 6
MSA_DEPTH = 4


def _chain(chain_id, sequence, rng):
  aatype = np.array([residue_constants.restype_order[r] for r in sequence])
  mask = residue_constants.STANDARD_ATOM_MASK[aatype].astype(np.float32)
  # Chains a few Å apart along x, so that they touch (spatial crops).
  offset = np.array([4. * 'ABC'.index(chain_id), 0., 0.])
  positions = (rng.normal(size=(len(sequence), 37, 3)) * 3 + offset)
  return complexes.ComplexChain(chain_id, f'1abc_{chain_id}', sequence,
                                (positions * mask[..., None]).astype(
                                    np.float32), mask)


def _entity_features(sequence, rng):
  hhblits = [residue_constants.HHBLITS_AA_TO_ID[r] for r in sequence]
  msa = np.array([hhblits] * MSA_DEPTH)
  msa[1:] = rng.integers(0, 20, size=msa[1:].shape)
  return {
      'msa': msa, 'deletion_matrix_int': np.zeros_like(msa),
      'msa_all_seq': msa[:2], 'deletion_matrix_int_all_seq': np.zeros_like(
          msa[:2]),
      'msa_species_identifiers_all_seq': np.array([b'', b'HUMAN'], object),
      **templates.empty_template_features(len(sequence))}


@pytest.fixture(scope='module')
def record():
  rng = np.random.default_rng(0)
  chains = tuple(_chain(c, s, rng) for c, s in SEQUENCES.items())
  complex_ = complexes.ComplexStructure('1abc', chains, 2.0, '2000-01-01',
                                        'x-ray diffraction', '1abc.cif')
  entities = [_entity_features(s, rng)
              for s in complexes.entity_sequences(chains)]
  return complex_records.make_record(complex_, entities,
                                     complexes.interfaces(chains))


def _truth_of(record, chain_id, residue_index):
  truth = complex_records.chain_truth(record)[chain_id]
  return (truth['all_atom_positions'][residue_index],
          truth['all_atom_mask'][residue_index])


@pytest.mark.parametrize('crop_size', [NUM_RES + 4, 16])
def test_truth_follows_the_features_through_the_crop(record, crop_size):
  example = training.make_training_example(record, crop_size, NUM_MSA_ROWS,
                                           np.random.default_rng(1))
  assert example['aatype'].shape == (crop_size,)
  assert example['msa'].shape == (NUM_MSA_ROWS, crop_size)
  assert example['atom14_gt_positions'].shape == (crop_size, 14, 3)
  kept = int(example['seq_mask'].sum())
  assert kept == min(crop_size, NUM_RES)
  assert not example['asym_id'][kept:].any()
  assert not example['all_atom_mask'][kept:].any()
  assert not example['atom14_atom_exists'][kept:].any()
  # asym 1, 2, 3 are A, C (the copy, sym_id 2) and B.
  names = {1: 'A', 2: 'C', 3: 'B'}
  np.testing.assert_array_equal(
      example['sym_id'][:kept],
      [2. if names[a] == 'C' else 1. for a in example['asym_id'][:kept]])
  for i in range(kept):
    chain = names[int(example['asym_id'][i])]
    index = int(example['residue_index'][i])
    assert example['aatype'][i] == residue_constants.restype_order[
        SEQUENCES[chain][index]]
    positions, mask = _truth_of(record, chain, index)
    np.testing.assert_array_equal(example['all_atom_positions'][i],
                                  positions)
    np.testing.assert_array_equal(example['all_atom_mask'][i], mask)
  # The paired query row is always kept, first.
  assert example['cluster_bias_mask'][0] == 1
  np.testing.assert_array_equal(example['msa'][0, :kept],
                                example['aatype'][:kept])


def test_the_seed_fixes_the_example(record):
  def make(seed):
    return training.make_training_example(record, 16, NUM_MSA_ROWS,
                                          np.random.default_rng(seed))
  first, again, other = make(3), make(3), make(4)
  for key in first:
    np.testing.assert_array_equal(first[key], again[key], err_msg=key)
  assert any(not np.array_equal(first[k], other[k])
             for k in ('residue_index', 'asym_id', 'msa'))
