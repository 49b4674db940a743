"""Running one AlphaFold2 model: features in, numpy outputs with confidence out.

`ModelRunner` plays the part of the released RunModel: it processes raw
features with its config, pads them to a length bucket, runs the network
(Suppl. Alg. 2, with recycling) under `jax.jit`, slices the outputs back to
the real residues and adds the confidence metrics (Suppl. 1.9.6-1.9.7).
Runners whose network configs are equal share one jitted function, so the
models of a preset reuse compiled programs wherever their shapes agree.
"""
from __future__ import annotations

import copy
import ctypes
import json
from typing import Any, Callable, Dict, Mapping, Optional

import haiku as hk
import jax
import ml_collections
import numpy as np

from alphafold_jax.common import confidence
from alphafold_jax.data.features import process_features
from alphafold_jax.inference import padding
from alphafold_jax.model import AlphaFold
from alphafold_jax.model.layers import sharding

# Structure-module outputs kept in the results (those of the released
# inference mode); the per-layer trajectory and side-chain frames are
# training-time intermediates.
STRUCTURE_OUTPUTS = ('final_atom_positions', 'final_atom_mask')

# {network config JSON and whether representations are returned: jitted
# apply}, shared by every runner.
_APPLY_CACHE: Dict[Any, Callable] = {}
# {(jitted apply, argument signature): compiled program}, likewise.
_COMPILED_CACHE: Dict[Any, Any] = {}


def configure(config: ml_collections.ConfigDict,
              num_recycle: Optional[int] = None,
              recycle_early_stop_tolerance: Optional[float] = None,
              bfloat16: bool = False) -> ml_collections.ConfigDict:
  """A copy of a full (data + model) config with inference overrides.

  Args:
    config: a preset's config (`model_config`) or a training config.
    num_recycle: recycling iterations (data and model both read it); the
      config's own when None.
    recycle_early_stop_tolerance: mean Cα movement (Å) between recycling
      iterations below which recycling stops; 0 runs every iteration.
    bfloat16: the trunk in bfloat16 (`global_config.bfloat16`); the
      structure module and the heads stay float32.
  """
  config = copy.deepcopy(config)
  if num_recycle is not None:
    if num_recycle < 0:
      raise ValueError(f'num_recycle must be >= 0, got {num_recycle}.')
    config.data.common.num_recycle = num_recycle
    config.model.num_recycle = num_recycle
  if recycle_early_stop_tolerance is not None:
    if recycle_early_stop_tolerance < 0:
      raise ValueError('recycle_early_stop_tolerance must be >= 0, got '
                       f'{recycle_early_stop_tolerance}.')
    with config.model.unlocked():
      config.model.recycle_early_stop_tolerance = float(
          recycle_early_stop_tolerance)
  with config.model.global_config.unlocked():
    # Inference: no dropout anywhere.
    config.model.global_config.deterministic = True
    if bfloat16:
      config.model.global_config.bfloat16 = True
  return config


def _jitted_apply(model_config: ml_collections.ConfigDict,
                  return_representations: bool) -> Callable:
  key = (model_config.to_json(sort_keys=True), return_representations)
  if key not in _APPLY_CACHE:
    def forward(batch):
      # As the released inference: the ensemble members of each recycling
      # iteration (8 in CASP14 mode, else 1) are averaged.
      return AlphaFold(model_config)(
          batch, is_training=False, compute_loss=False,
          ensemble_representations=True,
          return_representations=return_representations)
    _APPLY_CACHE[key] = jax.jit(hk.transform(forward).apply)
  return _APPLY_CACHE[key]


def release_freed_host_memory() -> bool:
  """Hands the heap memory this process has freed back to the OS.

  Compiling the network, XLA allocates and frees much host memory, and
  glibc's allocator keeps the freed pages: after compiling the full
  monomer network at N=128 on the CPU, about 0.5 GB stays resident
  through the run beside the run's own buffers. `malloc_trim(0)` returns
  them. Returns False (doing nothing) where the C library has no
  malloc_trim (not glibc).
  """
  trim = getattr(ctypes.CDLL(None), 'malloc_trim', None)
  if trim is None:
    return False
  trim(0)
  return True


def _signature(args) -> tuple:
  leaves, treedef = jax.tree_util.tree_flatten(args)
  return treedef, tuple((np.shape(x), getattr(x, 'dtype', type(x)),
                         getattr(x, 'sharding', None)) for x in leaves)


def run_compiled(jitted: Callable, *args):
  """`jitted(*args)`, through a program compiled once per argument
  signature (shapes, dtypes, shardings) and shared by every caller.

  Compiled ahead of the call rather than by the call, so that the memory
  the compiler freed is released (`release_freed_host_memory`) before the
  run allocates its own.
  """
  key = (jitted, _signature(args))
  if key not in _COMPILED_CACHE:
    _COMPILED_CACHE[key] = jitted.lower(*args).compile()
    release_freed_host_memory()
  return _COMPILED_CACHE[key](*args)


def confidence_metrics(outputs: Mapping[str, Any]) -> Dict[str, Any]:
  """pLDDT, and for pTM models PAE and pTM, of unpadded outputs.

  Returns:
    plddt [N] (0-100); ranking_confidence, the mean pLDDT for every
    monomer model, pTM models included (as the reference ranks monomer
    predictions); with the PAE head also predicted_aligned_error [N, N] (Å),
    max_predicted_aligned_error, aligned_confidence_probs and ptm.
  """
  plddt = np.asarray(confidence.compute_plddt(
      outputs['predicted_lddt']['logits']))
  metrics = {'plddt': plddt, 'ranking_confidence': float(np.mean(plddt))}
  if 'predicted_aligned_error' in outputs:
    pae = outputs['predicted_aligned_error']
    metrics.update({k: np.asarray(v) for k, v in (
        confidence.compute_predicted_aligned_error(
            pae['logits'], pae['breaks']).items())})
    ptm = float(confidence.predicted_tm_score(pae['logits'], pae['breaks']))
    metrics['ptm'] = np.asarray(ptm)
  return metrics


def held_params(params: Mapping, mesh: Optional[jax.sharding.Mesh] = None
                ) -> Mapping:
  """The parameters as a runner keeps them between calls.

  On the CPU without a mesh: copied once into device arrays, so that the
  caller's NumPy arrays can be freed and a call does not copy them again
  (the CPU's device memory is the host's, where the two copies would sit
  side by side: 0.37 GB each for a monomer model). Elsewhere as given,
  moved to the device by each call as the reference does, so that the
  device holds only the running model's parameters.
  """
  if mesh is None and jax.default_backend() == 'cpu':
    return jax.device_put(params)
  return params


class ModelRunner:
  """One model (config + parameters) ready to predict.

  Attributes:
    config: the full config (see `configure`).
    params: Haiku parameters (as `held_params` keeps them).
    use_buckets: pad residues to `padding.RESIDUE_BUCKETS` sizes.
    return_representations: return the trunk's representations
      (`representations/*`; the pair representation is [N, N, c_z] float32,
      19 GB at N=6,144, so only when asked for).
    mesh: with a mesh (`sharding.residue_mesh()`), the network runs with
      residue sharding over it (`global_config.shard_residues`), and the
      residues are padded to a multiple of its size, which XLA splits
      evenly.
  """

  def __init__(self, config: ml_collections.ConfigDict,
               params: Mapping[str, Mapping[str, np.ndarray]],
               use_buckets: bool = True,
               mesh: Optional[jax.sharding.Mesh] = None,
               return_representations: bool = False):
    if mesh is not None:
      config = copy.deepcopy(config)
      with config.model.global_config.unlocked():
        config.model.global_config.shard_residues = True
    self.config = config
    self.params = held_params(params, mesh)
    self.use_buckets = use_buckets
    self.mesh = mesh
    self.return_representations = return_representations
    self._apply = _jitted_apply(config.model, return_representations)

  def process_features(self, raw_features: Mapping[str, np.ndarray],
                       random_seed: int) -> Dict[str, np.ndarray]:
    """The model's batch (MSA sampling and masking seeded by random_seed)."""
    return process_features(raw_features, self.config, mode='eval',
                            random_seed=random_seed)

  def padded_size(self, num_res: int) -> int:
    size = padding.bucket_size(num_res) if self.use_buckets else num_res
    if self.mesh is not None:
      size = -(-size // self.mesh.size) * self.mesh.size
    return size

  def predict(self, batch: Mapping[str, np.ndarray], random_seed: int
              ) -> Dict[str, Any]:
    """Runs the network on a processed batch.

    Args:
      batch: `process_features` output (leading ensemble axis).
      random_seed: seed of the network's random key.

    Returns:
      Numpy outputs for the real residues only: the heads' logits,
      structure_module/{final_atom_positions, final_atom_mask},
      num_recycles, representations/* (when the runner returns them), and
      the confidence metrics of `confidence_metrics`.
    """
    num_res = int(batch['aatype'].shape[-1])
    padded_num_res = self.padded_size(num_res)
    padded = padding.pad_batch(batch, self.config.data.eval.feat,
                               padded_num_res)
    key = jax.random.PRNGKey(random_seed)
    if self.mesh is None:
      outputs = run_compiled(self._apply, self.params, key, padded)
    else:
      # The features split along residues, as the model splits the MSA.
      padded = jax.device_put(padded, sharding.feature_shardings(
          padded, self.config.data.eval.feat, self.mesh))
      with jax.set_mesh(self.mesh):
        outputs = run_compiled(self._apply, self.params, key, padded)
    outputs = jax.tree_util.tree_map(np.asarray, outputs)
    outputs = dict(outputs)
    outputs['structure_module'] = {
        k: outputs['structure_module'][k] for k in STRUCTURE_OUTPUTS}
    outputs = padding.unpad_outputs(outputs, num_res, padded_num_res)
    outputs.update(confidence_metrics(outputs))
    return outputs


def config_summary(config: ml_collections.ConfigDict) -> str:
  """One line describing a network's size, for logs."""
  evo = config.model.embeddings_and_evoformer
  return json.dumps({
      'evoformer_blocks': evo.evoformer_num_block,
      'msa_channel': evo.msa_channel, 'pair_channel': evo.pair_channel,
      'num_recycle': config.model.num_recycle})
