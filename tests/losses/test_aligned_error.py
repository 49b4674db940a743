"""Predicted aligned error loss (Suppl. section 1.9.7)."""
import ml_collections
import numpy as np

from alphafold_jax.data import supervised
from alphafold_jax.losses import aligned_error
from tests.losses.golden import assert_matches


def test_predicted_aligned_error_loss_matches_reference(golden, x64):
  config, batch, flat, outputs = golden
  result = aligned_error.predicted_aligned_error_loss(
      outputs, batch, config.model.heads.predicted_aligned_error)
  assert_matches(result, flat, 'predicted_aligned_error/')


def test_resolution_filter_zeroes_the_loss(golden, x64):
  config, batch, _, outputs = golden
  result = aligned_error.predicted_aligned_error_loss(
      outputs, dict(batch, resolution=0.),
      config.model.heads.predicted_aligned_error)
  assert float(result['loss']) == 0.


def test_aligned_errors_are_zero_for_the_true_frames(golden, x64):
  _, batch, _, _ = golden
  affine = batch['backbone_affine_tensor']
  errors = aligned_error._aligned_sq_errors(affine, affine)
  np.testing.assert_allclose(errors, 0., atol=1e-20)


def _breaks(num_bins=64, max_error_bin=31.):
  return np.linspace(0., max_error_bin, num_bins - 1)


def test_errors_on_a_bin_edge_stay_in_the_lower_bin(x64):
  # The reference bins with `error² > edge²`: an error exactly on edge k
  # is in bin k, anything above it in bin k + 1.
  breaks = _breaks()
  num_res = len(breaks) + 1
  on_edge = np.zeros((num_res, num_res))
  on_edge[0, 1:] = np.square(breaks)
  above = np.zeros((num_res, num_res))
  above[0, 1:] = np.nextafter(np.square(breaks), np.inf)
  above[0, 1] = 1e-300  # (XLA flushes the denormal after 0 to zero)
  bins_on = np.asarray(aligned_error.aligned_error_bins(on_edge, breaks))
  bins_above = np.asarray(aligned_error.aligned_error_bins(above, breaks))
  np.testing.assert_array_equal(bins_on[0, 2:], np.arange(1, len(breaks)))
  np.testing.assert_array_equal(bins_above[0, 1:],
                                np.arange(1, len(breaks) + 1))
  # Off-diagonal zeros are in bin 0; a frame's own Cα is in bin 1.
  assert bins_on[1, 0] == 0 and bins_on[0, 1] == 0
  np.testing.assert_array_equal(np.diag(bins_on), 1)


def _affines(translations):
  quat = np.zeros((len(translations), 4))
  quat[:, 0] = 1.
  return np.concatenate([quat, translations], axis=-1)


def test_loss_bins_errors_placed_on_edges_as_the_reference(x64):
  # Identity frames on a line 4 Å apart; the prediction moves residue j
  # along x by j/2 Å, so the error of Cα j seen from frame i is |j - i|/2 Å
  # exactly: every other pair lies exactly on a bin edge.
  breaks = _breaks()
  num_res, num_bins = 12, len(breaks) + 1
  x = 4. * np.arange(num_res)
  true = _affines(np.stack([x, 0 * x, 0 * x], -1))
  pred = _affines(np.stack([x + 0.5 * np.arange(num_res), 0 * x, 0 * x], -1))
  errors = np.abs(np.arange(num_res)[None, :] - np.arange(num_res)[:, None]) / 2
  np.testing.assert_array_equal(
      aligned_error._aligned_sq_errors(pred, true), np.square(errors))
  # What the reference's `>` gives, computed here independently.
  expected_bins = (errors[..., None] > breaks).sum(-1)
  np.fill_diagonal(expected_bins, 1)
  logits = np.random.default_rng(0).normal(size=(num_res, num_res, num_bins))
  log_p = logits - np.log(np.exp(logits).sum(-1, keepdims=True))
  expected = -np.take_along_axis(log_p, expected_bins[..., None], -1).mean()

  value = {'predicted_aligned_error': {'logits': logits, 'breaks': breaks},
           'structure_module': {'final_affines': pred}}
  batch = {'backbone_affine_tensor': true,
           'backbone_affine_mask': np.ones(num_res), 'resolution': 2.}
  config = ml_collections.ConfigDict(dict(
      num_bins=num_bins, filter_by_resolution=True, min_resolution=0.1,
      max_resolution=3.0))
  loss = aligned_error.predicted_aligned_error_loss(value, batch, config)
  # (the loss's normaliser adds 1e-8 to the pair count)
  np.testing.assert_allclose(loss['loss'], expected, rtol=1e-9)


def test_golden_loss_with_frames_recomputed_from_positions(golden, x64):
  # The ground-truth frames rebuilt from the atom positions (as the data
  # pipeline does) rather than read from the fixture's stored quaternions
  # give the same bins and the reference's loss.
  config, batch, flat, outputs = golden
  recomputed = supervised.make_supervised_features(
      batch['aatype'], batch['all_atom_positions'], batch['all_atom_mask'])
  np.testing.assert_array_equal(recomputed['backbone_affine_mask'],
                                batch['backbone_affine_mask'])
  pred = outputs['structure_module']['final_affines']
  breaks = outputs['predicted_aligned_error']['breaks']
  bins = {}
  for name, affine in (('stored', batch['backbone_affine_tensor']),
                       ('recomputed', recomputed['backbone_affine_tensor'])):
    bins[name] = np.asarray(aligned_error.aligned_error_bins(
        aligned_error._aligned_sq_errors(pred, affine), breaks))
  np.testing.assert_array_equal(bins['recomputed'], bins['stored'])
  result = aligned_error.predicted_aligned_error_loss(
      outputs, dict(batch, backbone_affine_tensor=recomputed[
          'backbone_affine_tensor'].astype(np.float64)),
      config.model.heads.predicted_aligned_error)
  assert_matches(result, flat, 'predicted_aligned_error/')
