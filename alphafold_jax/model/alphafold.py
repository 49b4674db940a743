"""The AlphaFold2 monomer model: recycling around one network pass (Suppl. Alg. 2)."""
import haiku as hk
import jax
import jax.numpy as jnp

from alphafold_jax.common import residue_constants
from alphafold_jax.model import heads as heads_lib
from alphafold_jax.model.layers.linear import float32_if_bfloat16
from alphafold_jax.model.structure.structure_module import StructureModule
from alphafold_jax.model.trunk.embeddings import EmbeddingsAndEvoformer

HEADS = {
    'masked_msa': heads_lib.MaskedMsaHead,
    'distogram': heads_lib.DistogramHead,
    'structure_module': StructureModule,
    'predicted_lddt': heads_lib.PredictedLDDTHead,
    'predicted_aligned_error': heads_lib.PredictedAlignedErrorHead,
    'experimentally_resolved': heads_lib.ExperimentallyResolvedHead,
}
# These read the structure module's outputs, so they run after it.
_AFTER_STRUCTURE = ('predicted_lddt', 'predicted_aligned_error')
# A bfloat16 trunk's representations kept in bfloat16 (see
# AlphaFoldIteration); the others go to float32 for the structure module.
_KEPT_IN_BFLOAT16 = ('pair', 'msa', 'msa_first_row')


def _head_losses(name, ret, batch, head_config):
  from alphafold_jax import losses  # pylint: disable=g-import-not-at-top
  value = ret if name in losses.TAKES_ALL_OUTPUTS else ret[name]
  return losses.HEAD_LOSSES[name](value, batch, head_config)


class AlphaFoldIteration(hk.Module):
  """One pass of the network over one recycling iteration's features.

  `ensembled_batch` features carry a leading ensemble axis; the trunk runs on
  each ensemble member and its single and pair outputs are averaged
  (Suppl. 1.11.2; the MSA outputs are those of the first member).
  """

  def __init__(self, config, global_config, name='alphafold_iteration'):
    super().__init__(name=name)
    self.config = config
    self.global_config = global_config

  def __call__(self, ensembled_batch, non_ensembled_batch, is_training,
               compute_loss=False, ensemble_representations=False):
    gc = self.global_config
    num_ensemble = ensembled_batch['aatype'].shape[0]
    if not ensemble_representations and num_ensemble != 1:
      raise ValueError('Without ensemble_representations the batch slice for '
                       f'one recycling iteration must hold 1 entry, not {num_ensemble}.')
    bfloat16 = gc.get('bfloat16', False)

    def member(i):
      b = {k: v[i] for k, v in ensembled_batch.items()}
      b.update(non_ensembled_batch)
      return b

    def trunk_inputs(b):
      if not bfloat16:
        return b
      # The trunk's dtype follows msa_feat; positions stay in float32.
      return {**b, 'msa_feat': b['msa_feat'].astype(jnp.bfloat16)}

    evoformer = EmbeddingsAndEvoformer(self.config.embeddings_and_evoformer, gc)
    batch = member(0)
    representations = evoformer(trunk_inputs(batch), is_training)
    msa = representations.pop('msa')
    if ensemble_representations:
      def body(x):
        i, current = x
        update = evoformer(trunk_inputs(member(i)), is_training)
        return i + 1, {k: current[k] + update[k] for k in current}

      if hk.running_init():
        _, representations = body((1, representations))
      else:
        _, representations = hk.while_loop(lambda x: x[0] < num_ensemble, body,
                                           (1, representations))
      representations = {k: v / jnp.asarray(num_ensemble, v.dtype)
                         for k, v in representations.items()}
    representations['msa'] = msa
    if bfloat16:
      # The pair and MSA representations stay in bfloat16 (also in the
      # recycling carry); their users cast them (float32_if_bfloat16).
      representations = {
          k: v if k in _KEPT_IN_BFLOAT16 else v.astype(jnp.float32)
          for k, v in representations.items()}

    ret = {'representations': representations}
    total_loss = 0.
    head_items = sorted((name, cfg) for name, cfg in self.config.heads.items()
                        if cfg.weight)  # zero-weight heads are not built
    order = ([h for h in head_items if h[0] not in _AFTER_STRUCTURE] +
             [h for h in head_items if h[0] in _AFTER_STRUCTURE])
    for name, head_config in order:
      out = HEADS[name](head_config, gc)(representations, batch, is_training)
      if 'representations' in out:
        out = dict(out)
        representations.update(out.pop('representations'))
      ret[name] = out
      if compute_loss:
        loss_out = _head_losses(name, ret, batch, head_config)
        ret[name] = {**out, **loss_out}
        total_loss = total_loss + head_config.weight * loss_out['loss']
    if compute_loss:
      return ret, total_loss
    return ret


class AlphaFold(hk.Module):
  """AlphaFold2 with recycling (Suppl. Alg. 2, 1.10).

  batch: features with a leading axis of num_ensemble × (num_recycle + 1)
  when `resample_msa_in_recycling` (one slice per recycling iteration), else
  num_ensemble. The number of recycling iterations is
  `batch['num_iter_recycling'][0]` when given (training draws it at random),
  else `config.num_recycle`. Earlier iterations run without gradient; only
  the last one is differentiated and, with compute_loss, scored. With
  `config.recycle_early_stop_tolerance` > 0 recycling stops once the mean
  Cα movement between iterations falls below it (Angstrom); `num_recycles`
  in the outputs says how many ran.
  Returns the outputs, or (outputs, total_loss) when compute_loss.
  """

  def __init__(self, config, name='alphafold'):
    super().__init__(name=name)
    self.config = config
    self.global_config = config.global_config

  def __call__(self, batch, is_training, compute_loss=False,
               ensemble_representations=False, return_representations=False):
    c = self.config
    iteration = AlphaFoldIteration(c, self.global_config)
    batch_size, num_res = batch['aatype'].shape
    emb = c.embeddings_and_evoformer
    dtype = jnp.float64 if batch['msa_feat'].dtype == jnp.float64 else jnp.float32

    def do_call(prev, recycle_idx, compute_loss):
      if c.resample_msa_in_recycling:
        num_ensemble = batch_size // (c.num_recycle + 1)
        ensembled = jax.tree_util.tree_map(
            lambda x: jax.lax.dynamic_slice_in_dim(x, recycle_idx * num_ensemble,
                                                   num_ensemble, axis=0), batch)
      else:
        ensembled = batch
      return iteration(ensembled, prev, is_training, compute_loss=compute_loss,
                       ensemble_representations=ensemble_representations)

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
      # As the representations they stand for: bfloat16 for a bfloat16 trunk.
      trunk_dtype = (jnp.bfloat16 if self.global_config.get('bfloat16', False)
                     and dtype == jnp.float32 else dtype)
      prev['prev_msa_first_row'] = jnp.zeros((num_res, emb.msa_channel),
                                             trunk_dtype)
      prev['prev_pair'] = jnp.zeros((num_res, num_res, emb.pair_channel),
                                    trunk_dtype)

    num_iter = 0
    if c.num_recycle:
      num_iter = c.num_recycle
      if 'num_iter_recycling' in batch:
        num_iter = jnp.minimum(batch['num_iter_recycling'][0], c.num_recycle)
    tolerance = c.get('recycle_early_stop_tolerance', 0.) if emb.recycle_pos else 0.
    seq_mask = batch['seq_mask'][0]
    ca = residue_constants.atom_order['CA']

    def change_since(new_pos, old_pos):
      """Mean Cα movement between two iterations, for the early stop."""
      if not tolerance:
        return jnp.asarray(jnp.inf, dtype)
      moved = jnp.sqrt(jnp.sum(jnp.square(new_pos[:, ca] - old_pos[:, ca]), axis=-1))
      return jnp.asarray(
          jnp.sum(moved * seq_mask) / jnp.maximum(jnp.sum(seq_mask), 1.), dtype)

    if c.num_recycle and not (is_training or compute_loss or hk.running_init()):
      outputs, num_iter = self._recycle_in_one_loop(
          do_call, get_prev, prev, num_iter, tolerance, change_since,
          jnp.asarray(jnp.inf, dtype), return_representations)
    else:
      if c.num_recycle:
        def body(x):
          i, p, _ = x
          new = get_prev(do_call(p, i, compute_loss=False))
          return i + 1, new, change_since(new['prev_pos'], p['prev_pos'])

        start = (0, prev, jnp.asarray(jnp.inf, dtype))
        if hk.running_init():
          num_iter, prev, _ = body(start)
        else:
          num_iter, prev, _ = hk.while_loop(
              lambda x: (x[0] < num_iter) & (x[2] > tolerance), body, start)
      ret = do_call(prev, num_iter, compute_loss)
      outputs = dict(ret[0] if compute_loss else ret)
    outputs['num_recycles'] = jnp.asarray(num_iter, jnp.int32)
    if return_representations:
      outputs['representations'] = {
          k: float32_if_bfloat16(v)
          for k, v in outputs['representations'].items()}
    else:
      outputs = {k: v for k, v in outputs.items() if k != 'representations'}
    return (outputs, ret[1]) if compute_loss else outputs

  def _recycle_in_one_loop(self, do_call, get_prev, prev, num_iter, tolerance,
                           change_since, no_change, return_representations):
    """Inference: every iteration, the last one included, in one while loop.

    The carry holds the latest iteration's outputs (zeros before the first),
    and the recycled values are read from them, so the pair representation
    is held once and one loop body's buffers serve every iteration; a last
    iteration outside the loop would need buffers of its own. The
    iterations and the early stop are those of the two-part form in
    __call__: iteration i is the last when i reaches `num_iter` or the
    previous iteration moved the Cα atoms by no more than `tolerance`.
    Returns (outputs, index of the last iteration).
    """
    needed = ('msa_first_row', 'pair')

    def kept(ret):
      if return_representations:
        return ret
      return {**ret, 'representations': {k: ret['representations'][k]
                                         for k in needed}}

    def recycled(ret):
      return {k: v for k, v in get_prev(ret).items() if k in prev}

    def body(x):
      i, ret, change, _ = x
      last = (i >= num_iter) | (change <= tolerance)
      new = kept(do_call(recycled(ret), i, compute_loss=False))
      return (i + 1, new, change_since(
          new['structure_module']['final_atom_positions'],
          ret['structure_module']['final_atom_positions']), last)

    shapes = hk.eval_shape(lambda: kept(do_call(prev, 0, compute_loss=False)))
    zeros = jax.tree_util.tree_map(lambda s: jnp.zeros(s.shape, s.dtype), shapes)
    start = (0, zeros, no_change, jnp.asarray(False))
    count, outputs, _, _ = hk.while_loop(lambda x: ~x[3], body, start)
    return dict(outputs), count - 1
