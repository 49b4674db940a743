"""Relative chain and position features of AlphaFold-Multimer."""
import jax.numpy as jnp
import ml_collections
import numpy as np

from alphafold_jax.model.trunk.embeddings_multimer import relative_features

CONFIG = ml_collections.ConfigDict({'max_relative_idx': 3, 'max_relative_chain': 1,
                                    'use_chain_relative': True})


def _complex():
  """A homodimer (entity 1, copies 1 and 2) and another entity: chains of
  5, 5 and 4 residues, residues numbered per chain."""
  lengths, entity, sym = [5, 5, 4], [1, 1, 2], [1, 2, 1]
  return {
      'residue_index': np.concatenate([np.arange(n) for n in lengths]),
      'asym_id': np.repeat([1., 2., 3.], lengths),
      'entity_id': np.repeat(np.asarray(entity, float), lengths),
      'sym_id': np.repeat(np.asarray(sym, float), lengths),
  }


def test_features_encode_position_chain_and_copy():
  batch = _complex()
  feat = np.asarray(relative_features(batch, CONFIG, jnp.float32))
  r, s = 3, 1
  assert feat.shape == (14, 14, (2 * r + 2) + 1 + (2 * s + 2))
  assert np.all(feat.sum(-1) == 2 + (feat[..., 2 * r + 2] > 0))
  pos_class = feat[..., :2 * r + 2].argmax(-1)
  same_entity = feat[..., 2 * r + 2]
  chain_class = feat[..., 2 * r + 3:].argmax(-1)
  asym, idx = batch['asym_id'], batch['residue_index']
  for i in range(14):
    for j in range(14):
      if asym[i] == asym[j]:
        assert pos_class[i, j] == np.clip(idx[i] - idx[j] + r, 0, 2 * r)
      else:
        assert pos_class[i, j] == 2 * r + 1
  # Chains 1 and 2 are copies of one entity; chain 3 is another.
  assert same_entity[0, 7] == 1 and same_entity[0, 12] == 0
  assert chain_class[0, 7] == -1 + s and chain_class[7, 0] == 1 + s
  assert chain_class[0, 1] == s
  assert chain_class[0, 12] == 2 * s + 1 and chain_class[12, 7] == 2 * s + 1


def test_without_chain_features_positions_run_across_chains():
  batch = _complex()
  config = ml_collections.ConfigDict({**CONFIG.to_dict(), 'use_chain_relative': False})
  feat = np.asarray(relative_features(batch, config, jnp.float32))
  assert feat.shape == (14, 14, 7)
  # Residue 0 of chain 1 and residue 0 of chain 2 look like the same residue.
  assert feat[0, 5].argmax() == 3
