"""AlphaFold-Multimer recycling: the early stop of v2.3."""
import json
import pathlib

import haiku as hk
import jax
import ml_collections
import numpy as np

from alphafold_jax.model import AlphaFoldMultimer
from alphafold_jax.model.params import flat_to_haiku

GOLDEN = pathlib.Path(__file__).parents[1] / 'fixtures' / 'golden' / 'multimer_small'


def test_recycling_stops_once_the_structure_settles():
  cfg = ml_collections.ConfigDict(json.loads((GOLDEN / 'config.json').read_text()))
  cfg.model.num_recycle = 4
  # Any movement of the Cα distances counts as settled: one recycle runs
  # (the first always does), not four.
  cfg.model.recycle_early_stop_tolerance = 1e9
  with np.load(GOLDEN / 'example.npz') as example, \
       np.load(GOLDEN / 'params.npz') as params:
    batch = {k: example[k] for k in example.files}
    params = flat_to_haiku({k: params[k] for k in params.files})
  forward = hk.transform(lambda b: AlphaFoldMultimer(cfg.model)(b, is_training=False))
  out = jax.jit(forward.apply)(params, jax.random.PRNGKey(1), batch)
  assert int(out['num_recycles']) == 1
  assert 'representations' not in out
  assert np.isfinite(np.asarray(out['structure_module']['final_atom_positions'])).all()
