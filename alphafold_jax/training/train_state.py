"""The training state: one pytree saved and restored as a whole."""
from __future__ import annotations

from typing import Any, NamedTuple, Optional

import haiku as hk
import jax
import jax.numpy as jnp
import optax


class TrainState(NamedTuple):
  """Everything a resumed run needs besides the data position.

  params: the Haiku parameters trained.
  opt_state: the optimiser's state (Adam moments and its step count, which
    drives the learning rate schedule).
  ema_params: exponential moving average of params (Suppl. 1.11.7), the
    weights to evaluate.
  rng: the PRNG key the next step splits for its dropout draws.
  step: steps taken, skipped ones included.
  num_skipped: steps whose loss or gradient was not finite and so left
    params, opt_state and ema_params unchanged.
  """
  params: hk.Params
  opt_state: optax.OptState
  ema_params: hk.Params
  rng: jax.Array
  step: jax.Array
  num_skipped: jax.Array


def create_train_state(params: hk.Params,
                       optimizer: optax.GradientTransformation,
                       rng: jax.Array,
                       ema_params: Optional[hk.Params] = None) -> TrainState:
  """A fresh state at step 0; the EMA starts from `params` unless given."""
  params = jax.tree_util.tree_map(jnp.asarray, params)
  # A copy, not the same buffers: the train step donates the whole state.
  ema = jax.tree_util.tree_map(
      lambda x: jnp.array(x, copy=True),
      params if ema_params is None else ema_params)
  return TrainState(params=params, opt_state=optimizer.init(params),
                    ema_params=ema, rng=rng,
                    step=jnp.zeros((), jnp.int32),
                    num_skipped=jnp.zeros((), jnp.int32))


def ema_update(ema: Any, params: Any, decay: float) -> Any:
  """ema * decay + params * (1 - decay), leaf by leaf."""
  return jax.tree_util.tree_map(
      lambda e, p: e * decay + p * (1. - decay), ema, params)
