"""--memory_budget_gb: parsed into bytes, and the chunk it gives reaches the
configs the models are built from."""
import pytest

from alphafold_jax.inference import inputs
from alphafold_jax.inference import memory_budget
from alphafold_jax.inference import padding
from alphafold_jax.model import memory_budget as model_memory
from alphafold_jax.model import model_config

GIB = 2**30


def test_budget_from_the_flag():
  assert memory_budget.budget_bytes(1.5) == 1.5 * GIB
  for bad in (0., -2.):
    with pytest.raises(inputs.InputError, match='--memory_budget_gb'):
      memory_budget.budget_bytes(bad)


def test_no_flag_on_the_cpu_keeps_the_configs():
  # The tests run on the CPU backend.
  assert memory_budget.budget_bytes(None) is None
  configs = {'model_1_ptm': model_config('model_1_ptm')}
  assert memory_budget.apply_chunk_size(configs, 300, None, 'x') is configs
  assert configs['model_1_ptm'].model.global_config.subbatch_size == 4


def test_chosen_chunk_reaches_copies_of_the_configs():
  configs = {name: model_config(name) for name in ('model_1_ptm', 'model_2_ptm')}
  budget = 3 * GIB
  chosen = memory_budget.apply_chunk_size(configs, 300, budget, 'x.fasta')
  bucket = padding.bucket_size(300)
  for name, config in chosen.items():
    expected = model_memory.choose_chunk_size(configs[name], bucket, budget)
    assert expected not in (None, 4)
    assert config.model.global_config.subbatch_size == expected
    assert configs[name].model.global_config.subbatch_size == 4
  # A budget that holds everything: no chunking.
  roomy = memory_budget.apply_chunk_size(configs, 300, 1000 * GIB, 'x.fasta')
  assert all(c.model.global_config.subbatch_size is None
             for c in roomy.values())


def test_budget_too_small_names_the_target():
  configs = {'model_1_ptm': model_config('model_1_ptm')}
  with pytest.raises(inputs.InputError, match='x.fasta: .* even with chunk'):
    memory_budget.apply_chunk_size(configs, 2000, 0.5 * GIB, 'x.fasta')


def test_multimer_configs_take_a_chunk_too():
  configs = {'model_1_multimer_v3': model_config('model_1_multimer_v3')}
  chosen = memory_budget.apply_chunk_size(configs, 500, 4 * GIB, 'x.fasta')
  chunk = chosen['model_1_multimer_v3'].model.global_config.subbatch_size
  assert chunk == model_memory.choose_chunk_size(
      configs['model_1_multimer_v3'], padding.bucket_size(500), 4 * GIB)
  assert chunk not in (None, 4)
