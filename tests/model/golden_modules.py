"""Loading the single-module golden fixtures (tests/fixtures/golden/modules)."""
import json
import pathlib

import haiku as hk
import jax
import ml_collections
import numpy as np

GOLDEN = pathlib.Path(__file__).parents[1] / 'fixtures' / 'golden'


def small_config() -> ml_collections.ConfigDict:
  with open(GOLDEN / 'small' / 'config.json') as f:
    return ml_collections.ConfigDict(json.load(f))


def load_module_case(name):
  """Returns (inputs, params, outputs) of one module fixture, as float64."""
  data = np.load(GOLDEN / 'modules' / f'{name}.npz')
  inputs, params, outputs = {}, {}, {}
  for key in data.files:
    value = data[key]
    if key.startswith('in/'):
      inputs[key[3:]] = value
    elif key.startswith('param/'):
      scope, param = key[len('param/'):].split('//')
      params.setdefault(scope, {})[param] = value
    else:
      outputs[key[4:] if key.startswith('out/') else key] = value
  return inputs, params, outputs


def relative_error(actual, expected) -> float:
  """max |a - e| / max(1, max |e|): the golden README's measure."""
  actual, expected = np.asarray(actual), np.asarray(expected)
  return float(np.max(np.abs(actual - expected)) /
               max(1., float(np.max(np.abs(expected)))))


def check_param_tree(created, expected):
  """The module creates exactly the fixture's parameters, with their shapes."""
  got = {f'{m}//{p}': v.shape for m, ps in created.items() for p, v in ps.items()}
  want = {f'{m}//{p}': v.shape for m, ps in expected.items() for p, v in ps.items()}
  assert got == want


def run_module(fn, inputs, params):
  """Initialises `fn` (checking the param tree) and applies the fixture params."""
  transformed = hk.transform(fn)
  created = jax.eval_shape(
      lambda: transformed.init(jax.random.PRNGKey(0), **inputs))
  check_param_tree(created, params)
  return transformed.apply(params, None, **inputs)
