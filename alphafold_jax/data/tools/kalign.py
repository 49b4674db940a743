"""Kalign: realigns a template's PDB-seqres sequence to its mmCIF sequence
(Suppl. 1.2.3), through its binary."""
from __future__ import annotations

import os
import tempfile
from typing import Sequence

from alphafold_jax.data.tools import subprocess_tool

# Kalign fails on shorter sequences.
MIN_SEQUENCE_LENGTH = 6
TIMEOUT_S = 600


class Kalign:
  """Multiple alignment of a few sequences."""

  def __init__(self, binary_path: str = 'kalign',
               timeout_s: float = TIMEOUT_S):
    """
    Raises:
      ToolError: the binary is missing.
    """
    self.binary_path = subprocess_tool.find_binary(binary_path)
    self.timeout_s = timeout_s

  def align(self, sequences: Sequence[str]) -> str:
    """The A3M (aligned FASTA) of `sequences`, in input order.

    Raises:
      ValueError: a sequence shorter than 6 residues.
    """
    for sequence in sequences:
      if len(sequence) < MIN_SEQUENCE_LENGTH:
        raise ValueError(f'kalign needs sequences of at least '
                         f'{MIN_SEQUENCE_LENGTH} residues, got {sequence!r}.')
    with tempfile.TemporaryDirectory() as tmp:
      input_path = os.path.join(tmp, 'input.fasta')
      output_path = os.path.join(tmp, 'output.a3m')
      with open(input_path, 'w') as f:
        f.write(''.join(f'>sequence {i}\n{s}\n'
                        for i, s in enumerate(sequences)))
      subprocess_tool.run([self.binary_path, '-i', input_path, '-o',
                           output_path, '-format', 'fasta'], self.timeout_s,
                          'kalign')
      with open(output_path) as f:
        return f.read()
