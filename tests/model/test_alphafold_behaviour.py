"""Behaviour of the whole model beyond parity: invariances, padding, switches."""
import functools
import math

import haiku as hk
import jax
import numpy as np
import pytest

from alphafold_jax.data import transforms
from alphafold_jax.model import memory_budget
from alphafold_jax.model.alphafold import AlphaFoldIteration
from tests.model import golden_model
from tests.model import golden_modules

# Outputs that depend on the structure only through distances and frames.
INVARIANT = ['distogram/logits', 'masked_msa/logits', 'predicted_lddt/logits',
             'experimentally_resolved/logits', 'predicted_aligned_error/logits',
             'representations/pair', 'representations/single',
             'representations/msa', 'representations/structure_module']

def _rotation_matrix(q):
  """3x3 rotation of quaternion q, in float64 numpy (exactly orthonormal
  to float64 precision, unlike one built in float32)."""
  w, x, y, z = np.asarray(q, np.float64) / np.linalg.norm(q)
  return np.array([[1 - 2 * (y * y + z * z), 2 * (x * y - w * z), 2 * (x * z + w * y)],
                   [2 * (x * y + w * z), 1 - 2 * (x * x + z * z), 2 * (y * z - w * x)],
                   [2 * (x * z - w * y), 2 * (y * z + w * x), 1 - 2 * (x * x + y * y)]])


_ROTATION = _rotation_matrix([0.4, -0.3, 0.8, 0.2])
_TRANSLATION = np.array([12., -30., 7.])


def _move(positions):
  """Applies one global rigid motion to [..., 3] positions."""
  return np.asarray(positions, np.float64) @ _ROTATION.T + _TRANSLATION


def _kabsch_rmsd(a, b):
  a, b = a - a.mean(0), b - b.mean(0)
  u, _, vt = np.linalg.svd(a.T @ b)
  d = np.sign(np.linalg.det(u @ vt))
  rot = u @ np.diag([1., 1., d]) @ vt
  return float(np.sqrt(np.mean(np.sum(np.square(a @ rot - b), -1))))


def _apply(batch, cfg=None, params_dtype=np.float64):
  cfg = (cfg or golden_modules.small_config()).copy_and_resolve_references()
  from alphafold_jax.model import AlphaFold

  def fn(b):
    return AlphaFold(cfg.model)(b, is_training=False, return_representations=True)

  out = jax.jit(hk.transform(fn).apply)(golden_model.load_params(params_dtype),
                                        None, batch)
  return {k: np.asarray(v) for k, v in golden_model.flatten(out).items()}


def _with_module_scopes(next_f, args, kwargs, context):
  """Runs each module call under a JAX name scope of the module's name, so
  that every operation of the traced program says which module it is in."""
  if context.method_name != '__call__':
    return next_f(*args, **kwargs)
  with jax.named_scope(context.module.module_name.split('/')[-1]):
    return next_f(*args, **kwargs)


def _walk(jaxpr, outer):
  """(equation, scope) of every equation of `jaxpr`, nested ones included;
  scope is the '|'-joined name stacks of the enclosing equations."""
  for eqn in jaxpr.eqns:
    scope = f'{outer}|{eqn.source_info.name_stack}'
    yield eqn, scope
    for value in eqn.params.values():
      for sub in value if isinstance(value, (tuple, list)) else (value,):
        if isinstance(sub, jax.extend.core.ClosedJaxpr):
          yield from _walk(sub.jaxpr, scope)
        elif isinstance(sub, jax.extend.core.Jaxpr):
          yield from _walk(sub, scope)


@functools.lru_cache(maxsize=None)
def _program(**overrides):
  """`_walk` of the model traced (not compiled) at inference in float32
  with these global_config values."""
  cfg = golden_modules.small_config()
  for k, v in overrides.items():
    cfg.model.global_config[k] = v
  from alphafold_jax.model import AlphaFold

  def fn(b):
    with hk.intercept_methods(_with_module_scopes):
      return AlphaFold(cfg.model)(b, is_training=False)

  closed = jax.make_jaxpr(hk.transform(fn).apply)(
      golden_model.load_params(np.float32), None,
      golden_model.load_batch(np.float32))

  return tuple(_walk(closed.jaxpr, ''))


def _module(scope):
  return scope.rsplit('/', 1)[-1]


def _chunk_loops(program):
  """{module: chunk sizes} of the loops over chunks that `chunked_apply`
  builds: loops over slices without a carry (the sizes of the first two
  axes of each slice), and loops that slice their carry or constants a
  chunk at a time (the leading size of each slice of more than one row)."""
  loops = {}
  for eqn, scope in program:
    # The Attention layer's own loop over blocks of heads on the CPU
    # (layers/attention.py head_block) is not a loop over chunks.
    if eqn.primitive.name != 'scan' or _module(scope) == 'attention':
      continue
    body = eqn.params['jaxpr']
    if eqn.params['num_carry'] == 0:
      slices = body.in_avals[eqn.params['num_consts']:]
      sizes = {d for a in slices for d in a.shape[:2]}
    else:
      sizes = {e.params['slice_sizes'][0] for e in body.jaxpr.eqns
               if e.primitive.name == 'dynamic_slice'} - {1}
    if sizes:
      loops.setdefault(_module(scope), set()).update(sizes)
  return loops


@pytest.fixture(scope='module')
def reference_run():
  with jax.enable_x64(True):
    return _apply(golden_model.load_batch())


def test_moving_template_coordinates_changes_nothing():
  """Every template coordinate moved rigidly: the outputs do not change.

  Run with the placeholder for undefined torsions (zero_init False). With the
  released setting, as in the reference, an undefined torsion such as phi of
  the first residue is computed from the zero padding before the chain and
  so depends on where the template sits in space.
  """
  cfg = golden_modules.small_config()
  cfg.model.global_config.zero_init = False
  batch = golden_model.load_batch()
  moved_batch = dict(batch)
  moved_batch['template_all_atom_positions'] = _move(batch['template_all_atom_positions'])
  moved_batch['template_pseudo_beta'] = _move(batch['template_pseudo_beta'])
  with jax.enable_x64(True):
    out = _apply(batch, cfg)
    moved = _apply(moved_batch, cfg)
  for key in INVARIANT:
    assert golden_modules.relative_error(moved[key], out[key]) < 1e-8, key
  mask = out['structure_module/final_atom_mask'] > 0
  rmsd = _kabsch_rmsd(moved['structure_module/final_atom_positions'][mask],
                      out['structure_module/final_atom_positions'][mask])
  assert rmsd < 1e-6


def test_moving_recycled_positions_changes_nothing():
  """One network pass fed moved prev_pos gives the same invariant outputs and
  coordinates related by a rigid motion."""
  cfg = golden_modules.small_config()
  batch = {k: v[:1] for k, v in golden_model.load_batch().items()}
  ref = np.load(golden_model.SMALL / 'outputs64.npz')
  num_res = batch['aatype'].shape[1]
  prev = {'prev_pos': ref['structure_module/final_atom_positions'],
          'prev_msa_first_row': ref['representations/msa_first_row'],
          'prev_pair': ref['representations/pair']}
  params = {k[len('alphafold/'):]: v for k, v in golden_model.load_params().items()}

  def fn(b, p):
    return AlphaFoldIteration(cfg.model, cfg.model.global_config)(
        b, p, is_training=False)

  with jax.enable_x64(True):
    apply = jax.jit(hk.transform(fn).apply)
    run = lambda p: golden_model.flatten(apply(params, None, batch, p))
    out = run(prev)
    moved = run({**prev, 'prev_pos': _move(prev['prev_pos'])})
  assert num_res == out['distogram/logits'].shape[0]
  for key in INVARIANT:
    assert golden_modules.relative_error(moved[key], out[key]) < 1e-8, key


def test_padded_residues_do_not_change_real_ones(reference_run):
  cfg = golden_modules.small_config()
  batch = golden_model.load_batch()
  num_res = batch['aatype'].shape[1]
  padded_res = num_res + 7
  schema = {k: tuple(v) for k, v in cfg.data.eval.feat.items()}
  slices = [{k: v[i] for k, v in batch.items()} for i in range(2)]
  padded = [transforms.make_fixed_size(s, schema, {transforms.NUM_RES: padded_res})
            for s in slices]
  padded = {k: np.stack([p[k] for p in padded]) for k in padded[0]}
  with jax.enable_x64(True):
    out = _apply(padded)
  assert out['distogram/logits'].shape[0] == padded_res
  for key in INVARIANT + ['structure_module/final_atom_positions']:
    real = out[key]
    if key == 'distogram/logits' or key.endswith(('pair', 'aligned_error/logits')):
      real = real[:num_res, :num_res]
    elif key in ('masked_msa/logits', 'representations/msa'):
      real = real[:, :num_res]
    else:
      real = real[:num_res]
    assert golden_modules.relative_error(real, reference_run[key]) < 1e-8, key


@pytest.mark.parametrize('overrides', [{'subbatch_size': None},
                                       {'subbatch_size': 1, 'use_remat': True},
                                       {'unroll_layer_stacks': True}])
def test_memory_switches_give_the_same_outputs(overrides, reference_run):
  cfg = golden_modules.small_config()
  for k, v in overrides.items():
    cfg.model.global_config[k] = v
  with jax.enable_x64(True):
    out = _apply(golden_model.load_batch(), cfg)
  for key in reference_run:
    assert golden_modules.relative_error(out[key], reference_run[key]) < 1e-9, key


def test_chunk_chosen_for_a_budget_gives_the_same_outputs(reference_run):
  """The chunk that memory_budget picks for a budget between chunk 8's and
  chunk 16's estimates is 8, and gives the unchunked outputs (8 tiles the
  residues but not the 14 MSA rows)."""
  cfg = golden_modules.small_config()
  batch = golden_model.load_batch()
  num_res = batch['aatype'].shape[-1]
  depths = dict(num_msa=batch['msa_feat'].shape[1],
                num_extra_msa=batch['extra_msa'].shape[1])
  budget = memory_budget.estimate_peak_bytes(cfg, num_res, 8, **depths)
  assert memory_budget.estimate_peak_bytes(cfg, num_res, 16, **depths) > budget
  chunk = memory_budget.choose_chunk_size(cfg, num_res, budget, **depths)
  assert chunk == 8
  cfg.model.global_config.subbatch_size = chunk
  with jax.enable_x64(True):
    out = _apply(batch, cfg)
  for key in reference_run:
    assert golden_modules.relative_error(out[key], reference_run[key]) < 1e-9, key


# The modules that chunk their rows at inference (Suppl. 1.11.8).
CHUNKED = {'msa_row_attention_with_pair_bias', 'msa_column_attention',
           'msa_column_global_attention', 'msa_transition',
           'outer_product_mean', 'triangle_attention_starting_node',
           'triangle_attention_ending_node', 'pair_transition'}


def test_subbatch_size_chunks_every_chunked_module():
  """subbatch_size 5 (which divides none of the case's sizes): each module
  that promises chunking loops over padded chunks of 5 rows; None: no module
  does (the template attention keeps its own `template.subbatch_size`)."""
  chunked = _chunk_loops(_program(subbatch_size=5))
  assert {m for m, sizes in chunked.items() if 5 in sizes} == CHUNKED
  num_res = golden_model.load_batch()['aatype'].shape[1]
  lengths = {eqn.params['length'] for eqn, scope in _program(subbatch_size=5)
             if eqn.primitive.name == 'scan' and _module(scope) in CHUNKED}
  assert math.ceil(num_res / 5) in lengths
  assert set(_chunk_loops(_program(subbatch_size=None))) == {
      'template_embedding'}


def test_use_remat_rematerialises_every_layer_stack():
  """use_remat: the body of each scanned stack of blocks (template pair
  stack, extra-MSA stack, Evoformer) is a rematerialised computation;
  without it nothing is."""

  def stacks_and_remats(program):
    stacks = {scope for eqn, scope in program
              if eqn.primitive.name == 'scan' and eqn.params['num_carry']
              and '__layer_stack' in _module(scope)}
    # The scopes of the loops whose bodies hold a remat.
    remats = {scope.rsplit('|', 1)[0] for eqn, scope in program
              if eqn.primitive.name == 'remat2'}
    return stacks, remats

  stacks, remats = stacks_and_remats(_program(use_remat=True))
  # 3 stacks, traced once: at inference every iteration runs in one loop.
  assert len(stacks) == 3
  assert remats == stacks
  _, remats = stacks_and_remats(_program(subbatch_size=None))
  assert remats == set()


def test_unroll_layer_stacks_unrolls_every_layer_stack():
  """unroll_layer_stacks: each scanned stack of blocks is unrolled over all
  its layers (straight-line code once lowered); without it none is."""

  def stack_unrolls(program):
    return {scope: (eqn.params['unroll'], eqn.params['length'])
            for eqn, scope in program
            if eqn.primitive.name == 'scan' and eqn.params['num_carry']
            and '__layer_stack' in _module(scope)}

  unrolled = stack_unrolls(_program(unroll_layer_stacks=True))
  assert len(unrolled) == 3
  assert all(unroll == length for unroll, length in unrolled.values())
  looped = stack_unrolls(_program(subbatch_size=None))
  assert looped.keys() == unrolled.keys()
  assert all(unroll == 1 for unroll, _ in looped.values())


def test_bfloat16_runs_the_trunk_in_bfloat16():
  """bfloat16: every matrix product in the trunk (the evoformer scope:
  embeddings, templates, extra-MSA stack, Evoformer) runs in bfloat16, and
  every one in the structure module and the heads in float32; without it
  none runs in bfloat16."""

  def product_dtypes(program):
    dtypes = {}
    for eqn, scope in program:
      if eqn.primitive.name == 'dot_general':
        part = ('trunk' if '/evoformer/' in scope else 'structure_and_heads')
        dtypes.setdefault(part, set()).update(
            str(v.aval.dtype) for v in eqn.invars)
    return dtypes

  assert product_dtypes(_program(bfloat16=True)) == {
      'trunk': {'bfloat16'}, 'structure_and_heads': {'float32'}}
  assert product_dtypes(_program(subbatch_size=None)) == {
      'trunk': {'float32'}, 'structure_and_heads': {'float32'}}


def test_bfloat16_trunk_keeps_geometry_in_float32():
  cfg = golden_modules.small_config()
  cfg.model.global_config.bfloat16 = True
  batch = golden_model.load_batch(np.float32)
  out32 = _apply(batch, golden_modules.small_config(), np.float32)
  out16 = _apply(batch, cfg, np.float32)
  positions = out16['structure_module/final_atom_positions']
  assert positions.dtype == np.float32 and np.all(np.isfinite(positions))
  assert out16['representations/pair'].dtype == np.float32
  # bfloat16 keeps 8 bits of mantissa. The trunk's outputs stay within the
  # golden README's float32 sanity bound (5e-2), and the prediction is the
  # same structure: Cα within 0.5 Å RMSD, expected distances within 0.25 Å
  # on average.
  assert golden_modules.relative_error(out16['representations/pair'],
                                       out32['representations/pair']) < 5e-2
  ca = 1
  mask = out32['structure_module/final_atom_mask'][:, ca] > 0
  assert _kabsch_rmsd(positions[mask, ca],
                      out32['structure_module/final_atom_positions'][mask, ca]) < 0.5
  cfg_heads = cfg.model.heads.distogram
  edges = np.linspace(cfg_heads.first_break, cfg_heads.last_break,
                      cfg_heads.num_bins - 1)
  centres = np.concatenate([edges[:1], (edges[1:] + edges[:-1]) / 2, edges[-1:]])
  expected = lambda o: np.sum(jax.nn.softmax(o['distogram/logits']) * centres, -1)
  assert np.mean(np.abs(expected(out16) - expected(out32))) < 0.25


def test_recycling_stops_early_when_positions_settle():
  cfg = golden_modules.small_config()
  cfg.model.num_recycle = 3
  batch = golden_model.load_batch(np.float32)
  batch = {k: np.concatenate([v, v]) for k, v in batch.items()}  # 4 slices

  def num_recycles(tolerance):
    c = cfg.copy_and_resolve_references()
    c.model.recycle_early_stop_tolerance = tolerance
    return int(_apply(batch, c, np.float32)['num_recycles'])

  assert num_recycles(0.) == 3
  # The first iteration moves every Cα away from the origin, by more than 1 Å.
  assert num_recycles(1e6) == 1


def test_program_size_does_not_grow_with_depth():
  """The Evoformer blocks are one scanned computation: the traced program has
  the same number of operations for 2 and for 8 blocks."""
  from alphafold_jax.model import AlphaFold
  from alphafold_jax.model.params import dummy_batch

  def num_equations(num_block):
    cfg = golden_modules.small_config()
    cfg.model.embeddings_and_evoformer.evoformer_num_block = num_block
    model = hk.transform(lambda b: AlphaFold(cfg.model)(b, is_training=False))
    batch = dummy_batch(cfg)
    params = jax.eval_shape(model.init, jax.random.PRNGKey(0), batch)
    jaxpr = jax.make_jaxpr(model.apply)(params, None, batch)
    return len(str(jaxpr).splitlines())

  assert num_equations(2) == num_equations(8)


def test_dropout_follows_the_key():
  """Training mode with the config's dropout (0.15 to 0.25 in the trunk, 0.1
  in the structure module): two keys give two predictions. (With
  deterministic the program draws nothing: see the next test.)"""
  cfg = golden_modules.small_config()
  from alphafold_jax.model import AlphaFold

  def fn(b):
    return AlphaFold(cfg.model)(b, is_training=True,
                                return_representations=True)

  apply = jax.jit(hk.transform(fn).apply)
  params = golden_model.load_params(np.float32)
  batch = golden_model.load_batch(np.float32)
  first, second = (
      golden_model.flatten(apply(params, jax.random.PRNGKey(seed), batch))
      for seed in (0, 1))
  for key in ('representations/pair', 'representations/single',
              'structure_module/final_atom_positions'):
    assert golden_modules.relative_error(first[key], second[key]) > 1e-3, key


def test_deterministic_leaves_no_random_draw():
  """The traced training program draws one dropout mask per residual update
  whose rate is not zero (the Evoformer's and extra-MSA stack's from the
  evoformer config, the template pair stack's from its own; two in each
  structure-module layer, Alg. 20 lines 6 and 9), and none at all when
  deterministic: then every key gives the same prediction."""
  cfg = golden_modules.small_config()
  from alphafold_jax.model import AlphaFold

  def draws(deterministic):
    c = cfg.copy_and_resolve_references()
    c.model.global_config.deterministic = deterministic

    def fn(b):
      with hk.intercept_methods(_with_module_scopes):
        return AlphaFold(c.model)(b, is_training=True)

    jaxpr = jax.make_jaxpr(hk.transform(fn).apply)(
        golden_model.load_params(np.float32), jax.random.PRNGKey(0),
        golden_model.load_batch(np.float32))
    stacks = ('evoformer_iteration', 'extra_msa_stack', 'template_pair_stack',
              'fold_iteration')
    counts = {}
    for eqn, scope in _walk(jaxpr.jaxpr, ''):
      if eqn.primitive.name == 'random_bits':
        stack = next(name for name in stacks if name in scope)
        counts[stack] = counts.get(stack, 0) + 1
    return counts

  def nonzero_rates(stack_config):
    return sum(1 for m in stack_config.values()
               if getattr(m, 'dropout_rate', 0.) > 0.)

  emb = cfg.model.embeddings_and_evoformer
  per_pass = {'evoformer_iteration': nonzero_rates(emb.evoformer),
              'extra_msa_stack': nonzero_rates(emb.evoformer),
              'template_pair_stack': nonzero_rates(
                  emb.template.template_pair_stack),
              'fold_iteration': 2}
  assert per_pass['evoformer_iteration'] == 5  # 0.15 and four 0.25
  # Two passes are traced: the recycling iterations' and the last.
  assert draws(False) == {k: 2 * n for k, n in per_pass.items()}
  assert draws(True) == {}
