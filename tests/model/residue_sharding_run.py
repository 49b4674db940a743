"""Run by test_residue_sharding.py in a subprocess with 4 host devices: the
golden small model in float64 on one device and with residue sharding over
the 4, at a length the devices divide (96) and one they do not (98).
Prints, as JSON: per length the largest relative output difference, and
XLA's planned temporary bytes of the trunk (embeddings, templates, extra-MSA
stack and Evoformer: the modules whose representations are split) for one
recycling iteration, both ways; and the padded length and config switch of
a ModelRunner given the mesh, and how far its prediction at 98 residues
(padded to 100) is from the one-device run."""
import json
import sys

import haiku as hk
import jax
import numpy as np

from alphafold_jax.data import transforms
from alphafold_jax.inference import runner as runner_lib
from alphafold_jax.model import AlphaFold
from alphafold_jax.model.layers import sharding
from alphafold_jax.model.trunk.embeddings import EmbeddingsAndEvoformer
from tests.model import golden_model
from tests.model import golden_modules

NUM_DEVICES = 4
LENGTHS = (96, 98)


def _batch(num_res, cfg):
  batch = golden_model.load_batch()
  schema = {k: tuple(v) for k, v in cfg.data.eval.feat.items()}
  slices = [{k: v[i] for k, v in batch.items()}
            for i in range(batch['aatype'].shape[0])]
  padded = [transforms.make_fixed_size(s, schema, {transforms.NUM_RES: num_res})
            for s in slices]
  return {k: np.stack([p[k] for p in padded]) for k in padded[0]}


def _trunk_temp_bytes(batch, shard_residues):
  """XLA's planned temporary bytes of the trunk, first recycling iteration."""
  cfg = golden_modules.small_config()
  cfg.model.global_config.shard_residues = shard_residues
  evo = cfg.model.embeddings_and_evoformer
  prefix = 'alphafold/alphafold_iteration/'
  params = {k[len(prefix):]: v for k, v in golden_model.load_params().items()
            if k.startswith(prefix + 'evoformer')}

  def fn(b):
    b = {k: v[0] for k, v in b.items()}
    n = b['aatype'].shape[0]
    b['prev_pos'] = np.zeros((n, 37, 3))
    b['prev_msa_first_row'] = np.zeros((n, evo.msa_channel))
    b['prev_pair'] = np.zeros((n, n, evo.pair_channel))
    return EmbeddingsAndEvoformer(evo, cfg.model.global_config)(
        b, is_training=False)

  lower = lambda: jax.jit(hk.transform(fn).apply).lower(params, None, batch)
  if shard_residues:
    with jax.set_mesh(sharding.residue_mesh()):
      compiled = lower().compile()
  else:
    compiled = lower().compile()
  return int(compiled.memory_analysis().temp_size_in_bytes)


def _run(batch, shard_residues):
  """Flat float64 outputs."""
  cfg = golden_modules.small_config()
  cfg.model.global_config.shard_residues = shard_residues

  def fn(b):
    return AlphaFold(cfg.model)(b, is_training=False,
                                return_representations=True)

  params = golden_model.load_params()
  apply = jax.jit(hk.transform(fn).apply)
  if shard_residues:
    with jax.set_mesh(sharding.residue_mesh()):
      compiled = apply.lower(params, None, batch).compile()
      out = compiled(params, None, batch)
  else:
    compiled = apply.lower(params, None, batch).compile()
    out = compiled(params, None, batch)
  return {k: np.asarray(v) for k, v in golden_model.flatten(out).items()}


def main():
  if jax.device_count() != NUM_DEVICES:
    sys.exit(f'expected {NUM_DEVICES} devices, got {jax.device_count()}')
  jax.config.update('jax_enable_x64', True)
  cfg = golden_modules.small_config()
  report = {'devices': jax.device_count(), 'lengths': {}}
  for num_res in LENGTHS:
    batch = _batch(num_res, cfg)
    one = _run(batch, shard_residues=False)
    last_batch, last_one = batch, one
    split = _run(batch, shard_residues=True)
    assert one.keys() == split.keys()
    report['lengths'][num_res] = {
        'max_relative_difference': max(
            golden_modules.relative_error(split[k], one[k]) for k in one),
        'outputs': len(one),
        'temp_bytes_one_device': _trunk_temp_bytes(batch, False),
        'temp_bytes_sharded': _trunk_temp_bytes(batch, True)}
  runner = runner_lib.ModelRunner(cfg, golden_model.load_params(),
                                  use_buckets=False,
                                  mesh=sharding.residue_mesh())
  # The runner's own path (features split along residues, the program
  # compiled under the mesh) at 98 residues, padded to 100; compared on
  # the protein's own residues (the golden batch's padding, like the
  # runner's, changes only the padded residues' outputs).
  predicted = runner.predict(last_batch, random_seed=0)
  real = int(last_batch['seq_mask'][0].sum())
  report['runner'] = {
      'padded_size_98': runner.padded_size(98),
      'shard_residues': runner.config.model.global_config.shard_residues,
      'relative_difference': {
          key: golden_modules.relative_error(
              predicted[head][name][(slice(real),) * residue_axes],
              last_one[f'{head}/{name}'][(slice(real),) * residue_axes])
          for key, head, name, residue_axes in [
              ('positions', 'structure_module', 'final_atom_positions', 1),
              ('distogram', 'distogram', 'logits', 2)]}}
  print(json.dumps(report))


if __name__ == '__main__':
  main()
