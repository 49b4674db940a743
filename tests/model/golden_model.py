"""Running the whole model on the golden case (tests/fixtures/golden/small)."""
import haiku as hk
import jax
import numpy as np

from alphafold_jax.model import AlphaFold
from tests.model import golden_modules

SMALL = golden_modules.GOLDEN / 'small'


def load_batch(dtype=np.float64):
  data = np.load(SMALL / 'batch.npz')
  return {k: (data[k].astype(dtype) if np.issubdtype(data[k].dtype, np.floating)
              else data[k]) for k in data.files}


def load_params(dtype=np.float64):
  from alphafold_jax.model.params import flat_to_haiku
  data = np.load(SMALL / 'params.npz')
  return flat_to_haiku({k: data[k].astype(dtype) for k in data.files})


def flatten(tree, prefix=''):
  """Nested outputs -> {'a/b/c': array}, with Vec3/Rigid3 leaves numbered as
  the reference's flattened fixtures are."""
  out = {}
  if isinstance(tree, dict):
    for k, v in tree.items():
      out.update(flatten(v, f'{prefix}{k}/'))
    return out
  leaves, _ = jax.tree_util.tree_flatten_with_path(tree)
  if len(leaves) == 1 and not leaves[0][0]:
    return {prefix[:-1]: leaves[0][1]}
  if hasattr(tree, 'rot') and hasattr(tree, 'trans'):  # Rigid3 -> 0/k, 1/k
    for k, a in enumerate(tree.rot.components()):
      out[f'{prefix}0/{k}'] = a
    for k, a in enumerate((tree.trans.x, tree.trans.y, tree.trans.z)):
      out[f'{prefix}1/{k}'] = a
    return out
  if hasattr(tree, 'x') and hasattr(tree, 'z'):  # Vec3 -> 0, 1, 2
    for k, a in enumerate((tree.x, tree.y, tree.z)):
      out[f'{prefix}{k}'] = a
    return out
  raise TypeError(f'cannot flatten {type(tree)} at {prefix}')


def run_golden(config=None, compute_loss=False, global_config_overrides=None,
               dtype=np.float64):
  """Applies the model with the golden params to the golden batch."""
  cfg = config or golden_modules.small_config()
  cfg = cfg.copy_and_resolve_references()
  for k, v in (global_config_overrides or {}).items():
    cfg.model.global_config[k] = v

  def fn(batch):
    return AlphaFold(cfg.model)(batch, is_training=False, compute_loss=compute_loss,
                                ensemble_representations=False,
                                return_representations=True)

  return jax.jit(hk.transform(fn).apply)(load_params(dtype), None, load_batch(dtype))
