"""Supervised side-chain torsion loss (Suppl. Alg. 27, section 1.9.1)."""
from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from alphafold_jax.common import residue_constants
from alphafold_jax.losses import utils

# Keeps the gradient of the angle norm finite at zero (Alg. 27 line 12).
_ANGLE_NORM_EPSILON = 1e-6
# Of the seven torsions (omega, phi, psi, chi1..chi4) the chis start here.
_FIRST_CHI = 3


def supervised_chi_loss(sidechains, batch) -> dict:
  """Chi-angle error of every layer and the norm penalty of its raw angles.

  Args:
    sidechains: the structure module's 'sidechains' output:
      'angles_sin_cos' and 'unnormalized_angles_sin_cos' [N_layer, N_res, 7, 2]
      (sine, cosine of omega, phi, psi, chi1..4).
    batch: 'aatype' [N_res], 'seq_mask' [N_res], 'chi_angles' [N_res, 4]
      (radians), 'chi_mask' [N_res, 4].

  Returns:
    'chi_loss' (): the mean squared sin/cos error over existing chis and
    layers, taking for pi-periodic chis the better of chi and chi + pi
    (Alg. 27 lines 2-8); 'angle_norm_loss' (): the mean |norm - 1| of the
    unnormalised (sin, cos) pairs (lines 10-12).
  """
  pred_angles = sidechains['angles_sin_cos']
  dtype = pred_angles.dtype
  num_res = batch['seq_mask'].shape[0]
  num_torsions = pred_angles.shape[-2]
  sequence_mask = jnp.asarray(batch['seq_mask'], dtype)
  chi_mask = jnp.asarray(batch['chi_mask'], dtype)
  pred_angles = jnp.reshape(pred_angles, [-1, num_res, num_torsions, 2])
  pred_chis = pred_angles[:, :, _FIRST_CHI:]

  restype_one_hot = jax.nn.one_hot(
      batch['aatype'], residue_constants.restype_num + 1, dtype=dtype)
  chi_pi_periodic = restype_one_hot @ jnp.asarray(
      np.array(residue_constants.chi_pi_periodic), dtype)

  true_chi = jnp.asarray(batch['chi_angles'], dtype)
  sin_cos_true_chi = jnp.stack([jnp.sin(true_chi), jnp.cos(true_chi)],
                               axis=-1)[None]
  # -1 for a pi-periodic chi (its (sin, cos) flips sign under chi + pi),
  # +1 for a 2 pi-periodic one.
  shift = (1. - 2. * chi_pi_periodic)[None, ..., None]
  sin_cos_true_chi_shifted = shift * sin_cos_true_chi

  sq_chi_error = jnp.sum(jnp.square(sin_cos_true_chi - pred_chis), axis=-1)
  sq_chi_error_shifted = jnp.sum(
      jnp.square(sin_cos_true_chi_shifted - pred_chis), axis=-1)
  sq_chi_error = jnp.minimum(sq_chi_error, sq_chi_error_shifted)
  chi_loss = utils.mask_mean(mask=chi_mask[None], value=sq_chi_error)

  unnormed_angles = jnp.reshape(
      jnp.asarray(sidechains['unnormalized_angles_sin_cos'], dtype),
      [-1, num_res, num_torsions, 2])
  angle_norm = jnp.sqrt(jnp.sum(jnp.square(unnormed_angles), axis=-1) +
                        _ANGLE_NORM_EPSILON)
  norm_error = jnp.abs(angle_norm - 1.)
  angle_norm_loss = utils.mask_mean(mask=sequence_mask[None, :, None],
                                    value=norm_error)
  return {'chi_loss': chi_loss, 'angle_norm_loss': angle_norm_loss}
