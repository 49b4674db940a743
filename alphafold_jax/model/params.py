"""Reading and writing parameters in the released AlphaFold2 format.

The released `params_model_*.npz` files hold one array per parameter under
the key '<module path>//<param name>'; Haiku wants {module path: {name: array}}.
"""
import pathlib
from typing import Mapping, Optional

import haiku as hk
import jax
import jax.numpy as jnp
import numpy as np

from alphafold_jax.common import atomic
from alphafold_jax.common import residue_constants
from alphafold_jax.model.config import MODEL_PRESETS
from alphafold_jax.model.config_multimer import MULTIMER_PRESETS
from alphafold_jax.model.config import model_config

Params = Mapping[str, Mapping[str, np.ndarray]]


def flat_to_haiku(flat: Mapping[str, np.ndarray]) -> Params:
  params = {}
  for key, value in flat.items():
    scope, sep, name = key.rpartition('//')
    if not sep:
      raise ValueError(f'parameter key {key!r} is not "<module path>//<name>"')
    params.setdefault(scope, {})[name] = value
  return params


def haiku_to_flat(params: Params) -> dict:
  return {f'{scope}//{name}': np.asarray(value)
          for scope, values in params.items() for name, value in values.items()}


def is_multimer(config) -> bool:
  return bool(config.model.global_config.get('multimer_mode', False))


def dummy_multimer_batch(num_res: int = 8, num_seq: int = 8,
                         num_templates: int = 2, dtype=jnp.float32):
  """Abstract multimer example (jax.ShapeDtypeStruct): no ensemble axis,
  the whole MSA (the model samples it)."""
  f, i = dtype, jnp.int32
  n, s, t = num_res, num_seq, num_templates
  shapes = {
      'aatype': ((n,), i), 'residue_index': ((n,), i), 'seq_mask': ((n,), f),
      'asym_id': ((n,), i), 'entity_id': ((n,), i), 'sym_id': ((n,), i),
      'msa': ((s, n), i), 'deletion_matrix': ((s, n), f), 'msa_mask': ((s, n), f),
      'bert_mask': ((s, n), f), 'cluster_bias_mask': ((s,), f),
      'template_aatype': ((t, n), i),
      'template_all_atom_positions': ((t, n, residue_constants.atom_type_num, 3), f),
      'template_all_atom_mask': ((t, n, residue_constants.atom_type_num), f),
  }
  return {k: jax.ShapeDtypeStruct(shape, d) for k, (shape, d) in shapes.items()}


def dummy_batch(config, num_res: int = 8, num_seq: int = 4, num_extra: int = 4,
                num_templates: int = 2, dtype=jnp.float32):
  """Abstract features (jax.ShapeDtypeStruct) with the shapes the model reads."""
  if is_multimer(config):
    return dummy_multimer_batch(num_res, num_seq + num_extra, num_templates, dtype)
  emb = config.model.embeddings_and_evoformer
  b = config.model.num_recycle + 1 if config.model.resample_msa_in_recycling else 1
  f, i = dtype, jnp.int32
  shapes = {
      'aatype': ((b, num_res), i), 'residue_index': ((b, num_res), i),
      'seq_length': ((b,), i), 'seq_mask': ((b, num_res), f),
      'target_feat': ((b, num_res, 22), f),
      'msa_feat': ((b, num_seq, num_res, 49), f), 'msa_mask': ((b, num_seq, num_res), f),
      'extra_msa': ((b, num_extra, num_res), i),
      'extra_msa_mask': ((b, num_extra, num_res), f),
      'extra_has_deletion': ((b, num_extra, num_res), f),
      'extra_deletion_value': ((b, num_extra, num_res), f),
      'atom14_atom_exists': ((b, num_res, 14), f),
      'atom37_atom_exists': ((b, num_res, residue_constants.atom_type_num), f),
      'residx_atom37_to_atom14': ((b, num_res, residue_constants.atom_type_num), i),
      'residx_atom14_to_atom37': ((b, num_res, 14), i),
  }
  if emb.template.enabled:
    t = num_templates
    shapes.update({
        'template_aatype': ((b, t, num_res), i), 'template_mask': ((b, t), f),
        'template_all_atom_positions': ((b, t, num_res, residue_constants.atom_type_num, 3), f),
        'template_all_atom_masks': ((b, t, num_res, residue_constants.atom_type_num), f),
        'template_pseudo_beta': ((b, t, num_res, 3), f),
        'template_pseudo_beta_mask': ((b, t, num_res), f),
    })
  return {k: jax.ShapeDtypeStruct(s, d) for k, (s, d) in shapes.items()}


def param_shapes(config) -> dict:
  """{'<module path>//<name>': shape} of the parameters the model creates."""
  # pylint: disable=g-import-not-at-top
  from alphafold_jax.model.alphafold import AlphaFold
  from alphafold_jax.model.alphafold_multimer import AlphaFoldMultimer

  def init(batch):
    if is_multimer(config):
      forward = lambda b: AlphaFoldMultimer(config.model)(b, is_training=False)
    else:
      forward = lambda b: AlphaFold(config.model)(
          b, is_training=False, compute_loss=False, ensemble_representations=False)
    return hk.transform(forward).init(jax.random.PRNGKey(0), batch)

  abstract = jax.eval_shape(init, dummy_batch(config))
  return {k: tuple(v.shape) for k, v in haiku_to_flat_shapes(abstract).items()}


def haiku_to_flat_shapes(params) -> dict:
  return {f'{scope}//{name}': value
          for scope, values in params.items() for name, value in values.items()}


def check_params(flat_shapes: Mapping[str, tuple], expected: Mapping[str, tuple],
                 source: str):
  """Raises ValueError naming every missing, unexpected or misshapen array."""
  missing = sorted(set(expected) - set(flat_shapes))
  unexpected = sorted(set(flat_shapes) - set(expected))
  misshapen = sorted(f'{k} {tuple(flat_shapes[k])} (expected {tuple(expected[k])})'
                     for k in set(expected) & set(flat_shapes)
                     if tuple(flat_shapes[k]) != tuple(expected[k]))
  problems = []
  for label, items in (('missing', missing), ('unexpected', unexpected),
                       ('wrong shape', misshapen)):
    if items:
      problems.append(f'{len(items)} {label}: ' + ', '.join(items))
  if problems:
    raise ValueError(f'{source}: parameters do not fit the model; ' +
                     '; '.join(problems))


def _preset_from_filename(path: pathlib.Path) -> Optional[str]:
  stem = path.stem
  name = stem[len('params_'):] if stem.startswith('params_') else stem
  return name if name in MODEL_PRESETS + MULTIMER_PRESETS else None


def load_params(path, config=None, model_name: Optional[str] = None,
                dtype=None) -> Params:
  """Reads a released-format .npz into a Haiku parameter dict.

  The arrays are checked against the tree the model of `config` (or of the
  preset `model_name`, or of the preset the file is named after, as in
  params_model_1_ptm.npz) creates; a mismatch raises ValueError naming each
  missing, unexpected or misshapen array. `dtype` casts floating arrays.
  """
  path = pathlib.Path(path)
  try:
    with np.load(path, allow_pickle=False) as data:
      flat = {k: data[k] for k in data.files}
  except FileNotFoundError:
    raise
  except Exception as e:  # zipfile/pickle/format errors: a corrupt file
    raise ValueError(f'{path}: not a readable parameter file ({e})') from e
  params = flat_to_haiku(flat)
  if config is None:
    model_name = model_name or _preset_from_filename(path)
    if model_name is not None:
      config = model_config(model_name)
  if config is not None:
    check_params({k: v.shape for k, v in flat.items()}, param_shapes(config), str(path))
  if dtype is not None:
    params = jax.tree_util.tree_map(
        lambda x: x.astype(dtype) if np.issubdtype(x.dtype, np.floating) else x, params)
  return params


def save_params(params: Params, path):
  """Writes the released format, atomically (a crash leaves no partial file)."""
  atomic.write_npz(path, haiku_to_flat(params))
