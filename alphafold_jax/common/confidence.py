"""Confidence metrics from the confidence heads' logits (Suppl. section 1.9.6-7).

pLDDT is the expected lDDT-Cα under the pLDDT head's distribution; the
predicted aligned error (PAE) is the expected aligned error under the PAE
head's distribution, and pTM the predicted TM-score derived from it.
"""
from __future__ import annotations

from typing import Optional

import jax
import jax.numpy as jnp

# TM-score's d0 is undefined or negative for short chains; N is clipped to this
# (Suppl. section 1.9.7, eq. 40).
_MIN_TM_NUM_RES = 19


def compute_plddt(logits: jax.Array) -> jax.Array:
  """[N_res, num_bins] logits -> [N_res] pLDDT in [0, 100]."""
  num_bins = logits.shape[-1]
  bin_width = 1. / num_bins
  bin_centers = jnp.arange(0.5 * bin_width, 1., bin_width, dtype=logits.dtype)
  probs = jax.nn.softmax(logits, axis=-1)
  return jnp.sum(probs * bin_centers, axis=-1) * 100.


def _bin_centers(breaks: jax.Array) -> jax.Array:
  """[num_bins - 1] breaks -> [num_bins] centres, the last a catch-all bin."""
  step = breaks[1] - breaks[0]
  centers = breaks + step / 2
  return jnp.concatenate([centers, centers[-1:] + step], axis=0)


def compute_predicted_aligned_error(logits: jax.Array, breaks: jax.Array
                                    ) -> dict:
  """Expected aligned error from the PAE head.

  Args:
    logits: [N_res, N_res, num_bins].
    breaks: [num_bins - 1] bin edges (Å).

  Returns:
    'aligned_confidence_probs' [N_res, N_res, num_bins],
    'predicted_aligned_error' [N_res, N_res] (Å), and
    'max_predicted_aligned_error' () the centre of the last bin.
  """
  probs = jax.nn.softmax(logits, axis=-1)
  centers = _bin_centers(jnp.asarray(breaks, logits.dtype))
  return {
      'aligned_confidence_probs': probs,
      'predicted_aligned_error': jnp.sum(probs * centers, axis=-1),
      'max_predicted_aligned_error': centers[-1],
  }


def predicted_tm_score(logits: jax.Array, breaks: jax.Array,
                       residue_weights: Optional[jax.Array] = None,
                       asym_id: Optional[jax.Array] = None,
                       interface: bool = False) -> jax.Array:
  """pTM (Suppl. section 1.9.7, eq. 40-41): the best frame's predicted TM.

  With `interface`, ipTM (Evans et al. 2021, section 2.5): only pairs of
  residues in different chains (by `asym_id`) count.

  Args:
    logits: [N_res, N_res, num_bins] PAE logits.
    breaks: [num_bins - 1] bin edges (Å).
    residue_weights: [N_res] in [0, 1]; all ones if None.
    asym_id: [N_res] chain of each residue; needed with `interface`.
    interface: score the interface only (ipTM).

  Returns:
    () the predicted TM-score.
  """
  if interface and asym_id is None:
    raise ValueError('predicted_tm_score: interface=True needs asym_id')
  dtype = logits.dtype
  if residue_weights is None:
    residue_weights = jnp.ones(logits.shape[0], dtype)
  residue_weights = jnp.asarray(residue_weights, dtype)
  centers = _bin_centers(jnp.asarray(breaks, dtype))

  # d0 of Yang & Skolnick (2004), eq. 5, from the (integer) number of
  # residues.
  num_res = jnp.floor(jnp.sum(residue_weights))
  clipped_num_res = jnp.maximum(num_res, _MIN_TM_NUM_RES)
  d0 = 1.24 * (clipped_num_res - 15) ** (1. / 3) - 1.8

  probs = jax.nn.softmax(logits, axis=-1)
  tm_per_bin = 1. / (1 + jnp.square(centers) / jnp.square(d0))
  predicted_tm_term = jnp.sum(probs * tm_per_bin, axis=-1)

  pair_weights = residue_weights[None, :] * residue_weights[:, None]
  if interface:
    asym_id = jnp.asarray(asym_id)
    pair_weights = pair_weights * (asym_id[:, None] != asym_id[None, :]).astype(dtype)
  normed_pair_weights = pair_weights / (
      1e-8 + jnp.sum(pair_weights, axis=-1, keepdims=True))
  per_alignment = jnp.sum(predicted_tm_term * normed_pair_weights, axis=-1)
  return per_alignment[jnp.argmax(per_alignment * residue_weights)]
