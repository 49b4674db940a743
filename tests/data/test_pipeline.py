"""The whole data pipeline on real data: FASTA -> jackhmmer (pyhmmer) and a
template search -> raw features -> process_features -> the model."""
import json
import pathlib
import subprocess
import sys

import haiku as hk
import jax
import ml_collections
import numpy as np
import pytest

from alphafold_jax import model
from alphafold_jax.data import features as features_lib
from alphafold_jax.data import mmcif
from alphafold_jax.data import parsers
from alphafold_jax.data import pipeline
from alphafold_jax.data import templates
from alphafold_jax.data.tools import hmmsearch
from alphafold_jax.data.tools import jackhmmer
from alphafold_jax.model import params as model_params

TESTDATA = pathlib.Path(__file__).parent / 'testdata'


class _MustNotRun:
  def query(self, *args, **kwargs):
    raise AssertionError('the precomputed alignment should have been used')


@pytest.fixture(scope='module')
def case(golden_dir, tmp_path_factory):
  """A database of the golden query's homologues among unrelated chains;
  the query FASTA; the template database and mmCIF folder."""
  tmp = tmp_path_factory.mktemp('pipeline')
  sequences, names = parsers.parse_fasta(
      (golden_dir / 'small' / 'msa.a3m').read_text())
  unrelated = (TESTDATA / 'pdb_chains.fasta').read_text()
  database = tmp / 'uniref.fasta'
  database.write_text(unrelated + ''.join(
      f'>{n.split()[0]}\n{s.replace("-", "").upper()}\n'
      for s, n in zip(sequences[1:], names[1:])))
  seqres = tmp / 'pdb_seqres.fasta'
  seqres.write_text(unrelated)
  fasta = tmp / 'query.fasta'
  fasta.write_text(f'>2rbg_A first 96 residues\n{sequences[0]}\n')
  return {'database': str(database), 'seqres': str(seqres),
          'fasta': str(fasta), 'query': sequences[0], 'tmp': tmp}


@pytest.fixture(scope='module')
def raw_features(case):
  data_pipeline = pipeline.DataPipeline(
      uniref90=jackhmmer.Jackhmmer(case['database'], cpus=1),
      mgnify=jackhmmer.Jackhmmer(case['database'], cpus=1),
      template_searcher=hmmsearch.Hmmsearch(case['seqres'], cpus=1),
      template_featurizer=templates.TemplateFeaturizer(
          str(TESTDATA / 'mmcif'), '2021-01-01'))
  return data_pipeline.process(case['fasta'], str(case['tmp'] / 'msas'))


def test_raw_features_have_the_golden_keys(raw_features, golden_dir, case):
  golden = np.load(golden_dir / 'small' / 'raw_features.npz')
  for key in golden.files:
    if key.startswith('all_atom'):
      continue
    assert key in raw_features, key
    assert raw_features[key].dtype == golden[key].dtype, key
    assert raw_features[key].shape[1:] == golden[key].shape[1:], key
  query = case['query']
  assert raw_features['aatype'].shape == (len(query), 21)
  msa = raw_features['msa']
  # Query first; the homologues found (duplicates of UniRef90 and MGnify
  # hits removed); the gapped homologues leave gaps and deletions.
  np.testing.assert_array_equal(msa[0], golden['msa'][0])
  assert 30 <= msa.shape[0] <= 41
  assert (msa == 21).any() and raw_features['deletion_matrix_int'].any()
  assert raw_features['template_aatype'].shape[0] == 0


def test_precomputed_msas_are_reused(raw_features, case):
  again = pipeline.DataPipeline(
      uniref90=_MustNotRun(), mgnify=_MustNotRun(),
      template_searcher=hmmsearch.Hmmsearch(case['seqres'], cpus=1),
      template_featurizer=templates.TemplateFeaturizer(
          str(TESTDATA / 'mmcif'), '2021-01-01'),
      use_precomputed_msas=True).process(case['fasta'],
                                         str(case['tmp'] / 'msas'))
  np.testing.assert_array_equal(again['msa'], raw_features['msa'])


def test_fasta_with_two_chains_is_refused(case, tmp_path):
  fasta = tmp_path / 'two.fasta'
  fasta.write_text('>a\nMKV\n>b\nMKL\n')
  with pytest.raises(parsers.ParseError, match='two.fasta.*one sequence'):
    pipeline.DataPipeline(uniref90=_MustNotRun()).process(str(fasta),
                                                          str(tmp_path))


def test_features_feed_the_model(raw_features, golden_dir):
  """The batch runs through the model with the golden (random) weights.

  No recycling and two structure-module layers (their weights are shared,
  so the golden parameters fit) keep the CPU time down.
  """
  small = golden_dir / 'small'
  with open(small / 'config.json') as f:
    config = ml_collections.ConfigDict(json.load(f))
  config.data.common.num_recycle = 0
  config.model.num_recycle = 0
  config.model.heads.structure_module.num_layer = 2
  batch = features_lib.process_features(raw_features, config, random_seed=0)
  golden = np.load(small / 'batch.npz')
  for key in golden.files:
    if key in batch:
      assert batch[key].shape[1:] == golden[key].shape[1:], key
      assert batch[key].dtype == golden[key].dtype, key
  assert batch['msa_feat'].shape[0] == 1
  np.testing.assert_array_equal(batch['template_mask'], 0)
  np.testing.assert_array_equal(batch['target_feat'], golden['target_feat'][:1])

  params = model_params.flat_to_haiku(dict(np.load(small / 'params.npz')))

  def forward(batch):
    return model.AlphaFold(config.model)(
        batch, is_training=False, compute_loss=False,
        ensemble_representations=False)

  outputs = jax.jit(hk.transform(forward).apply)(params, None, batch)
  positions = np.asarray(outputs['structure_module']['final_atom_positions'])
  assert positions.shape == (len(raw_features['aatype']), 37, 3)
  assert np.all(np.isfinite(positions))
  assert np.all(np.isfinite(np.asarray(outputs['predicted_lddt']['logits'])))


def test_pipeline_finds_a_template(tmp_path, golden_dir):
  """A BPTI variant: jackhmmer finds nothing but the query; hmmsearch finds
  5PTI in the seqres database; its coordinates become template features."""
  structure = mmcif.read(str(TESTDATA / 'mmcif' / '5PTI.cif.gz'))
  seqres = structure.chain_to_seqres['A']
  query = ''.join('A' if i % 9 == 4 else r for i, r in enumerate(seqres))
  fasta = tmp_path / 'bpti.fasta'
  fasta.write_text(f'>bpti_variant\n{query}\n')
  database = tmp_path / 'seqres.fasta'
  database.write_text(f'>5pti_A mol:protein length:{len(seqres)}\n{seqres}\n'
                      + (TESTDATA / 'pdb_chains.fasta').read_text())
  raw = pipeline.DataPipeline(
      uniref90=jackhmmer.Jackhmmer(str(TESTDATA / 'pdb_chains.fasta'), cpus=1),
      template_searcher=hmmsearch.Hmmsearch(str(database), cpus=1),
      template_featurizer=templates.TemplateFeaturizer(
          str(TESTDATA / 'mmcif'), '2021-01-01')).process(str(fasta),
                                                           str(tmp_path))
  assert raw['msa'].shape == (1, len(query))
  assert raw['template_domain_names'].tolist() == [b'5pti_A']
  assert (tmp_path / 'pdb_hits.sto').exists()
  with open(golden_dir / 'small' / 'config.json') as f:
    config = ml_collections.ConfigDict(json.load(f))
  batch = features_lib.process_features(raw, config)
  np.testing.assert_array_equal(batch['template_mask'][:, 0], 1)
  positions, mask = mmcif.get_atom_positions(structure, 'A')
  np.testing.assert_allclose(batch['template_all_atom_positions'][0, 0],
                             positions)
  np.testing.assert_array_equal(batch['template_aatype'][0, 0],
                                np.argmax(pipeline.make_sequence_features(
                                    seqres, '')['aatype'], -1))
  assert batch['template_pseudo_beta_mask'][0, 0].sum() == len(seqres)


def test_no_tensorflow_import():
  """The data pipeline imports without TensorFlow (run in a fresh process)."""
  code = ('import sys\n'
          'from alphafold_jax.data import features, pipeline, templates\n'
          'from alphafold_jax.data.tools import hhblits, hhsearch, hmmsearch, '
          'jackhmmer, kalign\n'
          'print(sorted(m for m in sys.modules if m == "tensorflow" '
          'or m.startswith("tensorflow.")))\n')
  result = subprocess.run([sys.executable, '-c', code], capture_output=True,
                          text=True, check=True,
                          cwd=pathlib.Path(__file__).parents[2])
  assert result.stdout.strip() == '[]'
