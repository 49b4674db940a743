"""The weighted sum of the head losses (Suppl. section 1.9, eq. 7)."""
from __future__ import annotations

from typing import Callable, Mapping, Tuple

import jax

from alphafold_jax.losses.aligned_error import predicted_aligned_error_loss
from alphafold_jax.losses.distogram import distogram_loss
from alphafold_jax.losses.experimentally_resolved import (
    experimentally_resolved_loss)
from alphafold_jax.losses.masked_msa import masked_msa_loss
from alphafold_jax.losses.plddt import predicted_lddt_loss
from alphafold_jax.losses.structure import structure_module_loss

# head name -> loss(value, batch, head_config) -> dict with 'loss'.
HEAD_LOSSES: Mapping[str, Callable[..., dict]] = {
    'distogram': distogram_loss,
    'experimentally_resolved': experimentally_resolved_loss,
    'masked_msa': masked_msa_loss,
    'predicted_aligned_error': predicted_aligned_error_loss,
    'predicted_lddt': predicted_lddt_loss,
    'structure_module': structure_module_loss,
}

# These heads score the structure module's prediction, so their loss takes
# the model's whole output dict as `value`; the others take their own output.
TAKES_ALL_OUTPUTS = ('predicted_lddt', 'predicted_aligned_error')


def head_loss(name: str, outputs, batch, head_config) -> dict:
  """The loss dict of one head, given the model's whole output dict."""
  value = outputs if name in TAKES_ALL_OUTPUTS else outputs[name]
  return HEAD_LOSSES[name](value, batch, head_config)


def total_loss(outputs, batch, heads_config
               ) -> Tuple[jax.Array, Mapping[str, dict]]:
  """Sum of weight x loss over the heads with a nonzero weight.

  Args:
    outputs: the model's output dict, one entry per head (head outputs only).
    batch: the features of one example (no recycling axis).
    heads_config: config.model.heads.

  Returns:
    (total, {head name: its loss dict}). Heads are summed in the reference's
    order: the trunk heads and the structure module in name order, then
    pLDDT and PAE, which need the structure.
  """
  names = sorted(n for n, c in heads_config.items()
                 if c.weight and n not in TAKES_ALL_OUTPUTS)
  names += [n for n in TAKES_ALL_OUTPUTS
            if n in heads_config and heads_config[n].weight]
  total = 0.
  losses = {}
  for name in names:
    losses[name] = head_loss(name, outputs, batch, heads_config[name])
    total = total + heads_config[name].weight * losses[name]['loss']
  return total, losses
