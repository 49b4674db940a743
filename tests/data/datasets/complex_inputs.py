"""Inputs of the complexes-set tests: real mmCIF entries and small
synthetic alignments in the layout the builders read (a few mutated rows
per chain, and UniProt hits whose species the chains share, so that
pairing has rows to pair)."""
import pathlib
import shutil

import numpy as np

from alphafold_jax.data import mmcif as mmcif_lib
from alphafold_jax.data.datasets import filters

DATA = pathlib.Path(__file__).parents[2] / 'fixtures' / 'data'
AMINO_ACIDS = 'ACDEFGHIKLMNPQRSTVWY'
SPECIES = ('HUMAN', 'MOUSE', 'YEAST')
NUM_ROWS = 3
MUTATION_RATE = 0.2


def _mutant(sequence, rng):
  letters = np.array(list(sequence))
  mutate = rng.random(len(letters)) < MUTATION_RATE
  letters[mutate] = rng.choice(list(AMINO_ACIDS), mutate.sum())
  return ''.join(letters)


def stockholm(rows):
  """Stockholm text of [(name, aligned sequence)]."""
  width = max(len(n) for n, _ in rows) + 2
  body = ''.join(f'{n:<{width}}{s}\n' for n, s in rows)
  return f'# STOCKHOLM 1.0\n\n{body}//\n'


def write_alignments(folder, name, sequence, seed, uniprot=True):
  """uniref90_hits.sto (and uniprot_hits.sto) of one chain in
  folder/name/."""
  rng = np.random.default_rng(seed)
  chain_dir = pathlib.Path(folder) / name
  chain_dir.mkdir(parents=True, exist_ok=True)
  rows = [(name, sequence)] + [(f'hit{i}', _mutant(sequence, rng))
                               for i in range(NUM_ROWS)]
  (chain_dir / 'uniref90_hits.sto').write_text(stockholm(rows))
  if uniprot:
    rows = [(name, sequence)] + [
        (f'tr|A0A{seed:02d}{i}|A0A{seed:02d}{i}_{species}/1-{len(sequence)}',
         _mutant(sequence, rng)) for i, species in enumerate(SPECIES)]
    (chain_dir / 'uniprot_hits.sto').write_text(stockholm(rows))


def make_inputs(root, entries, skip_alignments=(), uniprot=True):
  """structure_dir and alignment_dir under root: the mmCIF files
  `entries` (file names in tests/fixtures/data) and alignments of each of
  their protein chains except the chain names in skip_alignments."""
  root = pathlib.Path(root)
  structure_dir, alignment_dir = root / 'structures', root / 'alignments'
  structure_dir.mkdir(parents=True)
  alignment_dir.mkdir()
  seed = 0
  for entry in entries:
    shutil.copy(DATA / entry, structure_dir)
    parsed = mmcif_lib.read(str(DATA / entry))
    for chain_id, sequence in sorted(parsed.chain_to_seqres.items()):
      name = filters.chain_name(parsed.file_id, chain_id)
      seed += 1
      if name not in skip_alignments:
        write_alignments(alignment_dir, name, sequence, seed, uniprot)
  return str(structure_dir), str(alignment_dir)
