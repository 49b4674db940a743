"""AlphaFold-Multimer: recycling around one network pass, with the MSA
sampled inside the model (Evans et al. 2021; Suppl. Alg. 2 otherwise)."""
import haiku as hk
import jax
import jax.numpy as jnp

from alphafold_jax.common import residue_constants
from alphafold_jax.model import heads as heads_lib
from alphafold_jax.model.structure.structure_module_multimer import StructureModule
from alphafold_jax.model.trunk.embeddings_multimer import EmbeddingsAndEvoformer

HEADS = {
    'masked_msa': heads_lib.MaskedMsaHead,
    'distogram': heads_lib.DistogramHead,
    'structure_module': StructureModule,
    'predicted_lddt': heads_lib.PredictedLDDTHead,
    'predicted_aligned_error': heads_lib.PredictedAlignedErrorHead,
    'experimentally_resolved': heads_lib.ExperimentallyResolvedHead,
}
# The confidence heads run after the structure module, in this order.
_CONFIDENCE_HEADS = ('predicted_lddt', 'experimentally_resolved',
                     'predicted_aligned_error')


class AlphaFoldIteration(hk.Module):
  """One pass of the network. The trunk runs `num_ensemble_eval` times
  (each with its own MSA sample) and its single and pair outputs are
  averaged; the MSA outputs are the last sample's."""

  def __init__(self, config, global_config, name='alphafold_iteration'):
    super().__init__(name=name)
    self.config = config
    self.global_config = global_config

  def __call__(self, batch, is_training, key, compute_loss=False):
    c = self.config
    gc = self.global_config
    num_ensemble = (c.get('num_ensemble_train', 1) if is_training
                    else c.num_ensemble_eval)
    evoformer = EmbeddingsAndEvoformer(c.embeddings_and_evoformer, gc)

    representations = None
    for _ in range(num_ensemble):
      key, subkey = jax.random.split(key)
      update = dict(evoformer(batch, is_training, subkey))
      # The last sample's MSA targets go with its MSA representation.
      msa_targets = {k: update.pop(k) for k in ('true_msa', 'bert_mask')}
      if representations is None:
        representations = {k: jnp.zeros_like(v) for k, v in update.items()}
      representations = {
          k: (update[k] if k == 'msa' else
              representations[k] + update[k] * jnp.asarray(1. / num_ensemble,
                                                            update[k].dtype))
          for k in update}

    ret = {'representations': representations}
    active = {name: cfg for name, cfg in self.config.heads.items() if cfg.weight}
    for name in sorted(active):
      if name in _CONFIDENCE_HEADS:
        continue
      out = dict(HEADS[name](active[name], gc)(representations, batch, is_training))
      if 'representations' in out:
        representations.update(out.pop('representations'))
      ret[name] = out
    for name in _CONFIDENCE_HEADS:
      if name in active:
        ret[name] = dict(HEADS[name](active[name], gc)(representations, batch,
                                                       is_training))
    if 'predicted_aligned_error' in ret:
      # For ipTM: which chain each residue belongs to.
      ret['predicted_aligned_error']['asym_id'] = batch['asym_id']
    if not compute_loss:
      return ret
    from alphafold_jax import losses  # pylint: disable=g-import-not-at-top
    loss_batch = {**batch, **msa_targets}
    total, head_losses = losses.multimer_total_loss(
        ret, loss_batch, active, c.get('align_chains', True))  # fixture configs lack it
    for name, loss_out in head_losses.items():
      ret[name] = {**ret[name], **loss_out}
    return ret, total


class AlphaFoldMultimer(hk.Module):
  """AlphaFold-Multimer with recycling.

  batch: the processed example (no leading ensemble axis): aatype [N],
  residue_index, asym_id, entity_id, sym_id, seq_mask [N]; msa,
  deletion_matrix, msa_mask, bert_mask [S, N]; cluster_bias_mask [S];
  template_aatype [T, N], template_all_atom_positions [T, N, 37, 3],
  template_all_atom_mask [T, N, 37]. The MSA sampling of every iteration
  draws from `hk.next_rng_key()` (the key given to `apply`), split as the
  reference splits it. Recycling runs `config.num_recycle` iterations
  (`batch['num_iter_recycling']` can lower it) and stops early once the
  Cα distance map moves by less than `config.recycle_early_stop_tolerance`
  Å (root mean square); `num_recycles` says how many ran.
  With compute_loss (the batch then also holds the ground truth of
  data/supervised.py, per residue, and `resolution`), the last iteration is
  scored by losses.multimer_total_loss (after matching the truth's copies
  of homomeric chains to the prediction's, unless config.align_chains is
  False) and (outputs, total_loss) is
  returned; each head's loss dict is merged into its outputs. Earlier
  iterations run without gradient.
  """

  def __init__(self, config, name='alphafold'):
    super().__init__(name=name)
    self.config = config
    self.global_config = config.global_config

  def __call__(self, batch, is_training, compute_loss=False,
               return_representations=False):
    c = self.config
    emb = c.embeddings_and_evoformer
    iteration = AlphaFoldIteration(c, self.global_config)
    key = hk.next_rng_key()
    num_res = batch['aatype'].shape[0]
    dtype = batch['msa_mask'].dtype
    if not jnp.issubdtype(dtype, jnp.floating):
      dtype = jnp.float32

    def apply_network(prev, key):
      return iteration({**batch, **prev}, is_training, key)

    def get_prev(ret):
      return jax.lax.stop_gradient({
          'prev_pos': ret['structure_module']['final_atom_positions'],
          'prev_msa_first_row': ret['representations']['msa_first_row'],
          'prev_pair': ret['representations']['pair'],
      })

    prev = {}
    if emb.recycle_pos:
      prev['prev_pos'] = jnp.zeros((num_res, residue_constants.atom_type_num, 3), dtype)
    if emb.recycle_features:
      prev['prev_msa_first_row'] = jnp.zeros((num_res, emb.msa_channel), dtype)
      prev['prev_pair'] = jnp.zeros((num_res, num_res, emb.pair_channel), dtype)

    num_recycles = 0
    if c.num_recycle:
      num_iter = c.num_recycle
      if 'num_iter_recycling' in batch:
        num_iter = jnp.minimum(jnp.reshape(batch['num_iter_recycling'], (-1,))[0],
                               c.num_recycle)
      tolerance = c.get('recycle_early_stop_tolerance', 0.)
      ca = residue_constants.atom_order['CA']
      mask_2d = batch['seq_mask'][:, None] * batch['seq_mask'][None, :]

      def distances(points):
        return jnp.sqrt(jnp.sum(jnp.square(points[:, None] - points[None, :]), axis=-1))

      def body(x):
        i, _, prev, key = x
        if c.resample_msa_in_recycling:
          key, subkey = jax.random.split(key)
        else:
          subkey = key
        return i + 1, prev, get_prev(apply_network(prev, subkey)), key

      def cond(x):
        i, prev, new, _ = x
        sq_diff = jnp.square(distances(prev['prev_pos'][:, ca]) -
                             distances(new['prev_pos'][:, ca]))
        diff = jnp.sqrt(jnp.sum(mask_2d * sq_diff) / (jnp.sum(mask_2d) + 1e-10) + 1e-8)
        return (i < num_iter) & ((i == 0) | (diff > tolerance))

      start = (0, prev, prev, key)
      if hk.running_init():
        num_recycles, _, prev, key = body(start)
      else:
        num_recycles, _, prev, key = hk.while_loop(cond, body, start)

    ret = iteration({**batch, **prev}, is_training, key, compute_loss)
    if compute_loss:
      ret, total_loss = ret
    ret['num_recycles'] = jnp.asarray(num_recycles, jnp.int32)
    if not return_representations:
      del ret['representations']
    return (ret, total_loss) if compute_loss else ret
