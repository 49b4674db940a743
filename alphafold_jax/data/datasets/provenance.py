"""Where a self-distillation prediction came from: the model preset, a hash
of its parameters, and the date of the build."""
from __future__ import annotations

import dataclasses
import datetime
import hashlib
from typing import Mapping

import numpy as np

# Bytes read at a time when hashing a parameter file.
_CHUNK = 1 << 20


@dataclasses.dataclass(frozen=True)
class Provenance:
  """Attributes:
    model_preset: the config's name (e.g. 'model_1', 'tiny').
    params_sha256: hex SHA-256 of the parameters (`file_sha256` of a
      released .npz, `params_sha256` of a checkpoint's arrays).
    prediction_date: 'YYYY-MM-DD' the build started.
  """
  model_preset: str
  params_sha256: str
  prediction_date: str

  def to_json(self) -> dict:
    return dataclasses.asdict(self)


def today() -> str:
  return datetime.date.today().isoformat()


def file_sha256(path: str) -> str:
  digest = hashlib.sha256()
  with open(path, 'rb') as f:
    for chunk in iter(lambda: f.read(_CHUNK), b''):
      digest.update(chunk)
  return digest.hexdigest()


def params_sha256(params: Mapping[str, Mapping[str, np.ndarray]]) -> str:
  """SHA-256 over the arrays of a Haiku dict, in sorted path order (names,
  dtypes, shapes and bytes), for parameters that are not a single file."""
  digest = hashlib.sha256()
  for module in sorted(params):
    for name in sorted(params[module]):
      array = np.ascontiguousarray(np.asarray(params[module][name]))
      digest.update(f'{module}/{name}:{array.dtype.str}:{array.shape}'.encode())
      digest.update(array.tobytes())
  return digest.hexdigest()
