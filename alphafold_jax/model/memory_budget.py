"""The inference chunk size (`global_config.subbatch_size`) for a memory budget.

At inference the chunked modules (`layers/chunking.py`) evaluate their
leading axis a chunk at a time, so their intermediates scale with the chunk
while the representations themselves do not. `estimate_peak_bytes` models
the peak activation memory of one inference as

  base(N, N_seq, N_extra) + max over chunked modules of
      min(chunk, axis) * bytes per row of that module's intermediates

and `choose_chunk_size` picks the largest chunk (None: no chunking) whose
estimate fits a budget.

The base (the representations, the triangle updates, the heads) is fitted
(least squares) to XLA's planned temporary memory (`compile().
memory_analysis()`, benchmarks/memory_plan.py) of the full model_1_ptm
network, float32, 3 recycles, 508 MSA rows, on the CPU backend, less the
chunked terms counted below. With chunking (subbatch_size 4; N = 128, 192,
256, 320, 384 with 1024 extra sequences, N = 128, 256 with 5120, and the
README's N = 1,024 and 2,048): 3.11 pair-sized [N, N, c_z] arrays, -0.04
MSA and 3.13 extra-MSA representations; rounded up to 3.3, 0.6 and 3.2,
so that the estimate errs high. Chunking also switches the triangle
multiplications and the template attention to their lean forms
(trunk/triangle.py, trunk/template.py); without it they hold several
pair-sized arrays each, and the base keeps the 8 pair-sized arrays fitted
before those forms existed. The MSA depth was not varied (508 rows
throughout), so the MSA and pair coefficients are not separately pinned
down. The per-row terms are counted, not fitted: each attention keeps its
logits and its softmax weights ([chunk, heads, K, K] twice), a transition
its [chunk, N, 4c] hidden layer, the outer product mean its [chunk, N,
c_o, c_o] outer products.

How close (estimate / XLA:CPU plan; `python -m benchmarks.memory_plan
--num_seq 128 --num_res N --subbatch_size C [--max_extra_msa E] | python -m
benchmarks.memory_budget_check`): with chunk 4, 1.05 to 1.12 at the seven
points above, 1.24 and 1.12 at N = 1,024 and 2,048. With large chunks or
none the estimate is far above the CPU plan (2.1 at chunk 32, 4.7 to 4.8
unchunked): XLA:CPU does not keep a batched attention's whole [B, H, K, K]
logits (a lone attention with [64, 8, 256, 256] logits, 128 MiB, plans 48 MiB of
temporaries on the CPU); the estimate counts them whole, as a GPU without
the fused kernel (global_config.fused_attention) is expected to keep them.
So the estimate errs high (a smaller chunk than needed) at the sizes
measured. It was not checked against a GPU plan; bfloat16 is assumed to
halve every term, while XLA:CPU plans a bfloat16 trunk at 0.85-0.92 of
float32 (it computes in float32 between bfloat16 values).
"""
from typing import Optional

import ml_collections

# The base, fitted to XLA's plan (see the module docstring): with chunking,
# and without it (the plain triangle multiplications and template
# attention).
_PAIR_COPIES = 3.3
_PAIR_COPIES_UNCHUNKED = 8
_MSA_COPIES = 0.6
_EXTRA_MSA_COPIES = 3.2
_FIXED_BYTES = 0
# Under residue sharding over D devices each holds about 1/D of the base
# plus the operands gathered whole: XLA's per-device plans at D = 4 were
# 0.289 and 0.314 of one device's (N = 512, 1,024), 1/D + 0.04 to 0.06.
_SHARDED_OVERHEAD = 0.1
# An attention keeps its logits and its softmax weights.
_ATTENTION_COPIES = 2
# The chunk sizes tried besides None: powers of two.
_MAX_CHUNK_LOG2 = 16


class MemoryBudgetError(ValueError):
  """Even chunk 1 does not fit the budget."""


def msa_depths(config: ml_collections.ConfigDict) -> tuple:
  """(N_seq, N_extra): the MSA rows the model sees, padded as the data
  pipeline pads them (monomer) or as the model samples them (multimer)."""
  evo = config.model.embeddings_and_evoformer
  if 'data' not in config:
    return evo.num_msa, evo.num_extra_msa
  data = config.data
  num_clusters = data.eval.max_msa_clusters
  if data.common.get('reduce_msa_clusters_by_max_templates', False):
    num_clusters -= data.eval.max_templates
  num_extra = data.eval.get('max_extra_msa', data.common.max_extra_msa)
  return num_clusters, num_extra


def estimate_peak_bytes(config: ml_collections.ConfigDict, num_res: int,
                        chunk_size: Optional[int],
                        num_msa: Optional[int] = None,
                        num_extra_msa: Optional[int] = None,
                        devices: int = 1) -> int:
  """Estimated peak activation bytes of one inference with `chunk_size`.

  config: a full model config (monomer with `data`, or multimer).
  num_msa, num_extra_msa: MSA depths; by default `msa_depths(config)`.
  devices: residue sharding over this many devices; the bytes are then per
  device (the base split, 1/devices + _SHARDED_OVERHEAD of it; a chunk is
  rows per device, so the chunked term stays whole).
  Parameters and input features are not counted (about 0.4 GiB at
  float32 for the monomer model).
  """
  default_msa, default_extra = msa_depths(config)
  s = default_msa if num_msa is None else num_msa
  e = default_extra if num_extra_msa is None else num_extra_msa
  n = num_res
  evo = config.model.embeddings_and_evoformer
  # The extra-MSA stack's blocks share the Evoformer's config.
  blocks = extra = evo.evoformer
  c_m, c_e, c_z = evo.msa_channel, evo.extra_msa_channel, evo.pair_channel
  width = 2 if config.model.global_config.get('bfloat16', False) else 4

  pair_copies = _PAIR_COPIES if chunk_size else _PAIR_COPIES_UNCHUNKED
  base = (pair_copies * n * n * c_z + _MSA_COPIES * n * s * c_m +
          _EXTRA_MSA_COPIES * n * e * c_e)
  if devices > 1:
    base *= 1. / devices + _SHARDED_OVERHEAD
  heads = lambda module: module.num_head
  # (length of the chunked axis, elements per row of it) per chunked module.
  rows = [
      (s, _ATTENTION_COPIES * heads(blocks.msa_row_attention_with_pair_bias)
       * n * n),
      (e, _ATTENTION_COPIES * heads(extra.msa_row_attention_with_pair_bias)
       * n * n),
      (n, _ATTENTION_COPIES * heads(blocks.msa_column_attention) * s * s),
      (n, _ATTENTION_COPIES * heads(blocks.triangle_attention_starting_node)
       * n * n),
      (s, n * c_m * blocks.msa_transition.num_intermediate_factor),
      (e, n * c_e * extra.msa_transition.num_intermediate_factor),
      (n, n * c_z * blocks.pair_transition.num_intermediate_factor),
      (n, n * blocks.outer_product_mean.num_outer_channel**2),
  ]
  chunked = max(min(chunk_size or axis, axis) * per_row
                for axis, per_row in rows)
  return int(width * (base + chunked) + _FIXED_BYTES)


def choose_chunk_size(config: ml_collections.ConfigDict, num_res: int,
                      budget_bytes: float, num_msa: Optional[int] = None,
                      num_extra_msa: Optional[int] = None,
                      devices: int = 1) -> Optional[int]:
  """The largest chunk whose estimated peak fits `budget_bytes`.

  Returns None (no chunking) when the unchunked model fits, else the
  largest power of two that does.

  Raises:
    MemoryBudgetError: even chunk 1 needs more than the budget.
  """
  estimate = lambda chunk: estimate_peak_bytes(config, num_res, chunk,
                                               num_msa, num_extra_msa, devices)
  if estimate(None) <= budget_bytes:
    return None
  if estimate(1) > budget_bytes:
    raise MemoryBudgetError(
        f'{num_res} residues need about {estimate(1) / 2**30:.1f} GiB even '
        f'with chunk size 1; the memory budget is {budget_bytes / 2**30:.1f}'
        ' GiB. Use a device with more memory, a larger --memory_budget_gb, '
        'or a shorter sequence (e.g. a domain).')
  fits = [2**k for k in range(_MAX_CHUNK_LOG2 + 1)
          if estimate(2**k) <= budget_bytes]
  return max(fits)
