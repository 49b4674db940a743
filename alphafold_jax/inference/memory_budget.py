"""The run's memory budget (`--memory_budget_gb`) and the chunk size it gives.

Before the models are built, the chunk size of the chunked modules
(`global_config.subbatch_size`) is chosen for the run's longest target
(padded to its length bucket) by `alphafold_jax.model.memory_budget`: no
chunking when the whole inference fits the budget, else the largest chunk
that does. The budget is `--memory_budget_gb` GiB when given; else, on a
GPU or TPU, the device's free memory (`memory_stats()`: bytes_limit less
bytes_in_use) times `FREE_MEMORY_FRACTION`. On the CPU without the flag
the configs keep their own subbatch_size (4 for the released presets): the
host's memory is shared with other processes and swaps rather than
failing, so a run there chooses by flag only. Nor would a budget from the
host's free memory speed a short run there: on this CPU (one core, XLA's
YNNPACK fusions) the chunks keep each step's intermediates in cache, and
model_1_ptm at N=64 (one recycling iteration, 512 MSA rows, 5,120 extra)
ran in 80.9 s with chunk 4 against 141.7 s unchunked, with 1.9 against
4.1 GB peak resident memory (the modules alone: the Evoformer's MSA
transition 0.22 against 0.62 s, its row attention 0.20 against 0.46 s).
"""
from __future__ import annotations

import copy
import logging
from typing import Dict, Optional

import jax
import ml_collections

from alphafold_jax.inference import inputs
from alphafold_jax.inference import padding
from alphafold_jax.model import memory_budget as model_memory

# The part of the free device memory that activations may plan to use: the
# rest holds the parameters and features (about 0.4 GiB at float32), XLA's
# workspace and fragmentation.
FREE_MEMORY_FRACTION = 0.8


def budget_bytes(memory_budget_gb: Optional[float]) -> Optional[float]:
  """Bytes from --memory_budget_gb, else the device's free memory times
  FREE_MEMORY_FRACTION, else (CPU, or no memory statistics) None."""
  if memory_budget_gb is not None:
    if not memory_budget_gb > 0:
      raise inputs.InputError(
          f'--memory_budget_gb must be positive, got {memory_budget_gb}.')
    return memory_budget_gb * 2**30
  device = jax.devices()[0]
  if device.platform == 'cpu':
    return None
  stats = device.memory_stats()
  if not stats or 'bytes_limit' not in stats:
    return None
  free = stats['bytes_limit'] - stats.get('bytes_in_use', 0)
  return FREE_MEMORY_FRACTION * free


def apply_chunk_size(configs: Dict[str, ml_collections.ConfigDict],
                     num_res: int, budget: Optional[float], what: str,
                     use_buckets: bool = True, devices: int = 1
                     ) -> Dict[str, ml_collections.ConfigDict]:
  """Copies of `configs` with the subbatch_size that fits `budget` bytes
  (per device, with residue sharding over `devices`) for `num_res`
  residues (`what` names the target in errors); the configs themselves
  when `budget` is None.

  Raises:
    InputError: even chunk 1 does not fit the budget.
  """
  if budget is None:
    return configs
  if use_buckets:
    num_res = padding.bucket_size(num_res)
  chosen = {}
  for name, config in configs.items():
    try:
      chunk = model_memory.choose_chunk_size(config, num_res, budget,
                                             devices=devices)
    except model_memory.MemoryBudgetError as e:
      raise inputs.InputError(f'{what}: {e}') from None
    config = copy.deepcopy(config)
    config.model.global_config.subbatch_size = chunk
    logging.info('%s: chunk size %s for %d residues in a %.1f GiB budget '
                 '(estimated peak %.1f GiB)', name,
                 chunk if chunk else 'none (unchunked)', num_res,
                 budget / 2**30, model_memory.estimate_peak_bytes(
                     config, num_res, chunk, devices=devices) / 2**30)
    chosen[name] = config
  return chosen
