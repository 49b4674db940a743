"""Fixtures of the dataset tests: real structures, alignments computed by
the pipeline's jackhmmer against a small database made from their
sequences, the PDB set built from them, and a self-distillation set
predicted from some of them with the tiny preset."""
import importlib.util
import os
import pathlib
import shutil
import types

import numpy as np
import pytest

from alphafold_jax.data import parsers
from alphafold_jax.data.datasets import batched_prediction
from alphafold_jax.data.datasets import chains
from alphafold_jax.data.datasets import confidence_filter
from alphafold_jax.data.datasets import distillation_builder
from alphafold_jax.data.datasets import distillation_predictions
from alphafold_jax.data.datasets import pdb_builder
from alphafold_jax.data.datasets import provenance as provenance_lib
from alphafold_jax.data.tools import jackhmmer
from alphafold_jax.model import load_params
from alphafold_jax.model.params import param_shapes

DATA = pathlib.Path(__file__).parents[2] / 'fixtures' / 'data'
CONFIGS = pathlib.Path(__file__).parents[3] / 'configs'
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


# Self-distillation inputs: three sequences of the 96-residue bucket with
# alignments, one that fails the single-amino-acid filter, one without
# alignments; predicted two at a time by random tiny-preset parameters.
PREDICTED = ('1i8n_A', '1i8n_A_copy', '2xcj_A')
POLY_A = 'A' * 40 + 'CD'
PARAMS_SEED = 0
PREDICTION_BATCH = 2
PREDICTION_DATE = '2026-01-01'


def load_tiny_config():
  """configs/tiny.py with its inference MSA sizes cut to its training ones
  (the preset keeps the reference's 512 clusters and 1,024 extra rows)."""
  spec = importlib.util.spec_from_file_location('tiny_config',
                                                CONFIGS / 'tiny.py')
  module = importlib.util.module_from_spec(spec)
  spec.loader.exec_module(module)
  config = module.get_config()
  config.data.eval.max_msa_clusters = module.MAX_MSA_CLUSTERS
  config.data.common.max_extra_msa = module.MAX_EXTRA_MSA
  return config


def write_random_params(config, path):
  """Released-format random parameters for a network (scales 1, offsets 0,
  weights ~ N(0, 1/fan_in)), so that pLDDT varies from residue to residue
  (initialised parameters give a flat 50)."""
  rng = np.random.default_rng(PARAMS_SEED)
  flat = {}
  for key, shape in sorted(param_shapes(config).items()):
    if key.endswith('//scale'):
      flat[key] = np.ones(shape, np.float32)
    elif key.endswith(('//offset', '//bias')):
      flat[key] = np.zeros(shape, np.float32)
    else:
      flat[key] = (rng.standard_normal(shape) /
                   np.sqrt(shape[0])).astype(np.float32)
  np.savez(path, **flat)


@pytest.fixture(scope='session')
def tiny_config():
  return load_tiny_config()


@pytest.fixture(scope='session')
def distillation_inputs(tmp_path_factory, pdb_sources, tiny_config):
  """FASTA, MSA folders, a batched predictor and the provenance."""
  root = tmp_path_factory.mktemp('distillation_inputs')
  msa_dir = root / 'msas'
  msa_dir.mkdir()
  sequences = {}
  for name in ('1i8n_A', '2xcj_A'):
    shutil.copytree(os.path.join(pdb_sources.alignment_dir, name),
                    msa_dir / name)
    with open(msa_dir / name / 'uniref90_hits.sto') as f:
      sequences[name] = parsers.parse_stockholm(f.read()).sequences[0]
  shutil.copytree(msa_dir / '1i8n_A', msa_dir / '1i8n_A_copy')
  fasta = root / 'sequences.fasta'
  fasta.write_text(
      f'>1i8n_A\n{sequences["1i8n_A"]}\n>polyA\n{POLY_A}\n'
      f'>2xcj_A\n{sequences["2xcj_A"]}\n'
      f'>no_msa\n{sequences["2xcj_A"]}\n'
      f'>1i8n_A_copy\n{sequences["1i8n_A"]}\n')
  params_path = root / 'params_tiny.npz'
  write_random_params(tiny_config, params_path)
  params = load_params(params_path, config=tiny_config)
  return types.SimpleNamespace(
      fasta=str(fasta), msa_dir=str(msa_dir), predicted=PREDICTED,
      prediction_date=PREDICTION_DATE, params_path=str(params_path),
      batch_size=PREDICTION_BATCH,
      predictor=batched_prediction.BatchedPredictor(tiny_config, params,
                                                    PREDICTION_BATCH),
      provenance=provenance_lib.Provenance(
          'tiny', provenance_lib.file_sha256(params_path), PREDICTION_DATE))


def build_distillation(data_dir, inputs, min_mean_plddt=0., predictor=None,
                       provenance=None):
  return distillation_builder.build_distillation_dataset(
      str(data_dir), inputs.fasta, inputs.msa_dir,
      predictor or inputs.predictor, provenance or inputs.provenance,
      distillation_predictions.PredictionSettings(
          seed=0, progress_bar=False,
          confidence=confidence_filter.ConfidenceConfig(
              min_mean_plddt=min_mean_plddt)))


@pytest.fixture(scope='session')
def distillation_builder_fn():
  """`build_distillation(data_dir, inputs, min_mean_plddt=0., predictor=None,
  provenance=None)`."""
  return build_distillation


@pytest.fixture(scope='session')
def distillation_data_dir(tmp_path_factory, distillation_inputs):
  data_dir = tmp_path_factory.mktemp('distillation')
  build_distillation(data_dir, distillation_inputs)
  return str(data_dir)
