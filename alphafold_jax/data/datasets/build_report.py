"""What a dataset build kept and left out, and why.

The report is written as JSON next to the dataset's files
(`<dataset dir>/build_report.json`), atomically, once the dataset itself is
complete.
"""
from __future__ import annotations

import collections
import dataclasses
import json
import os
from typing import Dict, List

from absl import logging

from alphafold_jax.common import atomic

REPORT_FILE = 'build_report.json'
# Why a chain is left out.
UNREADABLE = 'unreadable'   # the structure file or chain cannot be used
FILTERED = 'filtered'       # it fails a filter of Suppl. 1.2.5
NO_ALIGNMENT = 'alignment'  # its alignments are missing or malformed
REJECTED = 'rejected'       # (distillation) its prediction is not confident


@dataclasses.dataclass
class BuildReport:
  """Kept example names and skipped ones with their reasons."""
  dataset: str
  kept: List[str] = dataclasses.field(default_factory=list)
  skipped: List[Dict[str, str]] = dataclasses.field(default_factory=list)

  def keep(self, name: str) -> None:
    self.kept.append(name)

  def skip(self, name: str, source: str, kind: str, reason: str) -> None:
    logging.warning('%s: skipping %s (%s): %s', self.dataset, name, source,
                    reason)
    self.skipped.append({'name': name, 'source': source, 'kind': kind,
                         'reason': reason})

  def counts(self) -> Dict[str, int]:
    counts = collections.Counter(s['kind'] for s in self.skipped)
    return {'kept': len(self.kept), **dict(sorted(counts.items()))}

  def to_json(self) -> Dict[str, object]:
    return {'dataset': self.dataset, 'counts': self.counts(),
            'kept': sorted(self.kept),
            'skipped': sorted(self.skipped, key=lambda s: (s['name'],
                                                           s['reason']))}

  def write(self, folder) -> str:
    path = os.path.join(os.fspath(folder), REPORT_FILE)
    atomic.write_json(path, self.to_json())
    return path


def read(folder) -> Dict[str, object]:
  """The report of the dataset in `folder`."""
  with open(os.path.join(os.fspath(folder), REPORT_FILE)) as f:
    return json.load(f)
