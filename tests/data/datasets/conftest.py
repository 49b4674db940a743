"""Fixtures of the dataset tests: real structures, alignments computed by
the pipeline's jackhmmer against a small database made from their
sequences, and PDB sets built from them."""
import os
import pathlib
import shutil
import types

import numpy as np
import pytest

from alphafold_jax.data.datasets import chains
from alphafold_jax.data.datasets import pdb_builder
from alphafold_jax.data.tools import jackhmmer

DATA = pathlib.Path(__file__).parents[2] / 'fixtures' / 'data'
# Kept: 5PTI (mmCIF), 1i8nA and 2xcjA (single-chain PDB files).
# Filtered: 1YJP (7 residues), 7ETN (released 2022). Skipped: 3a4rA has no
# alignment folder, 1lpbA a malformed one, 9bad.cif.gz is not gzip.
STRUCTURES = ('5PTI.cif.gz', '1YJP.cif.gz', '7ETN.cif.gz', '1i8nA.pdb.gz',
              '2xcjA.pdb.gz', '1lpbA.pdb.gz', '3a4rA.pdb.gz')
KEPT = ('1i8n_A', '2xcj_A', '5pti_A')
NO_ALIGNMENT = '3a4r_A'
MALFORMED_ALIGNMENT = '1lpb_A'
UNREADABLE_FILE = '9bad.cif.gz'
# Homologues per sequence in the search database and their mutation rate,
# so that the alignments have more than the query in them.
NUM_VARIANTS = 4
MUTATION_RATE = 0.15
DATABASE_SEED = 0
AMINO_ACIDS = 'ACDEFGHIKLMNPQRSTVWY'


def _variants(sequence, rng):
  out = []
  for _ in range(NUM_VARIANTS):
    letters = np.array(list(sequence))
    mutate = rng.random(len(letters)) < MUTATION_RATE
    letters[mutate] = rng.choice(list(AMINO_ACIDS), mutate.sum())
    out.append(''.join(letters))
  return out


def make_pdb_inputs(root):
  """structure_dir, alignment_dir and clusters file under `root`."""
  root = pathlib.Path(root)
  structure_dir = root / 'structures'
  alignment_dir = root / 'alignments'
  structure_dir.mkdir(parents=True)
  alignment_dir.mkdir()
  for name in STRUCTURES:
    shutil.copy(DATA / name, structure_dir)
  (structure_dir / UNREADABLE_FILE).write_bytes(b'not a gzip file')
  rng = np.random.default_rng(DATABASE_SEED)
  readable = [c for c in chains.read_chains(str(structure_dir))
              if isinstance(c, chains.ChainStructure)]
  database = root / 'database.fasta'
  with open(database, 'w') as f:
    for chain in readable:
      f.write(f'>{chain.name}\n{chain.sequence}\n')
      for i, variant in enumerate(_variants(chain.sequence, rng)):
        f.write(f'>{chain.name}_variant{i}\n{variant}\n')
  search = jackhmmer.Jackhmmer(str(database), cpus=1)
  for chain in readable:
    if chain.name == NO_ALIGNMENT:
      continue
    folder = alignment_dir / chain.name
    folder.mkdir()
    hits = search.query(chain.sequence)
    # The database doubles as UniRef90 and MGnify.
    (folder / 'uniref90_hits.sto').write_text(hits)
    (folder / 'mgnify_hits.sto').write_text(hits)
  (alignment_dir / MALFORMED_ALIGNMENT / 'uniref90_hits.sto').write_text(
      '# STOCKHOLM 1.0\nquery ACD\nhit ACDEF\n//\n')
  clusters = root / 'clusters.txt'
  clusters.write_text('5PTI_A 1I8N_A\n2XCJ_A\n')
  return pdb_builder.PdbSources(str(structure_dir), str(alignment_dir),
                                clusters_path=str(clusters))


@pytest.fixture(scope='session')
def pdb_layout():
  """What the PDB build of `pdb_sources` keeps and skips."""
  return types.SimpleNamespace(
      kept=KEPT, no_alignment=NO_ALIGNMENT,
      malformed_alignment=MALFORMED_ALIGNMENT)


@pytest.fixture(scope='session')
def pdb_sources(tmp_path_factory):
  return make_pdb_inputs(tmp_path_factory.mktemp('pdb_inputs'))


@pytest.fixture(scope='session')
def pdb_data_dir(tmp_path_factory, pdb_sources):
  data_dir = tmp_path_factory.mktemp('tfds')
  pdb_builder.build_pdb_dataset(str(data_dir), pdb_sources)
  return str(data_dir)
