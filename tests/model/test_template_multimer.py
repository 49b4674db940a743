"""Multimer template embedding: invariances of its pair and row features."""
import json
import pathlib

import haiku as hk
import jax
import jax.numpy as jnp
import ml_collections
import numpy as np
import pytest

from alphafold_jax.common import residue_constants
from alphafold_jax.model.trunk import template_multimer

GOLDEN = pathlib.Path(__file__).parents[1] / 'fixtures' / 'golden' / 'multimer_small'
NUM_RES, CHAIN_A = 12, 7


@pytest.fixture(scope='module')
def config():
  cfg = ml_collections.ConfigDict(json.loads((GOLDEN / 'config.json').read_text()))
  return cfg.model


def _random_rotation(rng):
  q, _ = np.linalg.qr(rng.normal(size=(3, 3)))
  return q * np.sign(np.linalg.det(q))


@pytest.fixture(scope='module')
def templates():
  return _templates()


def _templates():
  """Two templates from the golden example's first chain residues, on two
  synthetic chains; the second template is empty (padding)."""
  with np.load(GOLDEN / 'example.npz') as example:
    positions = example['template_all_atom_positions'][0, :NUM_RES].astype(np.float32)
    mask = example['template_all_atom_mask'][0, :NUM_RES].astype(np.float32)
    aatype = example['template_aatype'][0, :NUM_RES].astype(np.int32)
  assert mask[:, residue_constants.atom_order['CA']].all()
  return {
      'template_aatype': np.stack([aatype, np.zeros_like(aatype)]),
      'template_all_atom_positions': np.stack([positions, np.zeros_like(positions)]),
      'template_all_atom_mask': np.stack([mask, np.zeros_like(mask)]),
  }


@pytest.fixture(scope='module')
def embed(config):
  asym_id = np.array([1] * CHAIN_A + [2] * (NUM_RES - CHAIN_A))
  multichain = asym_id[:, None] == asym_id[None, :]
  query = jax.random.normal(jax.random.PRNGKey(0), (
      NUM_RES, NUM_RES, config.embeddings_and_evoformer.pair_channel))
  mask_2d = jnp.ones((NUM_RES, NUM_RES))
  gc = config.global_config

  def forward(batch):
    pair = template_multimer.TemplateEmbedding(
        config.embeddings_and_evoformer.template, gc)(
            query, batch, mask_2d, multichain, is_training=False)
    rows, row_mask = template_multimer.template_embedding_1d(
        batch, config.embeddings_and_evoformer.msa_channel)
    return pair, rows, row_mask

  fn = hk.transform(forward)
  params = fn.init(jax.random.PRNGKey(1), {k: v[:1] for k, v in _templates().items()})
  # Random (not zero) final weights, so every feature reaches the output.
  params = jax.tree_util.tree_map(
      lambda p: p + 0.1 * jax.random.normal(jax.random.PRNGKey(2), p.shape), params)
  apply = jax.jit(fn.apply)
  return lambda batch: [np.asarray(x) for x in apply(params, None, batch)]


def _run(embed, batch):
  return embed(batch)


def _move(batch, rot, shift, residues):
  moved = dict(batch)
  pos = batch['template_all_atom_positions'].copy()
  pos[:, residues] = pos[:, residues] @ rot.T + shift
  moved['template_all_atom_positions'] = pos * batch['template_all_atom_mask'][..., None]
  return moved


def test_rigid_motion_of_the_template_changes_nothing(embed, templates):
  rng = np.random.default_rng(0)
  before = _run(embed, templates)
  after = _run(embed, _move(templates, _random_rotation(rng), rng.normal(size=3) * 10,
                            slice(None)))
  for a, b in zip(before, after):
    np.testing.assert_allclose(a, b, atol=2e-4, rtol=1e-4)


def test_moving_one_chain_of_the_template_changes_nothing(embed, templates):
  """Templates are per chain: features between chains are masked out."""
  rng = np.random.default_rng(1)
  before = _run(embed, templates)
  after = _run(embed, _move(templates, _random_rotation(rng), rng.normal(size=3) * 10,
                            slice(CHAIN_A, None)))
  for a, b in zip(before, after):
    np.testing.assert_allclose(a, b, atol=2e-4, rtol=1e-4)


def test_moving_residues_within_a_chain_changes_the_embedding(embed, templates):
  before = _run(embed, templates)
  after = _run(embed, _move(templates, np.eye(3), np.array([3., 0., 0.]), slice(0, 2)))
  assert np.abs(before[0] - after[0]).max() > 1e-3


def test_template_rows_are_masked_by_chi1(embed, templates):
  _, _, row_mask = _run(embed, templates)
  aatype = templates['template_aatype'][0]
  chi1_atoms = residue_constants.chi_atom_indices[aatype, 0]  # [N, 4]
  mask = templates['template_all_atom_mask'][0]
  atoms_present = np.take_along_axis(mask, chi1_atoms, axis=1).prod(-1)
  has_chi1 = np.asarray(residue_constants.chi_angles_mask)[aatype][:, 0]
  np.testing.assert_array_equal(row_mask[0], has_chi1 * atoms_present)
  assert 0 < row_mask[0].sum() < NUM_RES
  np.testing.assert_array_equal(row_mask[1], 0.)
