"""Fixtures of the inference tests: the bundled demo data, a tiny model."""
import os
import pathlib
import shutil

import pytest

from alphafold_jax.data import pipeline as pipeline_lib
from alphafold_jax.data import msa as msa_lib
from alphafold_jax.data import parsers
from alphafold_jax.data import templates as templates_lib
from tests.inference import tiny_model

ROOT = pathlib.Path(__file__).resolve().parents[2]
DEMO = ROOT / 'demo'
DEMO_FASTA = DEMO / '2rbg_A.fasta'
DEMO_A3M = DEMO / '2rbg_A_bfd_uniclust_hits.a3m'
DEMO_PDB = DEMO / '2rbg_A.pdb'
MINI_DATABASE = DEMO / 'databases' / 'mini_uniref.fasta'


@pytest.fixture(scope='session')
def tiny_config():
  return tiny_model.tiny_config()


@pytest.fixture(scope='session')
def tiny_params_path(tmp_path_factory, tiny_config):
  path = tmp_path_factory.mktemp('params') / 'tiny_model.npz'
  tiny_model.write_random_params(tiny_config, path)
  return path


def raw_features_from_a3m(num_res=None):
  """Raw features of the demo chain from its bundled alignment, optionally
  cut to the first num_res columns (a shorter real-data target)."""
  with open(DEMO_A3M) as f:
    msa = parsers.parse_a3m(f.read(), str(DEMO_A3M))
  with open(DEMO_FASTA) as f:
    name, sequence = parsers.parse_query_fasta(f.read())[0]
  if num_res is not None:
    msa = parsers.Msa(tuple(s[:num_res] for s in msa.sequences),
                      tuple(tuple(d[:num_res]) for d in msa.deletion_matrix),
                      msa.descriptions)
    sequence = sequence[:num_res]
  features = pipeline_lib.make_sequence_features(sequence, name)
  features.update(msa_lib.make_msa_features([msa]))
  features.update(templates_lib.empty_template_features(len(sequence)))
  return features


def copy_precomputed_bfd(msa_dir):
  """Puts the bundled alignment where the BFD search would write it."""
  os.makedirs(msa_dir, exist_ok=True)
  shutil.copy(DEMO_A3M, os.path.join(msa_dir, 'bfd_uniclust_hits.a3m'))


@pytest.fixture
def demo_paths():
  return {'fasta': DEMO_FASTA, 'a3m': DEMO_A3M, 'pdb': DEMO_PDB,
          'database': MINI_DATABASE}

