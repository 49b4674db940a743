"""The optimiser of Suppl. 1.11.3: Adam with a warmed-up, stepwise-decayed
learning rate.

Per-example gradient clipping happens in the train step, before examples
are averaged (it cannot be an optax transform of the averaged gradient).
"""
from __future__ import annotations

import jax
import jax.numpy as jnp
import ml_collections
import optax


def learning_rate_schedule(config: ml_collections.ConfigDict
                           ) -> optax.Schedule:
  """lr(step): a linear warm-up over `warmup_steps` (peak/warmup_steps at
  step 0, the peak from step warmup_steps - 1 on), times `decay_factor` for
  every `decay_every_steps` completed (Suppl. 1.11.3).

  Args:
    config: the `optimizer` section (learning_rate, warmup_steps,
      decay_every_steps, decay_factor).
  """
  peak = config.learning_rate
  warmup = config.warmup_steps

  def schedule(step):
    step = jnp.asarray(step, jnp.float32)
    ramp = (jnp.minimum(1., (step + 1.) / warmup) if warmup > 0
            else jnp.ones_like(step))
    decays = jnp.floor(step / config.decay_every_steps)
    return peak * ramp * jnp.power(config.decay_factor, decays)

  return schedule


def make_optimizer(config: ml_collections.ConfigDict
                   ) -> optax.GradientTransformation:
  """Adam (b1, b2, eps of the config) scaled by the learning rate schedule.

  Args:
    config: the `optimizer` section.
  """
  return optax.chain(
      optax.scale_by_adam(b1=config.b1, b2=config.b2, eps=config.eps),
      optax.scale_by_learning_rate(learning_rate_schedule(config)))


def applied_updates(opt_state: optax.OptState) -> jax.Array:
  """Updates applied so far (the schedule's step), from `make_optimizer`'s
  state; skipped steps do not count."""
  return opt_state[-1].count
