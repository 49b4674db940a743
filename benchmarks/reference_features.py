"""The reference's TensorFlow feature processing, on our benchmark's input.

Runs `alphafold.model.features.np_example_to_features` of the reference
(AlphaFold 2.3 as packaged by `alphafold-colabfold`) with its `model_1`
config (the data config of every monomer preset: 508 MSA clusters after the
4 templates, 5,120 extra sequences, 3 recycles, one ensemble member) on the
raw features that benchmarks/features.py writes, and prints JSON lines in
that benchmark's format. The reference builds and runs a new TensorFlow graph
on every call; the first call also pays TensorFlow's start-up.

The reference has no training mode (its config has only `data.eval`, its
pipeline no crop, MSA block deletion or supervised features), so the 'train'
line says so instead of timing anything.

With `--ours_eval_batch` it also checks that the features no random choice
touches (target_feat, residue_index, seq_mask, the MSA masks, the atom maps,
the templates) are equal in the two eval batches, and that every feature
both have has the same shape: a sanity check, printed as one more JSON line.

It needs its own environment, outside this project's (TensorFlow never
enters ours). Releases 2.3.17 and later of alphafold-colabfold replace
TensorFlow by a NumPy shim, so pin the last TensorFlow one; the reference's
own dependencies (JAX, Haiku, ...) are not needed for its input pipeline:

  python3.11 -m venv /tmp/refvenv
  /tmp/refvenv/bin/pip install --no-deps alphafold-colabfold==2.3.16
  /tmp/refvenv/bin/pip install tensorflow-cpu ml-collections dm-tree absl-py

(measured with Python 3.11, tensorflow-cpu 2.21.0 and NumPy 2.4.6). Then, from the repository root:

  .venv/bin/python -m benchmarks.features --save_raw=/tmp/raw.npz \
      --save_eval_batch=/tmp/ours_eval.npz
  /tmp/refvenv/bin/python benchmarks/reference_features.py \
      --raw=/tmp/raw.npz --ours_eval_batch=/tmp/ours_eval.npz --repeats 3
"""
import json
import os
import pathlib
import sys

os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '2')

# pylint: disable=g-import-not-at-top
from absl import app
from absl import flags
import numpy as np

from alphafold.model import config as config_lib
from alphafold.model import features as features_lib

# Run as a script from the reference's environment: the shared timing helper
# is imported from this repository.
sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))
from benchmarks.timing import time_calls

flags.DEFINE_string('raw', None, 'Raw features from benchmarks/features.py '
                    '--save_raw.', required=True)
flags.DEFINE_string('ours_eval_batch', None, 'Eval batch from '
                    'benchmarks/features.py --save_eval_batch, to compare '
                    'with.')
flags.DEFINE_integer('repeats', 3, 'Timed calls (after the first one).')
flags.DEFINE_string('model_name', 'model_1', 'Reference model config.')
FLAGS = flags.FLAGS

_BENCHMARK = 'reference np_example_to_features'


def compare(ours_path: str, reference: dict) -> dict:
  """Our saved deterministic features against the reference's batch."""
  ours = dict(np.load(ours_path))
  our_shapes = {k: tuple(v) for k, v in json.loads(str(ours.pop('shapes'))
                                                   ).items()}
  equal, different = [], {}
  for key, value in sorted(ours.items()):
    if key not in reference:
      different[key] = 'missing in the reference batch'
    elif value.shape != reference[key].shape:
      different[key] = f'shape {value.shape} vs {reference[key].shape}'
    elif not np.allclose(value, reference[key], rtol=1e-6, atol=1e-6):
      different[key] = 'max |difference| {:.3g}'.format(float(np.max(np.abs(
          value.astype(np.float64) - reference[key].astype(np.float64)))))
    else:
      equal.append(key)
  shape_mismatches = {
      k: [list(our_shapes[k]), list(reference[k].shape)]
      for k in sorted(set(our_shapes) & set(reference))
      if our_shapes[k] != reference[k].shape}
  return {
      'check': 'eval batches agree', 'equal': equal, 'different': different,
      'shape_mismatches': shape_mismatches,
      'num_common_features': len(set(our_shapes) & set(reference)),
      'only_ours': sorted(set(our_shapes) - set(reference)),
      'only_reference': sorted(set(reference) - set(our_shapes)),
  }


def main(argv):
  del argv
  raw = dict(np.load(FLAGS.raw))
  num_res, num_seq = raw['msa'].shape[1], raw['msa'].shape[0]
  # The reference counts templates by their names, which ours does not read.
  raw['template_domain_names'] = np.array(
      [b'template'] * raw['template_aatype'].shape[0], dtype=object)
  config = config_lib.model_config(FLAGS.model_name)
  batch, timing = time_calls(
      lambda seed: features_lib.np_example_to_features(
          raw, config, random_seed=seed), FLAGS.repeats)
  print(json.dumps({
      'benchmark': _BENCHMARK, 'mode': 'eval',
      'preset': FLAGS.model_name, 'num_res': int(num_res),
      'num_seq': int(num_seq),
      'num_templates': int(raw['template_aatype'].shape[0]),
      'batch_size': int(batch['aatype'].shape[0]),
      'msa_feat_shape': list(batch['msa_feat'].shape),
      **timing}), flush=True)
  print(json.dumps({
      'benchmark': _BENCHMARK, 'mode': 'train',
      'skipped': "the reference has no training pipeline (its config has "
                 "only data.eval)"}), flush=True)
  if FLAGS.ours_eval_batch:
    print(json.dumps(compare(FLAGS.ours_eval_batch, batch)), flush=True)


if __name__ == '__main__':
  app.run(main)
