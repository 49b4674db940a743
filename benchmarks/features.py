"""Feature-processing time: N_res = 500 with a 10,000-sequence MSA.

Times `process_features` in inference ('eval') and training ('train') modes
with the full-size data config of a model preset (model_1_ptm: 512 MSA
clusters, 5,120 extra sequences, 4 templates, 3 recycles), on synthetic
raw features (homologues made by mutating the query), and prints one JSON
line per mode: the first call's seconds, the median and the least wall-clock
seconds of the timed calls, and their least CPU seconds (all threads; a
steadier figure on a shared machine):

  python -m benchmarks.features --repeats 3

`--save_raw` and `--save_eval_batch` write the raw features and the
deterministic part of the eval batch to .npz files, for
benchmarks/reference_features.py to time the reference's pipeline on the same
input and to compare the two batches.
"""
import json

from absl import app
from absl import flags
import numpy as np

from alphafold_jax.common import residue_constants
from alphafold_jax.data import features as features_lib
from alphafold_jax.model import config as config_lib
from benchmarks.timing import time_calls

flags.DEFINE_integer('num_res', 500, 'Residues of the query.')
flags.DEFINE_integer('num_seq', 10000, 'Sequences in the MSA (query included).')
flags.DEFINE_integer('num_templates', 4, 'Templates in the raw features.')
flags.DEFINE_integer('repeats', 3, 'Timed calls per mode (after one warm-up).')
flags.DEFINE_string('preset', 'model_1_ptm', 'Model preset of the config.')
flags.DEFINE_integer('seed', 0, 'Seed of the synthetic data.')
flags.DEFINE_bool('structure', True,
                  'Gives the raw features a structure, from which both modes '
                  'make the supervised features (the reference\'s inference '
                  'pipeline never does: --nostructure to compare with it).')
flags.DEFINE_string('save_raw', None, 'Writes the raw features to this .npz.')
flags.DEFINE_string('save_eval_batch', None,
                    'Writes the eval batch\'s deterministic features, and the '
                    'shapes of all its features, to this .npz.')
FLAGS = flags.FLAGS

# Synthetic homologues: per-residue substitution, gap and insertion rates.
_SUBSTITUTION_RATE = 0.3
_GAP_RATE = 0.1
_INSERTION_RATE = 0.05
_GAP = 21  # HHblits code of '-'.
# Features of the eval batch that no random choice touches (with more
# sequences than clusters every cluster row is real, so the MSA masks too).
DETERMINISTIC_FEATURES = (
    'aatype', 'target_feat', 'residue_index', 'seq_length', 'seq_mask',
    'msa_mask', 'msa_row_mask', 'extra_msa_mask', 'extra_msa_row_mask',
    'atom14_atom_exists', 'atom37_atom_exists', 'residx_atom14_to_atom37',
    'residx_atom37_to_atom14', 'template_aatype', 'template_mask',
    'template_all_atom_masks', 'template_all_atom_positions',
    'template_pseudo_beta', 'template_pseudo_beta_mask', 'template_sum_probs')


def synthetic_raw_features(num_res: int, num_seq: int, num_templates: int,
                           rng: np.random.Generator):
  """Raw features shaped as the data pipeline's, with a structure."""
  query = rng.integers(0, residue_constants.restype_num, num_res)
  msa = np.tile(query, (num_seq, 1))
  substituted = rng.random(msa.shape) < _SUBSTITUTION_RATE
  msa = np.where(substituted, rng.integers(0, 20, msa.shape), msa)
  msa = np.where(rng.random(msa.shape) < _GAP_RATE, _GAP, msa)
  msa[0] = query
  deletions = np.where(rng.random(msa.shape) < _INSERTION_RATE,
                       rng.integers(1, 20, msa.shape), 0)
  deletions[0] = 0
  # The query codes double as our residue order for the one-hot aatype.
  positions = rng.normal(scale=10., size=(num_res, 37, 3))
  atom_mask = residue_constants.restype_atom37_mask[query]
  template_letters = rng.integers(0, 22, (num_templates, num_res))
  return {
      'aatype': np.eye(21, dtype=np.int32)[query],
      'between_segment_residues': np.zeros(num_res, np.int32),
      'residue_index': np.arange(num_res, dtype=np.int32),
      'seq_length': np.full(num_res, num_res, np.int32),
      'msa': msa.astype(np.int32),
      'deletion_matrix_int': deletions.astype(np.int32),
      'num_alignments': np.full(num_res, num_seq, np.int32),
      'template_aatype': np.eye(22, dtype=np.float32)[template_letters],
      'template_all_atom_positions': rng.normal(
          scale=10., size=(num_templates, num_res, 37, 3)).astype(np.float32),
      'template_all_atom_masks': np.tile(atom_mask, (num_templates, 1, 1)
                                         ).astype(np.float32),
      'template_sum_probs': rng.random((num_templates, 1)).astype(np.float32),
      'all_atom_positions': (positions * atom_mask[..., None]).astype(
          np.float32),
      'all_atom_mask': atom_mask.astype(np.float32),
      'resolution': np.float32(2.),
  }


def main(argv):
  del argv
  rng = np.random.default_rng(FLAGS.seed)
  raw = synthetic_raw_features(FLAGS.num_res, FLAGS.num_seq,
                               FLAGS.num_templates, rng)
  if not FLAGS.structure:
    for key in ('all_atom_positions', 'all_atom_mask', 'resolution'):
      del raw[key]
  if FLAGS.save_raw:
    np.savez(FLAGS.save_raw, **raw)
  config = config_lib.model_config(FLAGS.preset)
  for mode in ('eval', 'train'):
    batch, timing = time_calls(
        lambda seed, mode=mode: features_lib.process_features(
            raw, config, mode=mode, random_seed=seed), FLAGS.repeats)
    print(json.dumps({
        'benchmark': 'process_features', 'mode': mode,
        'preset': FLAGS.preset, 'structure': FLAGS.structure,
        'num_res': FLAGS.num_res, 'num_seq': FLAGS.num_seq,
        'num_templates': FLAGS.num_templates,
        'batch_size': int(batch['aatype'].shape[0]),
        'msa_feat_shape': list(batch['msa_feat'].shape),
        **timing}), flush=True)
    if mode == 'eval' and FLAGS.save_eval_batch:
      np.savez(FLAGS.save_eval_batch,
               shapes=json.dumps({k: v.shape for k, v in batch.items()}),
               **{k: batch[k] for k in DETERMINISTIC_FEATURES if k in batch})


if __name__ == '__main__':
  app.run(main)
