"""Atomic file writes: a reader sees the old file or the whole new one.

Each write goes to a temporary file in the destination's folder (same file
system, so the rename is atomic) and is renamed over the destination after
an fsync; a crash leaves at most a stray temporary file, never a half file.
"""
from __future__ import annotations

import io
import json
import os
import tempfile
from typing import Any, Mapping

import numpy as np


def write_bytes(path, data: bytes) -> None:
  """Writes `data` to `path` atomically (parent folders are created)."""
  path = os.fspath(path)
  folder = os.path.dirname(os.path.abspath(path))
  os.makedirs(folder, exist_ok=True)
  fd, tmp = tempfile.mkstemp(dir=folder, prefix='.tmp-',
                             suffix='-' + os.path.basename(path))
  try:
    with os.fdopen(fd, 'wb') as f:
      f.write(data)
      f.flush()
      os.fsync(f.fileno())
    os.replace(tmp, path)
  except BaseException:
    if os.path.exists(tmp):
      os.remove(tmp)
    raise


def write_json(path, value: Any) -> None:
  """JSON with sorted keys (identical content for identical values)."""
  write_bytes(path, (json.dumps(value, indent=2, sort_keys=True) +
                     '\n').encode())


def write_npz(path, arrays: Mapping[str, np.ndarray]) -> None:
  """An uncompressed .npz of `arrays`, written atomically."""
  buffer = io.BytesIO()
  np.savez(buffer, **arrays)
  write_bytes(path, buffer.getvalue())
