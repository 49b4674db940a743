"""End to end on real data: FASTA -> features (the bundled alignment and
jackhmmer against a small bundled database) -> tiny model -> relaxed,
ranked PDB and mmCIF, with every JSON and PNG well formed."""
import json
import os
import pickle

import numpy as np
import pytest

from alphafold_jax.common import protein
from alphafold_jax.common import residue_constants
from alphafold_jax.data import parsers
from alphafold_jax.inference import databases
from alphafold_jax.inference import run
from tests.inference.conftest import DEMO_FASTA
from tests.inference.conftest import MINI_DATABASE
from tests.inference.conftest import copy_precomputed_bfd

# Bounded relaxation: random weights make structures far from physical.
RELAX_MAX_ITERATIONS = 50
PNG_MAGIC = b'\x89PNG\r\n\x1a\n'


@pytest.fixture(scope='module')
def prediction(tmp_path_factory, tiny_config, tiny_params_path):
  output_dir = tmp_path_factory.mktemp('predict')
  # The BFD alignment is bundled; UniRef90 and MGnify are searched.
  copy_precomputed_bfd(output_dir / '2rbg_A' / 'msas')
  database = str(MINI_DATABASE)
  options = run.RunOptions(
      fasta_paths=[str(DEMO_FASTA)], output_dir=str(output_dir),
      checkpoint=str(tiny_params_path), checkpoint_config=tiny_config,
      databases=databases.DatabasePaths(uniref90_database_path=database,
                                        mgnify_database_path=database),
      db_preset='full_dbs', use_precomputed_msas=True,
      models_to_relax='best', random_seed=0, save_embeddings=True,
      relax_max_iterations=RELAX_MAX_ITERATIONS,
      relax_max_outer_iterations=1)
  result = run.run(options)['2rbg_A']
  return result, output_dir / '2rbg_A'


def test_every_output_is_written(prediction):
  _, out = prediction
  name = 'model_checkpoint'
  expected = ['features.pkl', 'msas/uniref90_hits.sto', 'msas/mgnify_hits.sto',
              'msas/bfd_uniclust_hits.a3m', f'unrelaxed_{name}.pdb',
              f'relaxed_{name}.pdb', 'ranked_0.pdb', 'ranked_0.cif',
              f'result_{name}.pkl', 'ranking_debug.json', 'timings.json',
              'relax_metrics.json', f'confidence_{name}.json',
              f'pae_{name}.json', f'confidence_{name}.png',
              f'embeddings_{name}.npz']
  missing = [f for f in expected if not (out / f).is_file()]
  assert not missing
  assert not [f for f in os.listdir(out) if f.startswith('.tmp')]


def test_jackhmmer_found_the_homologues(prediction):
  _, out = prediction
  msa = parsers.parse_stockholm((out / 'msas/uniref90_hits.sto').read_text())
  assert len(msa) > 10
  with open(out / 'features.pkl', 'rb') as f:
    features = pickle.load(f)
  # Query + bundled alignment + search hits, deduplicated.
  assert features['msa'].shape[1] == 96
  assert features['msa'].shape[0] > 41


def test_structures_parse_back(prediction):
  result, out = prediction
  plddt = result['predictions']['model_checkpoint']['plddt']
  for file_name in ('unrelaxed_model_checkpoint.pdb',
                    'relaxed_model_checkpoint.pdb', 'ranked_0.pdb'):
    prot = protein.from_pdb_string((out / file_name).read_text())
    assert prot.aatype.shape == (96,)
    # pLDDT is in the B-factors, as in the released outputs.
    np.testing.assert_allclose(prot.b_factors[:, 1], plddt, atol=0.01)
  cif = protein.from_mmcif_string((out / 'ranked_0.cif').read_text())
  ranked = protein.from_pdb_string((out / 'ranked_0.pdb').read_text())
  np.testing.assert_allclose(cif.atom_positions, ranked.atom_positions,
                             atol=1e-3)
  assert 'H' in {line[76:78].strip() for line in
                 (out / 'relaxed_model_checkpoint.pdb').read_text().splitlines()
                 if line.startswith('ATOM')}


def test_json_files_are_well_formed(prediction):
  _, out = prediction
  name = 'model_checkpoint'
  ranking = json.loads((out / 'ranking_debug.json').read_text())
  assert ranking['order'] == [name]
  assert 0 <= ranking['plddts'][name] <= 100
  timings = json.loads((out / 'timings.json').read_text())
  assert {'features', f'predict_and_compile_{name}', f'relax_{name}'} <= set(
      timings)
  relax = json.loads((out / 'relax_metrics.json').read_text())
  assert len(relax[name]['remaining_violations']) == 96
  confidence = json.loads((out / f'confidence_{name}.json').read_text())
  assert confidence['residueNumber'] == list(range(1, 97))
  assert len(confidence['confidenceScore']) == 96
  assert set(confidence['confidenceCategory']) <= set('DLMH')
  pae = json.loads((out / f'pae_{name}.json').read_text())
  matrix = np.asarray(pae[0]['predicted_aligned_error'])
  assert matrix.shape == (96, 96)
  assert 0 <= matrix.min() and matrix.max() <= pae[0][
      'max_predicted_aligned_error']


def test_png_and_embeddings(prediction, tiny_config):
  _, out = prediction
  assert (out / 'confidence_model_checkpoint.png').read_bytes()[:8] == (
      PNG_MAGIC)
  embeddings = np.load(out / 'embeddings_model_checkpoint.npz')
  evo = tiny_config.model.embeddings_and_evoformer
  assert embeddings['single'].shape == (96, evo.seq_channel)
  assert embeddings['pair'].shape == (96, 96, evo.pair_channel)
  with open(out / 'result_model_checkpoint.pkl', 'rb') as f:
    result = pickle.load(f)
  assert result['structure_module']['final_atom_positions'].shape == (
      96, 37, 3)
  assert 'representations' not in result


# reduced_dbs: variants of the query make up the small BFD, so that the
# rows its jackhmmer search contributes are recognisable.
NUM_SMALL_BFD_VARIANTS = 5
SMALL_BFD_MUTATION_RATE = 0.15
VARIANT_IDENTITY = 0.95


@pytest.fixture(scope='module')
def reduced_prediction(tmp_path_factory, tiny_config, tiny_params_path):
  root = tmp_path_factory.mktemp('reduced')
  _, sequence = parsers.parse_query_fasta(DEMO_FASTA.read_text())[0]
  rng = np.random.default_rng(0)
  amino_acids = np.array(list('ACDEFGHIKLMNPQRSTVWY'))
  variants = {}
  for i in range(NUM_SMALL_BFD_VARIANTS):
    letters = np.array(list(sequence))
    mutate = rng.random(len(letters)) < SMALL_BFD_MUTATION_RATE
    letters[mutate] = rng.choice(amino_acids, mutate.sum())
    variants[f'small_bfd_variant{i}'] = ''.join(letters)
  small_bfd = root / 'small_bfd.fasta'
  small_bfd.write_text(''.join(f'>{n}\n{s}\n' for n, s in variants.items()))
  database = str(MINI_DATABASE)
  options = run.RunOptions(
      fasta_paths=[str(DEMO_FASTA)], output_dir=str(root / 'out'),
      checkpoint=str(tiny_params_path), checkpoint_config=tiny_config,
      databases=databases.DatabasePaths(
          uniref90_database_path=database, mgnify_database_path=database,
          small_bfd_database_path=str(small_bfd)),
      db_preset='reduced_dbs', models_to_relax='none', random_seed=0)
  result = run.run(options)['2rbg_A']
  return result, root / 'out' / '2rbg_A', variants


def test_reduced_dbs_end_to_end(reduced_prediction):
  """reduced_dbs: no HHblits; the small BFD is searched with jackhmmer and
  its hits join the MSA the model sees; the prediction is written."""
  result, out, variants = reduced_prediction
  assert not (out / 'msas' / 'bfd_uniclust_hits.a3m').exists()
  small_bfd = parsers.parse_stockholm(
      (out / 'msas' / 'small_bfd_hits.sto').read_text())
  assert {d.split('/')[0] for d in small_bfd.descriptions} >= set(variants)
  with open(out / 'features.pkl', 'rb') as f:
    features = pickle.load(f)
  query = features['msa'][0]
  for name, variant in variants.items():
    encoded = np.array([residue_constants.HHBLITS_AA_TO_ID[r]
                        for r in variant])
    # A row that is this variant (up to a few residues the local alignment
    # leaves out at its ends), which no other database holds.
    identity = np.mean(features['msa'] == encoded, axis=-1)
    assert np.mean(query == encoded) < VARIANT_IDENTITY
    assert np.max(identity) > VARIANT_IDENTITY, name
  assert result['ranking']['order'] == ['model_checkpoint']
  ranked = protein.from_pdb_string((out / 'ranked_0.pdb').read_text())
  assert ranked.aatype.shape == (len(next(iter(variants.values()))),)
