"""process_multimer_features: the golden heteromer of the reference, and a
homomer and an A2B complex built from the golden chains."""
import json

import numpy as np
import pytest

from alphafold_jax.common import residue_constants
from alphafold_jax.data.multimer import process_multimer_features

GAP = residue_constants.restypes_with_x_and_gap.index('-')


@pytest.fixture(scope='module')
def golden(golden_dir):
  folder = golden_dir / 'multimer_small'
  with open(folder / 'chains.json') as f:
    chains = json.load(f)
  raw = {}
  for chain in chains['chains']:
    with np.load(folder / f'chain_{chain["chain_id"]}.npz',
                 allow_pickle=True) as data:
      raw[chain['chain_id']] = dict(data)
  with np.load(folder / 'example.npz') as data:
    example = dict(data)
  return chains, raw, example


def _ours(msa_hhblits):
  return np.take(residue_constants.MAP_HHBLITS_AATYPE_TO_OUR_AATYPE,
                 msa_hhblits, axis=0)


def test_golden_heteromer_every_key_and_dtype(golden):
  chains, raw, expected = golden
  assert not chains['is_homomer']
  example = process_multimer_features(raw)
  assert sorted(example) == sorted(expected)
  for key, value in expected.items():
    assert example[key].dtype == value.dtype, key
    np.testing.assert_array_equal(example[key], value, err_msg=key)


def test_the_inputs_are_not_modified(golden):
  _, raw, _ = golden
  before = {c: {k: np.copy(v) for k, v in f.items()} for c, f in raw.items()}
  process_multimer_features(raw)
  for chain_id, features in before.items():
    assert sorted(raw[chain_id]) == sorted(features)
    for key, value in features.items():
      np.testing.assert_array_equal(raw[chain_id][key], value)


def _without_all_seq(features):
  return {k: v for k, v in features.items() if not k.endswith('_all_seq')}


def test_homomer_copies_share_one_dense_msa(golden):
  _, raw, _ = golden
  chain = _without_all_seq(raw['A'])
  example = process_multimer_features({'A': chain, 'B': chain})
  num_res, num_seq = 44, chain['msa'].shape[0]
  two_copies = np.repeat([1., 2.], num_res)
  np.testing.assert_array_equal(example['asym_id'], two_copies)
  np.testing.assert_array_equal(example['sym_id'], two_copies)
  np.testing.assert_array_equal(example['entity_id'], np.ones(2 * num_res))
  np.testing.assert_array_equal(example['residue_index'],
                                np.tile(np.arange(num_res), 2))
  assert example['seq_length'] == 2 * num_res
  assert example['assembly_num_chains'] == 2
  # Row i of both copies is row i of the chain's MSA: no block diagonal.
  assert example['num_alignments'] == num_seq
  msa = _ours(chain['msa'])
  np.testing.assert_array_equal(example['msa'][:num_seq],
                                np.concatenate([msa, msa], axis=1))
  np.testing.assert_array_equal(example['msa'][num_seq:], 0)
  assert example['msa'].shape == (512, 2 * num_res)
  deletions = chain['deletion_matrix_int'].astype(np.float32)
  np.testing.assert_array_equal(example['deletion_matrix'][:num_seq],
                                np.concatenate([deletions] * 2, axis=1))
  np.testing.assert_array_equal(example['deletion_mean'],
                                np.tile(deletions.mean(0), 2))
  expected_rows = np.arange(512) < num_seq
  np.testing.assert_array_equal(
      example['bert_mask'], np.repeat(expected_rows[:, None], 2 * num_res, 1))
  np.testing.assert_array_equal(example['msa_mask'], example['bert_mask'])
  np.testing.assert_array_equal(example['cluster_bias_mask'],
                                np.arange(512) == 0)
  assert example['num_templates'] == 2
  assert example['template_aatype'].shape == (4, 2 * num_res)
  np.testing.assert_array_equal(example['template_all_atom_mask'][2:], 0)
  np.testing.assert_array_equal(example['template_aatype'][:2, :num_res],
                                example['template_aatype'][:2, num_res:])


def test_homomer_ignores_uniprot_rows(golden):
  _, raw, _ = golden
  with_all_seq = process_multimer_features({'A': raw['A'], 'B': raw['A']})
  without = process_multimer_features({'A': _without_all_seq(raw['A']),
                                       'B': _without_all_seq(raw['A'])})
  for key, value in without.items():
    np.testing.assert_array_equal(with_all_seq[key], value, err_msg=key)


def _paired_row_count(species_a, species_b, b_has_copy=False):
  """1 (queries) + per species: min(n_A, n_B) rows if both chains have it,
  else the rows of a chain that has a copy to pair with."""
  count = 1
  for species in (set(species_a) | set(species_b)) - {b''}:
    n_a = species_a.count(species)
    n_b = species_b.count(species)
    if n_a and n_b:
      count += min(n_a, n_b)
    elif n_a or b_has_copy:
      count += n_a + n_b
  return count


def test_a2b_complex_chain_ids_pairing_and_blocks(golden):
  _, raw, _ = golden
  a, b = raw['A'], raw['B']
  # C is a copy of A: the example orders the chains A, C, B (entity by
  # entity).
  example = process_multimer_features({'A': a, 'B': b, 'C': a})
  n_a, n_b = 44, 9
  np.testing.assert_array_equal(
      example['asym_id'], [1.] * n_a + [2.] * n_a + [3.] * n_b)
  np.testing.assert_array_equal(
      example['entity_id'], [1.] * (2 * n_a) + [2.] * n_b)
  np.testing.assert_array_equal(
      example['sym_id'], [1.] * n_a + [2.] * n_a + [1.] * n_b)
  np.testing.assert_array_equal(
      example['aatype'],
      np.concatenate([np.argmax(x['aatype'], -1) for x in (a, a, b)]))
  assert example['assembly_num_chains'] == 3
  assert example['entity_mask'].dtype == np.int32
  np.testing.assert_array_equal(example['entity_mask'], 1)

  species_a = a['msa_species_identifiers_all_seq'].tolist()
  species_b = b['msa_species_identifiers_all_seq'].tolist()
  num_paired = _paired_row_count(species_a, species_b)
  msa = example['msa']
  paired = msa[:num_paired]
  # The first paired row is the queries; both copies of A pair identically.
  np.testing.assert_array_equal(
      paired[0], np.concatenate([_ours(a['msa_all_seq'][0])] * 2
                                + [_ours(b['msa_all_seq'][0])]))
  np.testing.assert_array_equal(paired[:, :n_a], paired[:, n_a:2 * n_a])
  # Each paired row comes from one species in every chain that has a
  # residue on it; rows pairing all three chains come first.
  rows_a, rows_b = _ours(a['msa_all_seq']), _ours(b['msa_all_seq'])
  b_present = []
  for row in paired[1:]:
    species = {species_a[i] for i in np.flatnonzero(
        (rows_a == row[:n_a]).all(1))}
    assert species and b'' not in species
    gap_b = (row[2 * n_a:] == GAP).all()
    if not gap_b:
      species_of_b = {species_b[i] for i in np.flatnonzero(
          (rows_b == row[2 * n_a:]).all(1))}
      assert species & species_of_b
    b_present.append(not gap_b)
  assert b_present == sorted(b_present, reverse=True)
  assert any(b_present) and not all(b_present)

  # Unpaired rows: A's (twice, side by side) then B's, gaps off the blocks,
  # each without the rows already paired for that chain.
  paired_a = {tuple(r) for r in paired[:, :n_a].tolist()}
  paired_b = {tuple(r) for r in paired[:, 2 * n_a:].tolist()}
  unpaired_a = [r for r in _ours(a['msa']).tolist() if tuple(r) not in paired_a]
  unpaired_b = [r for r in _ours(b['msa']).tolist() if tuple(r) not in paired_b]
  block_a = msa[num_paired:num_paired + len(unpaired_a)]
  block_b = msa[num_paired + len(unpaired_a):
                num_paired + len(unpaired_a) + len(unpaired_b)]
  np.testing.assert_array_equal(block_a[:, :n_a], unpaired_a)
  np.testing.assert_array_equal(block_a[:, n_a:2 * n_a], unpaired_a)
  np.testing.assert_array_equal(block_a[:, 2 * n_a:], GAP)
  np.testing.assert_array_equal(block_b[:, 2 * n_a:], unpaired_b)
  np.testing.assert_array_equal(block_b[:, :2 * n_a], GAP)
  num_rows = num_paired + len(unpaired_a) + len(unpaired_b)
  assert example['num_alignments'] == num_rows
  np.testing.assert_array_equal(msa[num_rows:], 0)
  assert msa.shape == (512, 2 * n_a + n_b)

  bert = example['bert_mask']
  np.testing.assert_array_equal(bert[:num_paired], 1)
  np.testing.assert_array_equal(bert[num_paired:num_rows, :2 * n_a],
                                np.arange(num_rows - num_paired)[:, None]
                                < len(unpaired_a) * np.ones((1, 2 * n_a)))
  np.testing.assert_array_equal(bert[num_paired:num_rows, 2 * n_a:],
                                np.arange(num_rows - num_paired)[:, None]
                                >= len(unpaired_a) * np.ones((1, n_b)))
  np.testing.assert_array_equal(bert[num_rows:], 0)
  np.testing.assert_array_equal(example['cluster_bias_mask'],
                                np.arange(512) == 0)
  np.testing.assert_array_equal(example['msa_mask'][:num_rows], 1)
  assert example['template_aatype'].shape == (4, 2 * n_a + n_b)


def test_chain_order_follows_the_first_appearance_of_each_sequence(golden):
  _, raw, _ = golden
  example = process_multimer_features({'B': raw['B'], 'A': raw['A']})
  np.testing.assert_array_equal(
      example['aatype'], np.concatenate(
          [np.argmax(raw[c]['aatype'], -1) for c in 'BA']))
  np.testing.assert_array_equal(example['entity_id'], [1.] * 9 + [2.] * 44)


def test_at_most_four_templates_per_chain(golden):
  _, raw, _ = golden
  chain = dict(raw['B'])
  for key in ('template_aatype', 'template_all_atom_positions',
              'template_all_atom_masks', 'template_sum_probs',
              'template_domain_names', 'template_sequence'):
    chain[key] = np.concatenate([raw['B'][key]] * 3)  # 6 templates
  chain['template_all_atom_masks'][4:] = 1.
  example = process_multimer_features({'A': raw['A'], 'B': chain})
  assert example['num_templates'] == 2  # the first chain's count
  np.testing.assert_array_equal(example['template_all_atom_mask'][:, 44:],
                                chain['template_all_atom_masks'][:4])


def test_a_heteromer_without_uniprot_features_is_refused(golden):
  _, raw, _ = golden
  with pytest.raises(ValueError, match=r'chain B: .*msa_all_seq'):
    process_multimer_features({'A': raw['A'],
                               'B': _without_all_seq(raw['B'])})


def test_inconsistent_num_alignments_is_refused(golden):
  _, raw, _ = golden
  chain = dict(raw['A'])
  chain['num_alignments'] = chain['num_alignments'] + 1
  with pytest.raises(ValueError, match='chain A: num_alignments'):
    process_multimer_features({'A': chain, 'B': raw['B']})


def test_a2b2_pairs_across_all_four_chains(golden):
  _, raw, _ = golden
  a, b = raw['A'], raw['B']
  example = process_multimer_features({'A': a, 'B': b, 'C': a, 'D': b})
  n_a, n_b = 44, 9
  lengths = [n_a, n_a, n_b, n_b]  # A, C, B, D
  np.testing.assert_array_equal(example['asym_id'],
                                np.repeat([1., 2., 3., 4.], lengths))
  np.testing.assert_array_equal(example['sym_id'],
                                np.repeat([1., 2., 1., 2.], lengths))
  np.testing.assert_array_equal(example['entity_id'],
                                np.repeat([1., 1., 2., 2.], lengths))
  assert example['assembly_num_chains'] == 4
  # Copies pair identically; species of both entities pair all four chains
  # (the same rows as the A-B heteromer), A's other species pair A with C.
  heteromer = process_multimer_features({'A': a, 'B': b})
  num_paired = _paired_row_count(
      a['msa_species_identifiers_all_seq'].tolist(),
      b['msa_species_identifiers_all_seq'].tolist(), b_has_copy=True)
  msa = example['msa'][:num_paired]
  np.testing.assert_array_equal(msa[:, :n_a], msa[:, n_a:2 * n_a])
  np.testing.assert_array_equal(msa[:, 2 * n_a:2 * n_a + n_b],
                                msa[:, 2 * n_a + n_b:])
  both = (msa[:, 2 * n_a:] != GAP).any(1) & (msa[:, :2 * n_a] != GAP).any(1)
  num_both = both.sum()
  assert both[:num_both].all() and num_both < num_paired
  het = heteromer['msa']
  np.testing.assert_array_equal(msa[:num_both, :n_a], het[:num_both, :n_a])
  np.testing.assert_array_equal(msa[:num_both, 2 * n_a:2 * n_a + n_b],
                                het[:num_both, n_a:])
  np.testing.assert_array_equal(example['bert_mask'][:num_paired], 1)
  # The unpaired rows follow: the first one is A's, gap on B's columns.
  np.testing.assert_array_equal(example['bert_mask'][num_paired, 2 * n_a:], 0)


def test_chains_without_templates_get_zero_padded_ones(golden):
  _, raw, _ = golden
  chain = {k: v for k, v in raw['B'].items() if not k.startswith('template_')}
  example = process_multimer_features({'A': raw['A'], 'B': chain})
  assert example['template_aatype'].shape == (4, 53)
  np.testing.assert_array_equal(example['template_all_atom_mask'][:, 44:], 0)
  np.testing.assert_array_equal(example['template_all_atom_positions'][:, 44:],
                                0)
  for key in ('msa', 'asym_id', 'bert_mask', 'deletion_matrix'):
    np.testing.assert_array_equal(example[key], process_multimer_features(
        raw)[key], err_msg=key)


def test_a_single_chain_is_its_own_dense_msa(golden):
  _, raw, _ = golden
  example = process_multimer_features({'A': raw['A']})
  num_seq = raw['A']['msa'].shape[0]
  np.testing.assert_array_equal(example['asym_id'], np.ones(44))
  assert example['num_alignments'] == num_seq
  np.testing.assert_array_equal(example['msa'][:num_seq],
                                _ours(raw['A']['msa']))
  assert example['assembly_num_chains'] == 1
