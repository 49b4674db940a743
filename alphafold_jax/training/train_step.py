"""The training step (Suppl. 1.11.3): per-example gradients of the loss scaled
by sqrt(N_res), each clipped to a global norm, averaged, applied by Adam; the
EMA follows. A step whose loss or gradient is not finite changes nothing but
the step count, the RNG and the skip counter.
"""
from __future__ import annotations

from typing import Callable, Dict, Mapping, Tuple

import haiku as hk
import jax
import jax.numpy as jnp
import ml_collections
import optax

from alphafold_jax.common import residue_constants
from alphafold_jax.losses.chain_permutation import align_truth_to_prediction
from alphafold_jax.losses.lddt import lddt
from alphafold_jax.model import AlphaFold
from alphafold_jax.model import AlphaFoldMultimer
from alphafold_jax.training import complex_metrics
from alphafold_jax.training import optimizer as optimizer_lib
from alphafold_jax.training.train_state import TrainState
from alphafold_jax.training.train_state import ema_update

Batch = Mapping[str, jax.Array]
Metrics = Dict[str, jax.Array]
_CA = residue_constants.atom_order['CA']
# Terms of the structure module's loss logged beside its total.
_STRUCTURE_TERMS = ('fape', 'sidechain_fape', 'chi_loss', 'angle_norm_loss',
                    # AlphaFold-Multimer's
                    'intra_chain_fape', 'interface_fape',
                    'chain_centre_mass_loss')
# Metrics averaged over the examples that have them: metric -> its weight
# (0 or 1 per example).
_WEIGHTED = {'lddt_ca': 'lddt_ca_weight',
             # AlphaFold-Multimer's (complex_metrics.py)
             'interface_lddt': 'interface_lddt_weight',
             'dockq': 'dockq_weight'}


def make_model(model_config: ml_collections.ConfigDict) -> hk.Transformed:
  """The network in training mode: (params, rng, example) -> (outputs, loss).

  `example` has the leading num_ensemble × (num_recycle + 1) axis of
  `process_features(mode='train')`; dropout draws from the rng. With
  `global_config.multimer_mode` the network is AlphaFold-Multimer and the
  example has no such axis (the model samples its MSA itself).
  """
  if model_config.global_config.get('multimer_mode', False):
    def forward(example):
      return AlphaFoldMultimer(model_config)(example, is_training=True,
                                             compute_loss=True)
  else:
    def forward(example):
      return AlphaFold(model_config)(example, is_training=True,
                                     compute_loss=True)
  return hk.transform(forward)


def _per_residue(example: Batch, key: str, rank: int) -> jax.Array:
  """A per-residue feature of `rank` axes ([N_res, ...]) without the
  monomer's leading recycling axis (multimer examples have none)."""
  value = example[key]
  return value[0] if value.ndim == rank + 1 else value


def _resolved_ca(example: Batch) -> jax.Array:
  """1 for the crop's residues whose true Cα is resolved, [N_res]."""
  return (_per_residue(example, 'all_atom_mask', 2)[:, _CA] *
          _per_residue(example, 'seq_mask', 1))


def lddt_ca(outputs: Mapping, example: Batch) -> jax.Array:
  """lDDT-Cα (Suppl. 1.9.6) of the final structure against the truth, ()."""
  predicted = outputs['structure_module']['final_atom_positions'][:, _CA]
  true = _per_residue(example, 'all_atom_positions', 3)[:, _CA]
  mask = _resolved_ca(example)
  return lddt(predicted[None], true[None], mask[None, :, None])[0]


def example_metrics(outputs: Mapping, example: Batch) -> Metrics:
  """Every head's loss, the structure module's terms and violation metrics,
  and lDDT-Cα, as scalars keyed for logging."""
  metrics = {}
  for head, value in outputs.items():
    if not isinstance(value, Mapping) or 'loss' not in value:
      continue
    metrics[f'{head}_loss'] = value['loss']
    if head == 'structure_module':
      metrics.update({k: value[k] for k in _STRUCTURE_TERMS if k in value})
      metrics.update({f'violations/{k}': v
                      for k, v in value.get('metrics', {}).items()
                      if jnp.ndim(v) == 0})
  metrics['lddt_ca'] = lddt_ca(outputs, example)
  # Examples with no resolved Cα (e.g. fully masked distillation
  # predictions) have no lDDT; they are left out of the batch's mean.
  metrics[_WEIGHTED['lddt_ca']] = jnp.any(_resolved_ca(example) > 0).astype(
      metrics['lddt_ca'].dtype)
  return metrics


def multimer_example_metrics(outputs: Mapping, example: Batch,
                             align_chains: bool = True) -> Metrics:
  """`example_metrics` of an AlphaFold-Multimer example plus interface lDDT
  and DockQ of the crop (complex_metrics.py), all against the truth with
  its homomeric copies matched to the prediction (as the losses see it)
  unless align_chains is False."""
  if align_chains:
    example = align_truth_to_prediction(jax.lax.stop_gradient(
        outputs['structure_module']['final_atom_positions']), example)
  metrics = example_metrics(outputs, example)
  metrics.update(complex_metrics.complex_metrics(outputs, example,
                                                 align_chains=False))
  return metrics


def mean_over_examples(metrics: Metrics) -> Metrics:
  """Per-example metrics [B] (from `example_metrics`) -> batch scalars;
  lDDT-Cα (and the multimer's interface lDDT and DockQ) average the
  examples that have one only, and are NaN (logged as "nan") when none
  has."""
  metrics = dict(metrics)
  weighted = {}
  for key, weight_key in _WEIGHTED.items():
    if key in metrics:
      weight = metrics.pop(weight_key)
      weighted[key] = jnp.sum(metrics.pop(key) * weight) / jnp.sum(weight)
  metrics = {k: jnp.mean(v) for k, v in metrics.items()}
  metrics.update(weighted)
  return metrics


def num_residues(example: Batch) -> jax.Array:
  """Residues in the crop (padding excluded), ()."""
  return jnp.sum(_per_residue(example, 'seq_mask', 1))


def _per_example_norm(grads) -> jax.Array:
  """Global L2 norm of each example's gradient, [B]."""
  squares = [jnp.sum(jnp.square(g), axis=tuple(range(1, g.ndim)))
             for g in jax.tree_util.tree_leaves(grads)]
  return jnp.sqrt(sum(squares))


def _clip_and_average(grads, norms: jax.Array, clip_norm: float):
  """Scales example i's gradient by min(1, clip / norm_i), then averages."""
  scale = jnp.minimum(1., clip_norm / norms)
  return jax.tree_util.tree_map(
      lambda g: jnp.mean(
          g * scale.reshape((-1,) + (1,) * (g.ndim - 1)).astype(g.dtype),
          axis=0),
      grads)


def make_train_step(config: ml_collections.ConfigDict,
                    optimizer: optax.GradientTransformation
                    ) -> Callable[[TrainState, Batch],
                                  Tuple[TrainState, Metrics]]:
  """The (un-jitted) step: (state, batch) -> (new state, metrics).

  Args:
    config: the full training config (model, optimizer sections read).
    optimizer: from `optimizer.make_optimizer(config.optimizer)`.

  The batch holds B examples: every feature has a leading [B] axis before
  the per-example recycling axis. With `config.train.violation_loss_from_step`
  = k > 0, the structure module's violation loss counts from step k on
  (before it, its weight is 0): a run fits the fold first and the
  stereochemistry after, as fine-tuning adds the violation loss to a model
  trained without it (Suppl. 1.11.3, Table 4). Metrics are scalars averaged
  over the examples (in multimer mode with interface lDDT and DockQ of the
  crop: `multimer_example_metrics`), plus 'grad_norm' (of the applied gradient), 'learning_rate',
  'skipped' (1 when the step was skipped) and 'num_skipped'.
  """
  model = make_model(config.model)
  opt = config.optimizer
  schedule = optimizer_lib.learning_rate_schedule(opt)
  violation_from = config.train.get('violation_loss_from_step', 0)
  if config.model.global_config.get('multimer_mode', False):
    align_chains = config.model.get('align_chains', True)
    metrics_fn = lambda outputs, example: multimer_example_metrics(
        outputs, example, align_chains)
  else:
    metrics_fn = example_metrics

  def example_loss(params, example, rng):
    outputs, loss = model.apply(params, rng, example)
    # Suppl. 1.11.3: the loss is scaled by the square root of the crop size.
    scaled = loss * jnp.sqrt(num_residues(example))
    return scaled, (loss, metrics_fn(outputs, example))

  grad_fn = jax.vmap(jax.value_and_grad(example_loss, has_aux=True),
                     in_axes=(None, 0, 0))

  def train_step(state: TrainState, batch: Batch
                 ) -> Tuple[TrainState, Metrics]:
    rng, step_rng = jax.random.split(state.rng)
    batch_size = jax.tree_util.tree_leaves(batch)[0].shape[0]
    example_rngs = jax.random.split(step_rng, batch_size)
    if violation_from:
      # One factor per example and recycling iteration, as every feature.
      leading = batch['aatype'].shape[:2]
      batch = dict(batch, violation_loss_scale=jnp.broadcast_to(
          (state.step >= violation_from).astype(jnp.float32), leading))
    (_, (losses, metrics)), grads = grad_fn(state.params, batch,
                                            example_rngs)
    norms = _per_example_norm(grads)
    grads = _clip_and_average(grads, norms, opt.per_example_clip_norm)
    finite = jnp.all(jnp.isfinite(losses)) & jnp.all(jnp.isfinite(norms))

    updates, opt_state = optimizer.update(grads, state.opt_state,
                                          state.params)
    params = optax.apply_updates(state.params, updates)
    ema = ema_update(state.ema_params, params, opt.ema_decay)

    def keep_if_finite(new, old):
      return jax.tree_util.tree_map(lambda n, o: jnp.where(finite, n, o),
                                    new, old)

    new_state = TrainState(
        params=keep_if_finite(params, state.params),
        opt_state=keep_if_finite(opt_state, state.opt_state),
        ema_params=keep_if_finite(ema, state.ema_params),
        rng=rng,
        step=state.step + 1,
        num_skipped=state.num_skipped + (~finite).astype(jnp.int32))
    metrics = mean_over_examples(metrics)
    metrics.update(
        loss=jnp.mean(losses),
        grad_norm=optax.tree.norm(grads),
        unclipped_grad_norm=jnp.mean(norms),
        learning_rate=schedule(optimizer_lib.applied_updates(
            state.opt_state)),
        skipped=(~finite).astype(jnp.int32),
        num_skipped=new_state.num_skipped)
    return new_state, metrics

  return train_step
