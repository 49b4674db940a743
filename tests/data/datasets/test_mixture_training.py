"""Two training steps of the tiny preset on the 75/25 mixture of the
self-distillation and PDB sets, with the stream's position saved in the
checkpoint (issue 4, "Must show")."""
import glob
import json
import pathlib

import numpy as np

from alphafold_jax.data.datasets import loader
from alphafold_jax.data.datasets import sources
from alphafold_jax.training import trainer

NUM_STEPS = 2
SEED = 0


def _json_or_none(path):
  """The JSON in a file, None for orbax's other (non-JSON) files."""
  try:
    return json.loads(pathlib.Path(path).read_text())
  except (ValueError, UnicodeDecodeError):
    return None


def test_two_training_steps_on_the_mixture(distillation_data_dir,
                                           pdb_data_dir, tiny_config,
                                           tmp_path):
  stream_sources = loader.StreamSources(
      pdb=sources.open_dataset(pdb_data_dir, sources.PDB_DATASET),
      distillation=sources.open_dataset(distillation_data_dir,
                                        sources.DISTILLATION_DATASET),
      pdb_weights=sources.read_sampling_weights(pdb_data_dir,
                                                sources.PDB_DATASET),
      distillation_weights=sources.read_sampling_weights(
          distillation_data_dir, sources.DISTILLATION_DATASET))
  config = tiny_config.copy_and_resolve_references()
  config.train.num_steps = NUM_STEPS
  stream = loader.TrainingStream(stream_sources, config,
                                 config.train.batch_size, seed=SEED,
                                 process_index=0, process_count=1)
  assert stream.draw.distillation_fraction == loader.DISTILLATION_FRACTION
  drawn = [stream.draw(j)[0] for j in range(NUM_STEPS *
                                            config.train.batch_size)]

  state = trainer.train(config, str(tmp_path), data=stream,
                        progress_bar=False)

  assert int(state.step) == NUM_STEPS
  assert stream.get_state() == {'next_index': NUM_STEPS}
  # The stream's position is saved in the checkpoint beside the state.
  data_files = glob.glob(str(tmp_path / 'checkpoints' / str(NUM_STEPS) /
                             'data' / '*'))
  assert {'next_index': NUM_STEPS} in [_json_or_none(p) for p in data_files]
  with open(tmp_path / 'metrics.jsonl') as f:
    losses = [json.loads(line)['loss'] for line in f
              if '"loss"' in line]
  assert len(losses) == NUM_STEPS and np.all(np.isfinite(losses))
  # Both sets took part in those steps (seed 0).
  assert set(drawn) == {'pdb', 'distillation'}
