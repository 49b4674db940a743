"""Masked-MSA (BERT-style) loss (Suppl. section 1.9.9)."""
from __future__ import annotations

import jax
import jax.numpy as jnp

from alphafold_jax.losses import utils


def masked_msa_loss(value, batch, config) -> dict:
  """Cross entropy of the reconstructed MSA at the masked positions.

  Args:
    value: the masked-MSA head's output: 'logits' [N_seq, N_res, num_output]
      (num_output = 23: 20 amino acids, unknown, gap, mask; 22 without the
      mask token for the multimer).
    batch: 'true_msa' [N_seq, N_res] int and 'bert_mask' [N_seq, N_res].
    config: the head config (num_output, checked when present).

  Returns:
    'loss' ().
  """
  logits = value['logits']
  dtype = logits.dtype
  # The multimer head has no num_output in its config: 22 classes (no mask
  # token), the monomer's 23.
  num_classes = logits.shape[-1]
  if 'num_output' in config and config.num_output != num_classes:
    raise ValueError(f'logits have {num_classes} classes, the config '
                     f'{config.num_output}')
  bert_mask = jnp.asarray(batch['bert_mask'], dtype)
  errors = utils.softmax_cross_entropy(
      logits=logits,
      labels=jax.nn.one_hot(batch['true_msa'], num_classes, dtype=dtype))
  loss = (jnp.sum(errors * bert_mask, axis=(-2, -1)) /
          (1e-8 + jnp.sum(bert_mask, axis=(-2, -1))))
  return {'loss': loss}
