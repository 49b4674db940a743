"""The weighted sum of AlphaFold-Multimer's head losses.

The heads are the monomer's, scored by the same loss functions, except the
structure module (losses/structure_multimer.py); the masked-MSA loss has 22
classes (the head's logits decide).
"""
from __future__ import annotations

from typing import Callable, Mapping, Tuple

import jax

from alphafold_jax.losses.chain_permutation import align_truth_to_prediction
from alphafold_jax.losses.structure_multimer import multimer_structure_loss
from alphafold_jax.losses.total import HEAD_LOSSES
from alphafold_jax.losses.total import TAKES_ALL_OUTPUTS

MULTIMER_HEAD_LOSSES: Mapping[str, Callable[..., dict]] = {
    **HEAD_LOSSES, 'structure_module': multimer_structure_loss}


def multimer_total_loss(outputs, batch, heads_config,
                        align_chains: bool = True
                        ) -> Tuple[jax.Array, Mapping[str, dict]]:
  """Sum of weight x loss over the heads with a nonzero weight.

  Args:
    outputs: the multimer model's outputs, one entry per head.
    batch: the example's features and ground truth (no recycling axis),
      with 'asym_id' and 'entity_id'.
    heads_config: config.model.heads.
    align_chains: first match the truth's copies of each homomeric entity
      to the predicted ones (losses/chain_permutation.py); every loss then
      reads the permuted truth.

  Returns:
    (total, {head name: its loss dict}), summed in the monomer's order.
  """
  names = sorted(n for n, c in heads_config.items()
                 if c.weight and n not in TAKES_ALL_OUTPUTS)
  names += [n for n in TAKES_ALL_OUTPUTS
            if n in heads_config and heads_config[n].weight]
  if align_chains:
    batch = align_truth_to_prediction(
        outputs['structure_module']['final_atom_positions'], batch)
  total = 0.
  losses = {}
  for name in names:
    value = outputs if name in TAKES_ALL_OUTPUTS else outputs[name]
    losses[name] = MULTIMER_HEAD_LOSSES[name](value, batch, heads_config[name])
    total = total + heads_config[name].weight * losses[name]['loss']
  return total, losses
