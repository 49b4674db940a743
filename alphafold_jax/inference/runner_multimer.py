"""Running one AlphaFold-Multimer model: a complex's example in, numpy
outputs with confidence (pLDDT, PAE, pTM, ipTM) out.

The counterpart of runner.ModelRunner for the multimer presets (Evans et
al. 2021). The example of `data.multimer.process_multimer_features` needs
no processing: the model samples its MSA and BERT mask itself, from the
random key of each prediction. The runner pads the residues to a length
bucket, runs the network with recycling under `jax.jit`, slices the outputs
back and ranks by 0.8 ipTM + 0.2 pTM (the multimer paper's model confidence,
section 2.6).
"""
from __future__ import annotations

import copy
from typing import Any, Callable, Dict, Mapping, Optional

import haiku as hk
import jax
import ml_collections
import numpy as np

from alphafold_jax.common import confidence
from alphafold_jax.inference import padding
from alphafold_jax.inference import runner as runner_lib
from alphafold_jax.model import AlphaFoldMultimer

# Weights of ipTM and pTM in the ranking confidence (Evans et al. 2021).
IPTM_WEIGHT = 0.8
PTM_WEIGHT = 0.2
# Feature dtypes of the model's input: masks and deletions are floats,
# residue and chain indices integers.
_INT_FEATURES = ('aatype', 'residue_index', 'asym_id', 'entity_id', 'sym_id',
                 'msa', 'template_aatype')

_APPLY_CACHE: Dict[Any, Callable] = {}


def configure(config: ml_collections.ConfigDict,
              num_recycle: Optional[int] = None,
              recycle_early_stop_tolerance: Optional[float] = None
              ) -> ml_collections.ConfigDict:
  """A copy of a multimer config (`model_config('model_1_multimer_v3')`,
  which holds `model` only) with inference overrides.

  Args:
    num_recycle: the most recycling iterations; the config's (20) if None.
    recycle_early_stop_tolerance: Å of Cα distance change between
      iterations below which recycling stops; the config's (0.5) if None.
  """
  config = copy.deepcopy(config)
  model = config.model
  if num_recycle is not None:
    if num_recycle < 0:
      raise ValueError(f'num_recycle must be >= 0, got {num_recycle}.')
    model.num_recycle = num_recycle
  if recycle_early_stop_tolerance is not None:
    if recycle_early_stop_tolerance < 0:
      raise ValueError('recycle_early_stop_tolerance must be >= 0, got '
                       f'{recycle_early_stop_tolerance}.')
    with model.unlocked():
      model.recycle_early_stop_tolerance = float(recycle_early_stop_tolerance)
  with model.global_config.unlocked():
    model.global_config.deterministic = True
  return config


def _jitted_apply(model_config: ml_collections.ConfigDict,
                  return_representations: bool) -> Callable:
  key = (model_config.to_json(sort_keys=True), return_representations)
  if key not in _APPLY_CACHE:
    def forward(batch):
      return AlphaFoldMultimer(model_config)(
          batch, is_training=False,
          return_representations=return_representations)
    _APPLY_CACHE[key] = jax.jit(hk.transform(forward).apply)
  return _APPLY_CACHE[key]


def confidence_metrics(outputs: Mapping[str, Any],
                       asym_id: np.ndarray) -> Dict[str, Any]:
  """pLDDT, PAE, pTM and ipTM of unpadded multimer outputs.

  Args:
    outputs: the model's outputs for the real residues.
    asym_id: [N] chain of each residue.

  Returns:
    plddt [N], predicted_aligned_error [N, N], max_predicted_aligned_error,
    aligned_confidence_probs, ptm and iptm (0-d arrays) and
    ranking_confidence = 0.8 ipTM + 0.2 pTM.
  """
  plddt = np.asarray(confidence.compute_plddt(
      outputs['predicted_lddt']['logits']))
  pae = outputs['predicted_aligned_error']
  metrics = {'plddt': plddt}
  metrics.update({k: np.asarray(v) for k, v in (
      confidence.compute_predicted_aligned_error(
          pae['logits'], pae['breaks']).items())})
  ptm = float(confidence.predicted_tm_score(pae['logits'], pae['breaks']))
  iptm = float(confidence.predicted_tm_score(
      pae['logits'], pae['breaks'], asym_id=asym_id, interface=True))
  metrics['ptm'] = np.asarray(ptm)
  metrics['iptm'] = np.asarray(iptm)
  metrics['ranking_confidence'] = IPTM_WEIGHT * iptm + PTM_WEIGHT * ptm
  return metrics


class MultimerModelRunner:
  """One multimer model (config + parameters) ready to predict.

  Attributes:
    config: the config (see `configure`).
    params: Haiku parameters (a released params_model_*_multimer_v3.npz).
    use_buckets: pad residues to `padding.RESIDUE_BUCKETS` sizes.
    return_representations: return the trunk's representations
      (`representations/*`), as `runner.ModelRunner`.
  """

  def __init__(self, config: ml_collections.ConfigDict,
               params: Mapping[str, Mapping[str, np.ndarray]],
               use_buckets: bool = True,
               return_representations: bool = False):
    self.config = config
    self.params = params
    self.use_buckets = use_buckets
    self.return_representations = return_representations
    self._apply = _jitted_apply(config.model, return_representations)

  def process_features(self, raw_features: Mapping[str, np.ndarray],
                       random_seed: int) -> Dict[str, np.ndarray]:
    """The model's input features of a complex's example, in the model's
    dtypes. No random draw: the seed is unused (the model samples)."""
    del random_seed
    missing = [k for k in padding.MULTIMER_RESIDUE_AXES
               if k not in raw_features]
    if missing:
      raise ValueError(f'The example lacks {missing}; is it the output of '
                       'process_multimer_features?')
    return {k: np.asarray(raw_features[k],
                          np.int32 if k in _INT_FEATURES else np.float32)
            for k in padding.MULTIMER_RESIDUE_AXES}

  def padded_size(self, num_res: int) -> int:
    return padding.bucket_size(num_res) if self.use_buckets else num_res

  def predict(self, batch: Mapping[str, np.ndarray], random_seed: int
              ) -> Dict[str, Any]:
    """Runs the network (the key of `random_seed` drives the MSA sampling).

    Returns:
      Numpy outputs for the real residues: the heads' logits,
      structure_module/{final_atom_positions, final_atom_mask},
      num_recycles, representations/* (when the runner returns them),
      and `confidence_metrics`.
    """
    num_res = int(batch['aatype'].shape[0])
    padded_num_res = self.padded_size(num_res)
    padded = padding.pad_multimer_batch(batch, padded_num_res)
    outputs = runner_lib.run_compiled(
        self._apply, self.params, jax.random.PRNGKey(random_seed), padded)
    outputs = dict(jax.tree_util.tree_map(np.asarray, outputs))
    outputs['structure_module'] = {
        k: outputs['structure_module'][k]
        for k in runner_lib.STRUCTURE_OUTPUTS}
    outputs = padding.unpad_outputs(outputs, num_res, padded_num_res)
    outputs.update(confidence_metrics(outputs, batch['asym_id']))
    return outputs
