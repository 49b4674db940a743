"""MSA and template crops, padding and merging of a complex's chains
(alphafold_jax/data/multimer/merging.py)."""
import numpy as np

from alphafold_jax.data.multimer import merging

GAP = merging.pairing.MSA_GAP_IDX


def _chain(num_seq, num_all_seq, num_templates, num_res=3, gapped_pairs=0):
  msa_all_seq = np.ones((num_all_seq, num_res), np.int32)
  msa_all_seq[1:1 + gapped_pairs] = GAP
  return {
      'msa': np.arange(num_seq * num_res, dtype=np.int32).reshape(num_seq, -1),
      'deletion_matrix': np.zeros((num_seq, num_res), np.float32),
      'num_alignments': np.asarray(num_seq, np.int32),
      'msa_all_seq': msa_all_seq,
      'deletion_matrix_all_seq': np.zeros((num_all_seq, num_res), np.float32),
      'num_alignments_all_seq': np.asarray(num_all_seq),
      'template_aatype': np.zeros((num_templates, num_res), np.int32),
      'template_all_atom_mask': np.ones((num_templates, num_res, 37)),
      'template_sum_probs': np.ones((num_templates, 1)),
  }


def test_paired_rows_take_at_most_half_the_budget_and_count_against_it():
  # 8 paired rows (rows 1-2 all gaps) and 20 unpaired rows, budget 10:
  # 5 paired rows kept, of which 3 non-gapped, leaving 7 unpaired rows.
  cropped = merging.crop_chain(_chain(20, 8, 6, gapped_pairs=2),
                               pair_msa_sequences=True, msa_crop_size=10)
  assert cropped['msa_all_seq'].shape[0] == 5
  assert cropped['deletion_matrix_all_seq'].shape[0] == 5
  assert cropped['num_alignments_all_seq'] == 5
  assert cropped['msa'].shape[0] == cropped['deletion_matrix'].shape[0] == 7
  assert cropped['num_alignments'] == 7
  assert cropped['num_alignments'].dtype == np.int32
  assert cropped['template_aatype'].shape[0] == 4
  assert cropped['template_all_atom_mask'].shape[0] == 4
  assert cropped['num_templates'] == 4
  # Only the model's template features are cropped.
  assert cropped['template_sum_probs'].shape[0] == 6


def test_without_pairing_the_whole_budget_is_unpaired():
  cropped = merging.crop_chain(_chain(20, 8, 2), pair_msa_sequences=False,
                               msa_crop_size=10)
  assert cropped['msa'].shape[0] == 10
  assert cropped['num_templates'] == 2
  assert cropped['template_aatype'].shape[0] == 2


def test_pad_templates_adds_zero_templates():
  padded = merging.pad_templates(_chain(2, 2, 1), max_templates=4)
  assert padded['template_all_atom_mask'].shape == (4, 3, 37)
  np.testing.assert_array_equal(padded['template_all_atom_mask'][1:], 0)
  np.testing.assert_array_equal(padded['template_all_atom_mask'][0], 1)


def test_block_diag_places_blocks_on_the_diagonal():
  out = merging.block_diag([np.ones((2, 1), np.int32),
                            2 * np.ones((1, 3), np.int32)], pad_value=GAP)
  assert out.dtype == np.int32
  np.testing.assert_array_equal(out, [[1, GAP, GAP, GAP],
                                      [1, GAP, GAP, GAP],
                                      [GAP, 2, 2, 2]])


def test_pad_msa_pads_only_short_msas():
  example = {'msa': np.ones((3, 2), np.int32),
             'deletion_matrix': np.ones((3, 2), np.float32),
             'bert_mask': np.ones((3, 2), np.float32),
             'msa_mask': np.ones((3, 2), np.float32),
             'cluster_bias_mask': np.ones((3,))}
  padded = merging.pad_msa(example, min_num_seq=5)
  for key in ('msa', 'deletion_matrix', 'bert_mask', 'msa_mask'):
    np.testing.assert_array_equal(padded[key], [[1, 1]] * 3 + [[0, 0]] * 2)
  np.testing.assert_array_equal(padded['cluster_bias_mask'], [1, 1, 1, 0, 0])
  unchanged = merging.pad_msa(example, min_num_seq=2)
  np.testing.assert_array_equal(unchanged['msa'], example['msa'])
