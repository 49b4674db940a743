"""One training step of the tiny preset: an update with every metric, a
non-finite step skipped, and the violation loss's starting step."""
import haiku as hk
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from alphafold_jax.training import data as data_lib
from alphafold_jax.training import optimizer as optimizer_lib
from alphafold_jax.training import sharding
from alphafold_jax.training import train_state as train_state_lib
from alphafold_jax.training import train_step as train_step_lib
from alphafold_jax.training import trainer

from tests.training.conftest import tiny_config

BATCH_SIZE = 2


@pytest.fixture(scope='module')
def setup(examples):
  config = tiny_config(batch_size=BATCH_SIZE)
  optimizer = optimizer_lib.make_optimizer(config.optimizer)
  data = data_lib.TrainingData(examples, config, BATCH_SIZE, seed=0)
  state = trainer.initial_state(config, data.example(0), optimizer,
                                jax.random.PRNGKey(0))
  mesh = sharding.make_mesh()
  step = trainer.jit_train_step(config, optimizer, mesh)
  batch = next(data)
  return config, jax.device_get(state), step, batch


def _run(step, state, batch):
  # The step donates its input state: hand it a copy.
  new_state, metrics = step(jax.tree_util.tree_map(np.array, state), batch)
  return jax.device_get(new_state), jax.device_get(metrics)


def test_step_updates_params_and_reports_every_term(setup):
  config, state, step, batch = setup
  new_state, metrics = _run(step, state, batch)
  for key in ('loss', 'distogram_loss', 'masked_msa_loss',
              'structure_module_loss', 'fape', 'sidechain_fape', 'chi_loss',
              'angle_norm_loss', 'predicted_lddt_loss',
              'experimentally_resolved_loss', 'lddt_ca', 'grad_norm',
              'learning_rate'):
    assert np.isfinite(metrics[key]), key
  assert 0. <= metrics['lddt_ca'] <= 1.
  # Each example's gradient is clipped to 0.1, so is their mean.
  assert metrics['grad_norm'] <= config.optimizer.per_example_clip_norm + 1e-6
  assert metrics['skipped'] == 0 and int(new_state.num_skipped) == 0
  assert int(new_state.step) == 1
  np.testing.assert_allclose(
      metrics['learning_rate'],
      config.optimizer.learning_rate / config.optimizer.warmup_steps)
  decay = config.optimizer.ema_decay
  for old, new, ema in zip(jax.tree_util.tree_leaves(state.params),
                           jax.tree_util.tree_leaves(new_state.params),
                           jax.tree_util.tree_leaves(new_state.ema_params)):
    np.testing.assert_allclose(ema, decay * old + (1 - decay) * new,
                               rtol=1e-5, atol=1e-7)
  # Zero-initialised output layers (Suppl. 1.11.4) block the gradient of
  # what feeds them at the first step, so only part of the weights move.
  assert any(not np.array_equal(a, b) for a, b in zip(
      jax.tree_util.tree_leaves(state.params),
      jax.tree_util.tree_leaves(new_state.params)))


def test_non_finite_step_changes_nothing_but_the_counters(setup):
  _, state, step, batch = setup
  poisoned = dict(batch)
  poisoned['all_atom_positions'] = np.full_like(batch['all_atom_positions'],
                                                np.nan)
  poisoned['backbone_affine_tensor'] = np.full_like(
      batch['backbone_affine_tensor'], np.nan)
  new_state, metrics = _run(step, state, poisoned)
  assert metrics['skipped'] == 1 and int(new_state.num_skipped) == 1
  assert int(new_state.step) == int(state.step) + 1
  for field in ('params', 'opt_state', 'ema_params'):
    for a, b in zip(jax.tree_util.tree_leaves(getattr(state, field)),
                    jax.tree_util.tree_leaves(getattr(new_state, field))):
      np.testing.assert_array_equal(a, b, err_msg=field)
  # The run goes on: the next (finite) step updates.
  _, metrics = _run(step, new_state, batch)
  assert metrics['skipped'] == 0


def test_clipping_scales_each_example_to_the_norm():
  grads = {'w': np.array([[3., 4.], [0.03, 0.04]], np.float32)}
  norms = train_step_lib._per_example_norm(grads)  # pylint: disable=protected-access
  np.testing.assert_allclose(norms, [5., 0.05], rtol=1e-6)
  mean = train_step_lib._clip_and_average(grads, norms, 0.1)  # pylint: disable=protected-access
  # [3, 4] is scaled to norm 0.1; [0.03, 0.04] is below it and kept.
  np.testing.assert_allclose(mean['w'], [(0.06 + 0.03) / 2, (0.08 + 0.04) / 2],
                             rtol=1e-6)


def _fake_example(num_res, resolved):
  rng = np.random.default_rng(num_res)
  positions = rng.normal(size=(1, num_res, 37, 3)).astype(np.float32) * 10
  mask = np.full((1, num_res, 37), float(resolved), np.float32)
  example = {'all_atom_positions': positions, 'all_atom_mask': mask,
             'seq_mask': np.ones((1, num_res), np.float32)}
  outputs = {'structure_module': {
      'final_atom_positions': positions[0] + rng.normal(
          size=positions[0].shape).astype(np.float32)}}
  return outputs, example


def test_lddt_averages_only_examples_with_a_structure():
  per_example = [train_step_lib.example_metrics(*_fake_example(12, resolved))
                 for resolved in (True, False)]
  stacked = jax.tree_util.tree_map(lambda *x: np.stack(x), *per_example)
  metrics = train_step_lib.mean_over_examples(stacked)
  resolved_lddt = float(per_example[0]['lddt_ca'])
  assert 0. < resolved_lddt < 1.
  np.testing.assert_allclose(metrics['lddt_ca'], resolved_lddt, rtol=1e-6)
  assert set(metrics) == {'lddt_ca'}
  unresolved = train_step_lib.mean_over_examples(
      jax.tree_util.tree_map(lambda x: x[1:], stacked))
  assert np.isnan(unresolved['lddt_ca'])


def _scale_reading_model(model_config):
  """A stand-in network whose loss is w × the batch's violation_loss_scale
  (1 when absent): it shows what scale the train step hands the model."""
  del model_config

  def forward(example):
    w = hk.get_parameter('w', (), init=hk.initializers.Constant(2.))
    scale = example.get('violation_loss_scale', jnp.ones((1,)))[0]
    positions = example['all_atom_positions'][0]
    outputs = {'structure_module': {'final_atom_positions': positions}}
    return outputs, w * scale
  return hk.transform(forward)


@pytest.mark.parametrize('from_step', [0, 3])
def test_violation_loss_counts_from_its_step(monkeypatch, from_step):
  monkeypatch.setattr(train_step_lib, 'make_model', _scale_reading_model)
  config = tiny_config(violation_loss_from_step=from_step)
  optimizer = optimizer_lib.make_optimizer(config.optimizer)
  _, example = _fake_example(5, True)
  batch = {k: v[None] for k, v in example.items()}
  batch['aatype'] = np.zeros((1, 1, 5), np.int32)
  model = _scale_reading_model(None)
  state = train_state_lib.create_train_state(
      model.init(jax.random.PRNGKey(0), example), optimizer,
      jax.random.PRNGKey(1))
  step = jax.jit(train_step_lib.make_train_step(config, optimizer))
  scales = []
  for _ in range(5):
    state, metrics = step(state, batch)
    scales.append(float(metrics['loss']) / 2.)  # w moves by ~lr: 2 ± 0.02
  expected = [1.] * 5 if not from_step else [0., 0., 0., 1., 1.]
  np.testing.assert_allclose(scales, expected, atol=0.02)


def _output_dtypes(record):
  """A method interceptor that adds, per module, the dtypes of the floating
  outputs of its outermost call (a bfloat16 layer norm's inner float32
  call is not its output) to record[module name]."""
  calling = []

  def intercept(next_f, args, kwargs, context):
    if context.method_name != '__call__' or any(
        m is context.module for m in calling):
      return next_f(*args, **kwargs)
    calling.append(context.module)
    try:
      out = next_f(*args, **kwargs)
    finally:
      calling.pop()
    record.setdefault(context.module.module_name, set()).update(
        str(x.dtype) for x in jax.tree_util.tree_leaves(out)
        if jnp.issubdtype(x.dtype, jnp.floating))
    return out
  return intercept


def test_bfloat16_step_keeps_float32_state_and_a_bfloat16_trunk(examples):
  """global_config.bfloat16 in training: every trunk module (embeddings,
  extra-MSA stack, Evoformer) outputs bfloat16, the structure module and
  the heads float32; the losses are float32, and the parameters, Adam's
  moments and the EMA the step returns float32. The step is traced, not
  compiled (test_trainer.py runs it: its loss falls, no step skipped)."""
  config = tiny_config(batch_size=BATCH_SIZE)
  config.model.global_config.bfloat16 = True
  optimizer = optimizer_lib.make_optimizer(config.optimizer)
  data = data_lib.TrainingData(examples, config, BATCH_SIZE, seed=0)
  example = data.example(0)
  state = jax.eval_shape(
      lambda key: trainer.initial_state(config, example, optimizer, key),
      jax.random.PRNGKey(0))
  record = {}
  with hk.intercept_methods(_output_dtypes(record)):
    new_state, metrics = jax.eval_shape(
        train_step_lib.make_train_step(config, optimizer), state, next(data))

  iteration = 'alphafold/alphafold_iteration/'
  parts = {}
  for name, dtypes in record.items():
    if name.startswith(iteration + 'evoformer'):
      part = 'trunk'
    elif name.startswith(iteration + 'structure_module'):
      part = 'structure_module'
    elif name.startswith(iteration) and name.split('/')[2].endswith('_head'):
      part = 'heads'
    else:
      continue
    parts.setdefault(part, set()).update(dtypes)
  assert parts == {'trunk': {'bfloat16'}, 'structure_module': {'float32'},
                   'heads': {'float32'}}
  assert any('extra_msa_stack' in name for name in record)
  assert any('evoformer_iteration' in name for name in record)

  for key in ('loss', 'distogram_loss', 'masked_msa_loss',
              'structure_module_loss', 'fape', 'grad_norm'):
    assert metrics[key].dtype == np.float32, key
  for field in ('params', 'opt_state', 'ema_params'):
    floats = {x.dtype for x in jax.tree_util.tree_leaves(
        getattr(new_state, field)) if np.issubdtype(x.dtype, np.floating)}
    assert floats == {np.dtype(np.float32)}, field
