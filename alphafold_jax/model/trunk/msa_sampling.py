"""In-model MSA sampling and features of AlphaFold-Multimer (Evans et al.
2021, section 2.3; Suppl. 1.2.7 and 1.11.3 of AlphaFold2 for the monomer's
in-pipeline equivalents).

The multimer model gets the whole (paired, padded) MSA and, in every
recycling iteration, draws its own sample: cluster centres by Gumbel
sampling (`sample_msa`), BERT masking of the centres (`make_masked_msa`),
the assignment of the remaining rows to their nearest centre
(`nearest_neighbor_clusters`) and the resulting features. Shapes: S MSA rows,
N residues; after sampling S_c centres and S_e extra rows.
"""
import jax
import jax.numpy as jnp
import numpy as np

# 20 amino acids, unknown, gap; the BERT mask token makes 23.
_NUM_MSA_CLASSES = 22
_NUM_MSA_FEAT_CLASSES = 23


def mask_mean(mask, value, axis, eps=1e-10):
  """Mean of `value` over `axis` where `mask`; mask may broadcast on an axis."""
  broadcast = 1.
  for a in [axis] if isinstance(axis, int) else axis:
    if mask.shape[a] == 1:
      broadcast *= value.shape[a]
  return (jnp.sum(mask * value, axis=axis) /
          (jnp.sum(mask, axis=axis) * broadcast + eps))


def padding_consistent_uniform(key, shape, dtype=jnp.float32):
  """Uniform [0, 1) noise where element (i, j, ...) is drawn from the key
  folded with i, then j, ...: the value at an index does not depend on the
  array's size, so padding leaves the draws of real rows unchanged."""
  def grid(key, shape):
    if not shape:
      return jax.random.uniform(key, (), dtype=dtype)
    keys = jax.vmap(lambda i: jax.random.fold_in(key, i))(jnp.arange(shape[0]))
    return jax.vmap(lambda k: grid(k, shape[1:]))(keys)
  return grid(key, tuple(shape))


def gumbel_noise(key, shape):
  """Gumbel(0, 1) noise (float32, as the reference draws it)."""
  epsilon = 1e-6
  uniform = padding_consistent_uniform(key, shape, jnp.float32)
  return -jnp.log(-jnp.log(uniform + epsilon) + epsilon)


def gumbel_max_sample(key, logits):
  """One-hot sample of the categorical with these logits (last axis)."""
  z = gumbel_noise(key, logits.shape)
  return jax.nn.one_hot(jnp.argmax(logits + z, axis=-1), logits.shape[-1],
                        dtype=logits.dtype)


def gumbel_argsort_sample_idx(key, logits):
  """A random order of the last axis, without replacement, in proportion to
  exp(logits): indices sorted by decreasing logits + Gumbel noise."""
  z = gumbel_noise(key, logits.shape)
  iota = jax.lax.broadcasted_iota(jnp.int32, logits.shape, logits.ndim - 1)
  _, perm = jax.lax.sort_key_val(logits + z, iota, dimension=-1, is_stable=False)
  return perm[..., ::-1]


def make_msa_profile(batch):
  """[N, 22]: the residue distribution of each column over the masked MSA."""
  one_hot = jax.nn.one_hot(batch['msa'], _NUM_MSA_CLASSES,
                           dtype=batch['msa_mask'].dtype)
  return mask_mean(batch['msa_mask'][:, :, None], one_hot, axis=0)


def sample_msa(key, batch, max_seq: int):
  """Draws `max_seq` cluster centres; the other rows become the extra MSA.

  Rows with no residue are drawn last; rows in `cluster_bias_mask` (the
  query rows) first. Returns a new batch with msa, deletion_matrix,
  msa_mask, bert_mask [S_c, N] and their `extra_` counterparts [S_e, N].
  """
  batch = dict(batch)
  logits = (jnp.clip(jnp.sum(batch['msa_mask'], axis=-1), 0., 1.) - 1.) * 1e6
  if 'cluster_bias_mask' in batch:
    cluster_bias_mask = batch['cluster_bias_mask']
  else:
    cluster_bias_mask = jnp.pad(jnp.zeros(batch['msa'].shape[0] - 1), (1, 0),
                                constant_values=1.)
  logits = logits + cluster_bias_mask * 1e6
  order = gumbel_argsort_sample_idx(key, logits)
  selected, extra = order[:max_seq], order[max_seq:]
  for k in ('msa', 'deletion_matrix', 'msa_mask', 'bert_mask'):
    if k in batch:
      batch['extra_' + k] = batch[k][extra]
      batch[k] = batch[k][selected]
  return batch


def make_masked_msa(batch, key, config, epsilon=1e-6):
  """BERT-style masking of the cluster centres (Suppl. 1.2.7).

  Each residue of the MSA is chosen with probability
  `replace_fraction` and replaced by a uniform residue, a profile draw, the
  same residue or the mask token, with the probabilities of `config`.
  Returns a new batch with the masked msa, `true_msa` and the chosen
  positions as `bert_mask`. Draws with `key` split in three (the first part
  unused), the second for the positions and the third for the replacements.
  """
  batch = dict(batch)
  dtype = batch['msa_profile'].dtype
  random_aa = jnp.array([0.05] * 20 + [0., 0.], dtype=jnp.float32)
  categorical_probs = (
      config.uniform_prob * random_aa +
      config.profile_prob * batch['msa_profile'] +
      config.same_prob * jax.nn.one_hot(batch['msa'], _NUM_MSA_CLASSES, dtype=dtype))
  mask_prob = 1. - config.profile_prob - config.same_prob - config.uniform_prob
  if mask_prob < 0.:
    raise ValueError('masked_msa: profile_prob + same_prob + uniform_prob '
                     f'exceed 1 ({1. - mask_prob})')
  categorical_probs = jnp.pad(
      categorical_probs, [(0, 0)] * (categorical_probs.ndim - 1) + [(0, 1)],
      constant_values=mask_prob)
  _, position_key, replace_key = jax.random.split(key, 3)
  # Drawn in float32 whatever the compute dtype, so that a float64 run
  # masks the same positions as a float32 one.
  mask_position = (padding_consistent_uniform(position_key, batch['msa'].shape,
                                              jnp.float32)
                   < config.replace_fraction)
  mask_position = mask_position * batch['msa_mask']
  logits = jnp.log(categorical_probs + epsilon)
  replacement = jnp.argmax(gumbel_max_sample(replace_key, logits), axis=-1)
  bert_msa = jnp.where(mask_position, replacement, batch['msa'])
  # Rows and residues outside msa_mask become residue 0; the product of
  # integers and a 0/1 mask stays an integer.
  bert_msa = (bert_msa * batch['msa_mask']).astype(batch['msa'].dtype)
  batch['bert_mask'] = batch['bert_mask'] * mask_position.astype(jnp.float32)
  batch['true_msa'] = batch['msa']
  batch['msa'] = bert_msa
  return batch


def nearest_neighbor_clusters(batch, gap_agreement_weight=0.):
  """Assigns each extra row (softly) to the centre it agrees with most
  (Suppl. 1.2.7, 'cluster' features).

  Agreement counts equal residues, gaps weighted by gap_agreement_weight and
  mask tokens not at all. As in the released model, an extra row's soft
  assignment is scaled by the number of residues it shares with the centre
  (both masks set), and the centre itself counts once.

  Returns the cluster profile [S_c, N, 23] and the mean deletion count
  [S_c, N] of each centre with its assigned rows.
  """
  weights = jnp.array([1.] * 21 + [gap_agreement_weight] + [0.], dtype=jnp.float32)
  msa_mask = batch['msa_mask']
  msa_one_hot = jax.nn.one_hot(batch['msa'], _NUM_MSA_FEAT_CLASSES, dtype=msa_mask.dtype)
  extra_mask = batch['extra_msa_mask']
  extra_one_hot = jax.nn.one_hot(batch['extra_msa'], _NUM_MSA_FEAT_CLASSES,
                                 dtype=extra_mask.dtype)
  msa_one_hot_masked = msa_mask[:, :, None] * msa_one_hot
  extra_one_hot_masked = extra_mask[:, :, None] * extra_one_hot
  # [S_c, S_e]
  agreement = jnp.einsum('mrc,nrc->nm', extra_one_hot_masked,
                         weights * msa_one_hot_masked)
  cluster_assignment = jax.nn.softmax(1e3 * agreement, axis=0)
  cluster_assignment = cluster_assignment * jnp.einsum('mr,nr->mn', msa_mask,
                                                      extra_mask)
  # Each centre counts itself.
  cluster_count = jnp.sum(cluster_assignment, axis=-1) + 1.
  msa_sum = jnp.einsum('nm,mrc->nrc', cluster_assignment, extra_one_hot_masked)
  msa_sum = msa_sum + msa_one_hot_masked
  cluster_profile = msa_sum / cluster_count[:, None, None]
  del_sum = jnp.einsum('nm,mc->nc', cluster_assignment,
                       extra_mask * batch['extra_deletion_matrix'])
  del_sum = del_sum + batch['deletion_matrix']
  cluster_deletion_mean = del_sum / cluster_count[:, None]
  return cluster_profile, cluster_deletion_mean


def _deletion_value(d):
  return (jnp.arctan(d / 3.) * (2. / np.pi))[..., None]


def create_msa_feat(batch):
  """[S_c, N, 49]: residue (23), has-deletion, deletion value, cluster
  profile (23) and cluster deletion mean of each centre (Suppl. Table 1)."""
  deletion_matrix = batch['deletion_matrix']
  return jnp.concatenate([
      jax.nn.one_hot(batch['msa'], _NUM_MSA_FEAT_CLASSES, dtype=deletion_matrix.dtype),
      jnp.clip(deletion_matrix, 0., 1.)[..., None],
      _deletion_value(deletion_matrix),
      batch['cluster_profile'],
      _deletion_value(batch['cluster_deletion_mean'])], axis=-1)


def create_extra_msa_feature(batch, num_extra_msa: int):
  """The first `num_extra_msa` extra rows: features [S_e, N, 25] (residue,
  has-deletion, deletion value) and their mask [S_e, N]."""
  extra_msa = batch['extra_msa'][:num_extra_msa]
  deletion_matrix = batch['extra_deletion_matrix'][:num_extra_msa]
  features = jnp.concatenate([
      jax.nn.one_hot(extra_msa, _NUM_MSA_FEAT_CLASSES, dtype=deletion_matrix.dtype),
      jnp.clip(deletion_matrix, 0., 1.)[..., None],
      _deletion_value(deletion_matrix)], axis=-1)
  return features, batch['extra_msa_mask'][:num_extra_msa]
