"""Training metrics: JSON lines in the workdir, TensorBoard event files when
tensorboardX is installed."""
from __future__ import annotations

import json
import math
import pathlib
from typing import Mapping

import numpy as np

METRICS_FILE = 'metrics.jsonl'
TENSORBOARD_DIR = 'tensorboard'

try:  # Optional: TensorBoard logging only where the package is installed.
  from tensorboardX import SummaryWriter
except ImportError:  # pragma: no cover - depends on the environment
  SummaryWriter = None


def _to_python(value):
  value = np.asarray(value).item()
  if isinstance(value, float) and not math.isfinite(value):
    return str(value)  # JSON has no NaN or infinity
  return value


class MetricsWriter:
  """Appends one JSON object per logged step to workdir/metrics.jsonl.

  Appending (not truncating) keeps the history of a resumed run; only the
  writer of process 0 should be created in a multi-host run.
  """

  def __init__(self, workdir, tensorboard: bool = True):
    workdir = pathlib.Path(workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    self.path = workdir / METRICS_FILE
    self._file = open(self.path, 'a')
    self._tensorboard = (SummaryWriter(str(workdir / TENSORBOARD_DIR))
                         if tensorboard and SummaryWriter is not None
                         else None)

  def write(self, step: int, metrics: Mapping[str, float]) -> dict:
    record = {'step': int(step)}
    record.update({k: _to_python(v) for k, v in sorted(metrics.items())})
    self._file.write(json.dumps(record) + '\n')
    self._file.flush()
    if self._tensorboard is not None:
      for key, value in record.items():
        if key != 'step' and isinstance(value, (int, float)):
          self._tensorboard.add_scalar(key, value, step)
    return record

  def close(self) -> None:
    self._file.close()
    if self._tensorboard is not None:
      self._tensorboard.close()


def read_metrics(workdir) -> list:
  """The records of workdir/metrics.jsonl, in order."""
  with open(pathlib.Path(workdir) / METRICS_FILE) as f:
    return [json.loads(line) for line in f if line.strip()]
