"""Pairing UniProt rows of different chains by species (alphafold_jax/data/
multimer/pairing.py), on small hand-built alignments."""
import numpy as np
import pytest

from alphafold_jax.data.multimer import pairing

GAP = pairing.MSA_GAP_IDX


def _chain(rows, species):
  msa = np.asarray(rows, np.int32)
  return {
      'msa_all_seq': msa,
      'deletion_matrix_all_seq': np.arange(msa.size, dtype=np.float32
                                           ).reshape(msa.shape),
      'msa_species_identifiers_all_seq': np.array(species, dtype=object),
      'msa': msa[:1],
  }


# Query [0, 1, 2, 3]; similarity to it = matching positions / 4.
CHAIN_1 = _chain([[0, 1, 2, 3],
                  [0, 1, 9, 9],    # HUMAN 0.5
                  [5, 5, 5, 5],    # MOUSE
                  [0, 1, 2, 9],    # HUMAN 0.75
                  [9, 9, 9, 9]],   # YEAST
                 [b'', b'HUMAN', b'MOUSE', b'HUMAN', b'YEAST'])
CHAIN_2 = _chain([[0, 1, 2, 3],
                  [0, 1, 2, 3],    # YEAST 1.0
                  [4, 4, 4, 4],    # RAT
                  [0, 1, 9, 9],    # YEAST 0.5
                  [7, 7, 7, 7]],   # HUMAN
                 [b'', b'YEAST', b'RAT', b'YEAST', b'HUMAN'])
CHAIN_3 = _chain([[3, 2, 1], [3, 2, 0], [3, 0, 1]],  # HUMAN 2/3, 2/3
                 [b'', b'HUMAN', b'HUMAN'])


def test_two_chains_pair_their_most_similar_rows_of_shared_species():
  paired = pairing.pair_sequences([CHAIN_1, CHAIN_2])
  # HUMAN: chain 1's best row 3 with chain 2's only row 4; YEAST: chain 1's
  # row 4 with chain 2's best row 1. MOUSE and RAT are in one chain only.
  np.testing.assert_array_equal(paired[2], [[0, 0], [3, 4], [4, 1]])
  assert paired[0].shape == paired[1].shape == (0, 2)
  # Ordered by the product of the row indices: 0, 4, 12.
  np.testing.assert_array_equal(pairing.reorder_paired_rows(paired),
                                [[0, 0], [4, 1], [3, 4]])


def test_rows_pairing_more_chains_come_first_and_missing_chains_get_gaps():
  chains = [CHAIN_1, CHAIN_2, CHAIN_3]
  paired = pairing.pair_sequences(chains)
  # Chain 3's HUMAN rows are equally similar: the first in row order wins.
  np.testing.assert_array_equal(paired[3], [[0, 0, 0], [3, 4, 1]])
  np.testing.assert_array_equal(paired[2], [[4, 1, -1]])
  rows = pairing.reorder_paired_rows(paired)
  np.testing.assert_array_equal(rows, [[0, 0, 0], [3, 4, 1], [4, 1, -1]])

  new = pairing.create_paired_features(chains)
  np.testing.assert_array_equal(new[2]['msa_all_seq'],
                                [[3, 2, 1], [3, 2, 0], [GAP, GAP, GAP]])
  np.testing.assert_array_equal(new[2]['deletion_matrix_all_seq'],
                                [[0, 1, 2], [3, 4, 5], [0, 0, 0]])
  np.testing.assert_array_equal(new[2]['msa_species_identifiers_all_seq'],
                                np.array([b'', b'HUMAN', b''], object))
  np.testing.assert_array_equal(new[0]['msa_all_seq'],
                                CHAIN_1['msa_all_seq'][[0, 3, 4]])
  for old, chain in zip(chains, new):
    assert chain['num_alignments_all_seq'] == 3
    np.testing.assert_array_equal(chain['msa'], old['msa'])


def test_species_with_more_than_600_rows_in_a_chain_are_not_paired():
  many = _chain([[0, 1]] + [[1, 1]] * 601 + [[2, 2]],
                [b''] + [b'BIG'] * 601 + [b'SMALL'])
  few = _chain([[0, 0], [1, 0], [2, 0]], [b'', b'BIG', b'SMALL'])
  paired = pairing.pair_sequences([many, few])
  np.testing.assert_array_equal(paired[2], [[0, 0], [602, 2]])


def test_a_single_chain_is_returned_unpaired():
  new = pairing.create_paired_features([CHAIN_1])
  np.testing.assert_array_equal(new[0]['msa_all_seq'], CHAIN_1['msa_all_seq'])
  assert 'num_alignments_all_seq' not in new[0]


def test_species_rows_must_match_the_alignment():
  bad = dict(CHAIN_1, msa_species_identifiers_all_seq=np.array([b''], object))
  with pytest.raises(ValueError, match='msa_species_identifiers_all_seq'):
    pairing.pair_sequences([bad, CHAIN_2])


def test_unpaired_rows_repeating_a_paired_row_are_dropped():
  chain = {
      'msa_all_seq': np.array([[0, 1], [2, 2]], np.int32),
      'msa': np.array([[0, 1], [3, 3], [2, 2], [4, 4]], np.int32),
      'deletion_matrix': np.array([[0, 0], [1, 1], [2, 2], [3, 3]],
                                  np.float32),
      'num_alignments': np.asarray(4, np.int32),
  }
  new, = pairing.deduplicate_unpaired_sequences([chain])
  np.testing.assert_array_equal(new['msa'], [[3, 3], [4, 4]])
  np.testing.assert_array_equal(new['deletion_matrix'], [[1, 1], [3, 3]])
  assert new['num_alignments'] == 2
  assert chain['msa'].shape == (4, 2)  # the input is left as it was
