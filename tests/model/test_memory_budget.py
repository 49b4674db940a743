"""The chunk size for a memory budget: smaller for a smaller budget or a
longer sequence, none when all fits, a clear error when nothing does."""
import pytest

from alphafold_jax.model import memory_budget
from alphafold_jax.model import model_config

GIB = 2**30


def _order(chunk):
  """None (no chunking) is the largest chunk of all."""
  return float('inf') if chunk is None else chunk


@pytest.fixture(scope='module')
def config():
  return model_config('model_1_ptm')


def test_chunk_shrinks_with_the_budget(config):
  chunks = [memory_budget.choose_chunk_size(config, 512, budget * GIB)
            for budget in (1000, 40, 10, 5, 3.5)]
  assert chunks[0] is None
  assert all(_order(a) >= _order(b) for a, b in zip(chunks, chunks[1:]))
  assert chunks[-1] < chunks[1]
  for budget, chunk in zip((40, 10, 5, 3.5), chunks[1:]):
    # The largest power of two that fits: twice it does not.
    assert memory_budget.estimate_peak_bytes(config, 512, chunk) <= budget * GIB
    assert memory_budget.estimate_peak_bytes(config, 512, 2 * chunk) > budget * GIB


def test_chunk_shrinks_with_the_length(config):
  chunks = [memory_budget.choose_chunk_size(config, n, 16 * GIB)
            for n in (128, 512, 1024, 1536)]
  assert chunks[0] is None
  assert all(_order(a) >= _order(b) for a, b in zip(chunks, chunks[1:]))
  assert chunks[-1] < chunks[1]


def test_estimate_grows_with_the_chunk_and_msa_depth(config):
  estimates = [memory_budget.estimate_peak_bytes(config, 256, chunk)
               for chunk in (1, 4, 64, None)]
  assert estimates == sorted(estimates) and estimates[0] < estimates[-1]
  assert (memory_budget.estimate_peak_bytes(config, 256, 4, num_extra_msa=5120)
          > memory_budget.estimate_peak_bytes(config, 256, 4,
                                              num_extra_msa=1024))


def test_msa_depths_follow_the_config(config):
  # model_1 uses templates: the clusters make room for the 4 templates.
  assert memory_budget.msa_depths(config) == (508, 5120)
  assert memory_budget.msa_depths(model_config('model_3_ptm')) == (512, 5120)
  multimer = model_config('model_1_multimer_v3')
  evo = multimer.model.embeddings_and_evoformer
  assert memory_budget.msa_depths(multimer) == (evo.num_msa, evo.num_extra_msa)


def test_budget_below_chunk_one_is_an_error(config):
  needed = memory_budget.estimate_peak_bytes(config, 2048, 1)
  with pytest.raises(memory_budget.MemoryBudgetError,
                     match='2048 residues need about .* even with chunk size 1'):
    memory_budget.choose_chunk_size(config, 2048, needed - 1)
  assert memory_budget.choose_chunk_size(config, 2048, needed) == 1


def test_sharded_estimate_is_per_device(config):
  """Residue sharding over 4 devices: the base split (a quarter plus the
  overhead of the operands gathered whole), the chunked term per device
  whole; so a per-device budget allows a larger chunk than one device's."""
  one = memory_budget.estimate_peak_bytes(config, 2048, 4)
  four = memory_budget.estimate_peak_bytes(config, 2048, 4, devices=4)
  chunk_term = (memory_budget.estimate_peak_bytes(config, 2048, 4)
                - memory_budget.estimate_peak_bytes(config, 2048, 1))
  assert 0.25 * one < four < 0.4 * one
  assert (memory_budget.estimate_peak_bytes(config, 2048, 4, devices=4)
          - memory_budget.estimate_peak_bytes(config, 2048, 1, devices=4)
          == chunk_term)
  # A per-device budget that fits chunk 4 on 4 devices: one device would
  # need more than it even with chunk 1.
  assert memory_budget.choose_chunk_size(config, 2048, four,
                                         devices=4) >= 4
  with pytest.raises(memory_budget.MemoryBudgetError):
    memory_budget.choose_chunk_size(config, 2048, four)
