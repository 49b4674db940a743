"""Behaviour of the whole model beyond parity: invariances, padding, switches."""
import haiku as hk
import jax
import numpy as np
import pytest

from alphafold_jax.data import transforms
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
                                       {'subbatch_size': 1, 'use_remat': True}])
def test_memory_switches_give_the_same_outputs(overrides, reference_run):
  cfg = golden_modules.small_config()
  for k, v in overrides.items():
    cfg.model.global_config[k] = v
  with jax.enable_x64(True):
    out = _apply(golden_model.load_batch(), cfg)
  for key in reference_run:
    assert golden_modules.relative_error(out[key], reference_run[key]) < 1e-9, key


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
