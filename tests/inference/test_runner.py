"""ModelRunner: bucketed padding equals the unpadded run; embeddings hold
the real residues only; compiled programs are shared by equal configs."""
import jax
import numpy as np
import pytest

from alphafold_jax.inference import models
from alphafold_jax.inference import padding
from alphafold_jax.inference import runner as runner_lib
from alphafold_jax.model import load_params
from tests.inference.conftest import raw_features_from_a3m

# A length whose bucket is larger, so the padded run really pads.
NUM_RES = 40
SEED = 0
# Float32 rounding differs between program shapes (summation order).
POSITION_ATOL = 1e-3
LOGIT_ATOL = 1e-3


@pytest.fixture(scope='module')
def runs(tiny_config, tiny_params_path):
  config = runner_lib.configure(tiny_config)
  params = load_params(tiny_params_path, config=config)
  bucketed = runner_lib.ModelRunner(config, params, use_buckets=True,
                                    return_representations=True)
  exact = runner_lib.ModelRunner(config, params, use_buckets=False)
  batch = bucketed.process_features(raw_features_from_a3m(NUM_RES), SEED)
  return {'bucketed': bucketed.predict(batch, SEED),
          'exact': exact.predict(batch, SEED),
          'padded_size': bucketed.padded_size(NUM_RES)}


def test_bucket_sizes():
  assert padding.bucket_size(1) == padding.RESIDUE_BUCKETS[0]
  assert padding.bucket_size(NUM_RES) == 64
  assert padding.bucket_size(64) == 64
  last = padding.RESIDUE_BUCKETS[-1]
  assert padding.bucket_size(last + 1) % padding.LARGE_BUCKET_STEP == 0
  assert padding.bucket_size(last + 1) > last


def test_padding_gives_the_unpadded_structure(runs):
  assert runs['padded_size'] > NUM_RES
  bucketed, exact = runs['bucketed'], runs['exact']
  for key in ('final_atom_positions', 'final_atom_mask'):
    assert bucketed['structure_module'][key].shape[0] == NUM_RES
    np.testing.assert_allclose(bucketed['structure_module'][key],
                               exact['structure_module'][key],
                               atol=POSITION_ATOL)
  np.testing.assert_allclose(bucketed['plddt'], exact['plddt'],
                             atol=LOGIT_ATOL)
  np.testing.assert_allclose(bucketed['predicted_aligned_error'],
                             exact['predicted_aligned_error'],
                             atol=LOGIT_ATOL)
  np.testing.assert_allclose(bucketed['distogram']['logits'],
                             exact['distogram']['logits'], atol=LOGIT_ATOL)
  assert int(bucketed['num_recycles']) == int(exact['num_recycles'])
  # Representations only when asked for.
  assert 'representations' in bucketed and 'representations' not in exact


def test_outputs_hold_real_residues_only(runs, tiny_config):
  out = runs['bucketed']
  evo = tiny_config.model.embeddings_and_evoformer
  reps = out['representations']
  assert reps['single'].shape == (NUM_RES, evo.seq_channel)
  assert reps['pair'].shape == (NUM_RES, NUM_RES, evo.pair_channel)
  assert out['plddt'].shape == (NUM_RES,)
  assert out['predicted_aligned_error'].shape == (NUM_RES, NUM_RES)
  assert out['masked_msa']['logits'].shape[1] == NUM_RES
  assert 0. < float(out['ptm']) <= 1.
  assert np.all((out['plddt'] >= 0) & (out['plddt'] <= 100))


def test_equal_configs_share_compiled_code(tiny_config):
  a = runner_lib.configure(tiny_config)
  b = runner_lib.configure(tiny_config)
  c = runner_lib.configure(tiny_config, num_recycle=0)
  jitted = lambda config, reps=False: runner_lib._jitted_apply(config.model,
                                                               reps)
  assert jitted(a) is jitted(b)
  assert jitted(a) is not jitted(c)
  assert jitted(a) is not jitted(a, reps=True)


def test_programs_are_compiled_once_per_signature(monkeypatch):
  """run_compiled compiles ahead of the call, once for each argument
  signature, and releases the host memory the compiler freed after each
  compilation."""
  releases = []
  monkeypatch.setattr(runner_lib, 'release_freed_host_memory',
                      lambda: releases.append(1))
  monkeypatch.setattr(runner_lib, '_COMPILED_CACHE', {})
  double = jax.jit(lambda x: {'y': x * 2})
  for x in (np.ones(3, np.float32), np.arange(3, dtype=np.float32),
            np.ones(4, np.float32), np.ones(3, np.int32)):
    out = runner_lib.run_compiled(double, x)
    np.testing.assert_array_equal(out['y'], x * 2)
  # Shapes (3,), (4,) in float32 and (3,) in int32: three programs.
  assert len(runner_lib._COMPILED_CACHE) == 3
  assert len(releases) == 3


def _resident_mb() -> float:
  with open('/proc/self/status') as status:
    for line in status:
      if line.startswith('VmRSS:'):
        return int(line.split()[1]) / 1024
  raise AssertionError('no VmRSS in /proc/self/status')


def test_freed_heap_memory_goes_back_to_the_os():
  """Freed blocks below a live one stay resident until trimmed (glibc)."""
  blocks = [bytes(bytearray(2000)) for _ in range(100_000)]  # ~200 MB
  keep = bytes(bytearray(2000))  # above them in the heap
  del blocks
  before = _resident_mb()
  assert runner_lib.release_freed_host_memory()
  assert before - _resident_mb() > 100
  del keep


def test_bfloat16_runner(runs, tiny_config, tiny_params_path):
  """configure(bfloat16=True): a bfloat16 trunk; float32 outputs and
  confidence metrics near the float32 run's (unpadded, as that run is)."""
  config = runner_lib.configure(tiny_config, bfloat16=True)
  assert config.model.global_config.bfloat16
  assert not tiny_config.model.global_config.get('bfloat16', False)
  params = load_params(tiny_params_path, config=config)
  runner = runner_lib.ModelRunner(config, params, use_buckets=False)
  out = runner.predict(
      runner.process_features(raw_features_from_a3m(NUM_RES), SEED), SEED)
  exact = runs['exact']
  assert out['distogram']['logits'].dtype == np.float32
  assert out['distogram']['logits'].shape == (NUM_RES, NUM_RES, 64)
  # bfloat16 keeps 8 bits of mantissa: on average within 0.1 pLDDT (of
  # 0-100) and 0.25 Å of PAE (measured 0.007 and 0.06), pTM within 0.01.
  for key, bound in (('plddt', 0.1), ('predicted_aligned_error', 0.25)):
    assert out[key].dtype == np.float32
    assert np.mean(np.abs(out[key] - exact[key])) < bound, key
  assert abs(float(out['ptm']) - float(exact['ptm'])) < 0.01


def test_configure_does_not_touch_its_input(tiny_config):
  before = tiny_config.to_json()
  runner_lib.configure(tiny_config, num_recycle=5,
                       recycle_early_stop_tolerance=0.5)
  assert tiny_config.to_json() == before


def test_early_stop_tolerance_stops_recycling(tiny_config, tiny_params_path):
  # Any movement is below an enormous tolerance: one recycle is run, then
  # recycling stops.
  config = runner_lib.configure(tiny_config, num_recycle=3,
                                recycle_early_stop_tolerance=1e6)
  params = load_params(tiny_params_path, config=config)
  runner = runner_lib.ModelRunner(config, params)
  batch = runner.process_features(raw_features_from_a3m(NUM_RES), SEED)
  assert int(runner.predict(batch, SEED)['num_recycles']) == 1


def test_casp14_ensemble_averages_its_members(tiny_config, tiny_params_path):
  """monomer_casp14: each recycling iteration sees num_ensemble (8) MSA
  samples; the trunk's single, pair and first-row MSA outputs are the mean
  of the members' (Suppl. 1.11.2), the MSA representation the first's.
  Without recycling, the outputs are those of one pass over the members."""
  num_ensemble = models.preset_configs(
      'monomer_casp14')['model_1'].data.eval.num_ensemble
  assert num_ensemble == models.CASP14_NUM_ENSEMBLE > 1
  config = runner_lib.configure(tiny_config, num_recycle=0)
  config.data.eval.num_ensemble = num_ensemble
  params = load_params(tiny_params_path, config=config)
  runner = runner_lib.ModelRunner(config, params, use_buckets=False,
                                  return_representations=True)
  batch = runner.process_features(raw_features_from_a3m(NUM_RES), SEED)
  assert batch['msa_feat'].shape[0] == num_ensemble
  ensemble = runner.predict(batch, SEED)['representations']
  members = [runner.predict({k: v[i:i + 1] for k, v in batch.items()},
                            SEED)['representations']
             for i in range(num_ensemble)]
  for key in ('single', 'pair', 'msa_first_row'):
    mean = np.mean([m[key] for m in members], axis=0)
    np.testing.assert_allclose(ensemble[key], mean, atol=1e-5, err_msg=key)
    # The members differ (their MSA samples do), so the mean is no member.
    assert np.max(np.abs(members[0][key] - mean)) > 1e-2, key
  np.testing.assert_allclose(ensemble['msa'], members[0]['msa'], atol=1e-5)


def test_runner_keeps_device_arrays_on_the_cpu(tiny_config, tiny_params_path):
  """On the CPU the parameters are copied once into device arrays (the
  loaded NumPy arrays can go); the same values."""
  config = runner_lib.configure(tiny_config)
  params = load_params(tiny_params_path, config=config)
  runner = runner_lib.ModelRunner(config, params)
  held = jax.tree_util.tree_leaves(runner.params)
  loaded = jax.tree_util.tree_leaves(params)
  assert len(held) == len(loaded) > 0
  for h, l in zip(held, loaded):
    assert isinstance(h, jax.Array) and isinstance(l, np.ndarray)
    np.testing.assert_array_equal(np.asarray(h), l)
