"""Batched structure prediction for the self-distillation set (Suppl. 1.3).

Sequences are processed with the config's inference transforms, padded to
a common length bucket (`alphafold_jax.inference.padding`) and run together
through one jitted, vmapped network call of a fixed batch size (a short
batch is filled with copies of its last sequence, whose results are
dropped), so each bucket compiles once; each result is sliced back to its
own residues. Padded residues are masked everywhere in the network, so a
sequence's prediction does not depend on its batch-mates.
"""
from __future__ import annotations

from typing import Callable, Dict, List, Mapping, Sequence

import haiku as hk
import jax
import ml_collections
import numpy as np

from alphafold_jax.common import confidence
from alphafold_jax.data.features import process_features
from alphafold_jax.inference import padding
from alphafold_jax.inference import runner
from alphafold_jax.model import AlphaFold


# {network config JSON: jitted, vmapped apply}: predictors of one network
# share compiled programs.
_APPLY_CACHE: Dict[str, Callable] = {}


def _forward(model_config):
  def forward(batch):
    # As the released inference: the ensemble members of each recycling
    # iteration are averaged (one member outside CASP14 mode).
    outputs = AlphaFold(model_config)(batch, is_training=False,
                                      compute_loss=False,
                                      ensemble_representations=True)
    structure = outputs['structure_module']
    return {
        'final_atom_positions': structure['final_atom_positions'],
        'final_atom_mask': structure['final_atom_mask'],
        'plddt': confidence.compute_plddt(
            outputs['predicted_lddt']['logits']),
    }
  return forward


class BatchedPredictor:
  """Predicts groups of sequences with one model.

  Args:
    config: a full config (preset or training config; inference overrides
      are applied: no dropout).
    params: the model's Haiku parameters.
    batch_size: sequences per network call.
  """

  def __init__(self, config: ml_collections.ConfigDict,
               params: Mapping[str, Mapping[str, np.ndarray]],
               batch_size: int = 1):
    if batch_size < 1:
      raise ValueError(f'batch_size must be >= 1, got {batch_size}.')
    self.config = runner.configure(config)
    self.params = params
    self.batch_size = batch_size
    key = self.config.model.to_json(sort_keys=True)
    if key not in _APPLY_CACHE:
      apply = hk.transform(_forward(self.config.model)).apply
      _APPLY_CACHE[key] = jax.jit(jax.vmap(apply, in_axes=(None, 0, 0)))
    self._apply = _APPLY_CACHE[key]

  def bucket(self, num_res: int) -> int:
    """The padded length a sequence of num_res residues is predicted at."""
    return padding.bucket_size(num_res)

  def predict(self, raw_features: Sequence[Mapping[str, np.ndarray]],
              seeds: Sequence[int]) -> List[Dict[str, np.ndarray]]:
    """Predicts up to `batch_size` sequences that share a length bucket.

    Args:
      raw_features: each sequence's raw features.
      seeds: each sequence's seed (MSA sampling and the network's key).

    Returns:
      Per sequence: final_atom_positions [N_res, 37, 3], final_atom_mask
      [N_res, 37] and plddt [N_res] (0-100), numpy float32.
    """
    lengths = [int(np.asarray(r['aatype']).shape[0]) for r in raw_features]
    padded = {self.bucket(n) for n in lengths}
    if len(padded) != 1:
      raise ValueError(f'one batch must share a length bucket; got {padded}.')
    if len(lengths) > self.batch_size:
      raise ValueError(f'{len(lengths)} sequences for a batch of '
                       f'{self.batch_size}.')
    padded_num_res = padded.pop()
    schema = self.config.data.eval.feat
    batches = [padding.pad_batch(
        process_features(raw, self.config, mode='eval', random_seed=seed),
        schema, padded_num_res) for raw, seed in zip(raw_features, seeds)]
    fill = self.batch_size - len(batches)
    batches += batches[-1:] * fill
    seeds = list(seeds) + list(seeds[-1:]) * fill
    stacked = {k: np.stack([b[k] for b in batches]) for k in batches[0]}
    keys = np.stack([np.asarray(jax.random.PRNGKey(s)) for s in seeds])
    outputs = jax.device_get(
        runner.run_compiled(self._apply, self.params, keys, stacked))
    return [{k: np.asarray(v[i, :n], np.float32) for k, v in outputs.items()}
            for i, n in enumerate(lengths)]
