"""The complexes set built from real mmCIF entries: assemblies, filters and
max chains, per-sequence alignments with UniProt rows, weights, bad files
reported and skipped, and a build killed midway resumed to the same set."""
import gzip
import os
import pathlib
import shutil

import numpy as np
import pytest

from alphafold_jax.common import residue_constants
from alphafold_jax.data import parsers
from alphafold_jax.data.datasets import alignments
from alphafold_jax.data.datasets import build_report
from alphafold_jax.data.datasets import complex_builder
from alphafold_jax.data.datasets import complex_records
from alphafold_jax.data.datasets import complexes
from alphafold_jax.data.datasets import filters
from alphafold_jax.data.datasets import records
from alphafold_jax.data.datasets import sources
from alphafold_jax.data.multimer import features as multimer_features
from tests.data.datasets import complex_inputs

ENTRIES = ('1YJP.cif.gz', '5PTI.cif.gz', '7ETN.cif.gz', '1BD2.cif.gz')
NOT_GZIP = '9bad.cif.gz'
TRUNCATED = '8bad.cif'
# 1YJP's 7-residue strands pass; 7ETN (released 2022) does not.
FILTERS = filters.FilterConfig(min_length=5)
CLUSTERS = '1BD2_A 5PTI_A\n'
GAP = residue_constants.restypes_with_x_and_gap.index('-')


def _inputs(root):
  structure_dir, alignment_dir = complex_inputs.make_inputs(root, ENTRIES)
  (pathlib.Path(structure_dir) / NOT_GZIP).write_bytes(b'not a gzip file')
  with gzip.open(complex_inputs.DATA / '5PTI.cif.gz', 'rt') as f:
    text = f.read()
  (pathlib.Path(structure_dir) / TRUNCATED).write_text(text[:len(text) // 3])
  clusters = pathlib.Path(root) / 'clusters.txt'
  clusters.write_text(CLUSTERS)
  return complex_builder.ComplexSources(
      structure_dir, alignment_dir, clusters_path=str(clusters),
      filter_config=FILTERS, max_chains=5)


@pytest.fixture(scope='module')
def complex_sources(tmp_path_factory):
  return _inputs(tmp_path_factory.mktemp('complex_inputs'))


@pytest.fixture(scope='module')
def data_dir(tmp_path_factory, complex_sources):
  data_dir = str(tmp_path_factory.mktemp('complex_tfds'))
  complex_builder.build_complex_dataset(data_dir, complex_sources)
  return data_dir


@pytest.fixture(scope='module')
def bd2(complex_sources):
  return complexes.read_complex(os.path.join(complex_sources.structure_dir,
                                             '1BD2.cif.gz'))


def _by_name(data_dir):
  source = sources.open_dataset(data_dir, sources.COMPLEX_DATASET)
  return {records.text(source[i], 'name'): source[i]
          for i in range(len(source))}


def test_keeps_assemblies_and_reports_the_rest(data_dir):
  report = build_report.read(sources.dataset_dir(data_dir,
                                                 sources.COMPLEX_DATASET))
  assert report['kept'] == ['1bd2', '1yjp', '5pti']
  reasons = {s['name']: (s['kind'], s['reason']) for s in report['skipped']}
  assert reasons['7etn'] == (build_report.FILTERED,
                             'released 2022-05-25, after the cutoff '
                             '2018-04-30')
  # Bad mmCIFs are reported, by file, and the build goes on.
  assert reasons['9bad'][0] == reasons['8bad'][0] == build_report.UNREADABLE
  assert 'not a readable gzip file' in reasons['9bad'][1]
  assert '8bad.cif' in reasons['8bad'][1]
  assert report['counts'] == {'kept': 3, 'filtered': 1, 'unreadable': 2}
  weights = sources.read_sampling_weights(data_dir, sources.COMPLEX_DATASET)
  assert len(weights) == 3


def test_records_hold_the_assembly_alignments_and_weights(data_dir,
                                                          complex_sources):
  examples = _by_name(data_dir)
  homomer = examples['1yjp']
  assert complex_records.split_names(homomer, 'chain_ids') == ['A-1', 'A-2']
  np.testing.assert_array_equal(homomer['chain_entity'], [0, 0])
  assert homomer['msa_all_seq'].size == 0  # copies are not paired
  heteromer = examples['1bd2']
  assert complex_records.split_names(heteromer, 'chain_ids') == list('ABCDE')
  np.testing.assert_array_equal(heteromer['chain_lengths'],
                                [275, 100, 9, 204, 244])
  chains = complex_records.chain_features(heteromer)
  sequences = complex_records.split_names(heteromer, 'entity_sequences')
  for chain_id, features in chains.items():
    folder = os.path.join(complex_sources.alignment_dir, f'1bd2_{chain_id}')
    expected = alignments.msa_features(folder, sequences['ABCDE'.index(
        chain_id)])
    np.testing.assert_array_equal(features['msa'], expected['msa'])
    uniprot = complexes.uniprot_features(folder, expected_query(folder))
    np.testing.assert_array_equal(features['msa_all_seq'],
                                  uniprot['msa_all_seq'])
    assert list(features['msa_species_identifiers_all_seq']) == (
        [b''] + [s.encode() for s in complex_inputs.SPECIES])
  # The pipeline pairs the chains' UniProt rows by species: the query row,
  # then one row per species (all five chains have each): no gaps.
  example = multimer_features.process_multimer_features(chains,
                                                        min_msa_rows=0)
  paired = 1 + len(complex_inputs.SPECIES)
  np.testing.assert_array_equal(example['msa'][0], example['aatype'])
  assert not (example['msa'][:paired] == GAP).any()
  assert (example['msa'][paired:] == GAP).any()  # block-diagonal rows
  # Weights: chains by cluster (1bd2_A shares one with 5pti_A), plus one
  # per interface (each chain pair its own interface cluster here).
  assert examples['5pti']['sampling_weight'] == np.float32(0.5)
  num_interfaces = len(heteromer['interfaces'])
  assert num_interfaces >= 4
  np.testing.assert_allclose(heteromer['sampling_weight'],
                             0.5 + 4 + num_interfaces)
  # Copies count once; their contact is one interface.
  np.testing.assert_allclose(homomer['sampling_weight'], 1 + 1)


def expected_query(folder):
  with open(os.path.join(folder, 'uniref90_hits.sto')) as f:
    return parsers.parse_stockholm(f.read()).sequences[0]


def test_filters_drop_short_chains_and_large_complexes(bd2):
  complex_ = bd2
  kept, left_out = complexes.apply_filters(
      complex_, filters.FilterConfig(min_length=10), max_chains=4)
  assert [c.chain_id for c in kept.chains] == list('ABDE')
  assert left_out == [('1bd2_C', '9 residues, fewer than 10')]
  kept, left_out = complexes.apply_filters(
      complex_, filters.FilterConfig(min_length=10), max_chains=3)
  assert kept is None
  assert left_out[-1] == ('1bd2', '4 chains, more than 3')
  kept, left_out = complexes.apply_filters(
      complex_, filters.FilterConfig(max_resolution=2.))
  assert kept is None and 'resolution 2.50' in left_out[0][1]


def test_a_heteromer_needs_its_uniprot_hits(complex_sources, bd2,
                                            tmp_path):
  alignment_dir = tmp_path / 'alignments'
  shutil.copytree(complex_sources.alignment_dir, alignment_dir)
  os.remove(alignment_dir / '1bd2_B' / complexes.UNIPROT)
  with pytest.raises(alignments.AlignmentError, match='uniprot_hits.sto'):
    complexes.entity_alignments(str(alignment_dir), bd2.chains)


def test_a_killed_build_resumes_to_the_same_set(complex_sources, data_dir,
                                                tmp_path, monkeypatch):
  real = complex_builder.prepare_entry
  calls = []

  def dies_on_the_third_entry(path, sources_):
    calls.append(os.path.basename(path))
    if len(calls) == 3:
      raise KeyboardInterrupt
    return real(path, sources_)

  monkeypatch.setattr(complex_builder, 'prepare_entry',
                      dies_on_the_third_entry)
  with pytest.raises(KeyboardInterrupt):
    complex_builder.build_complex_dataset(str(tmp_path), complex_sources)
  with pytest.raises(FileNotFoundError):
    sources.open_dataset(str(tmp_path), sources.COMPLEX_DATASET)
  done = calls[:2]
  calls.clear()
  monkeypatch.setattr(complex_builder, 'prepare_entry',
                      lambda *a: calls.append(os.path.basename(a[0])) or
                      real(*a))
  complex_builder.build_complex_dataset(str(tmp_path), complex_sources)
  # Only the entries not done before are read again.
  assert not set(done) & set(calls) and len(done) + len(calls) == 6
  resumed, uninterrupted = _by_name(str(tmp_path)), _by_name(data_dir)
  assert resumed.keys() == uninterrupted.keys()
  for name in resumed:
    for key in resumed[name]:
      np.testing.assert_array_equal(resumed[name][key],
                                    uninterrupted[name][key], err_msg=key)
  # The work folder of other filters is refused, not mixed in.
  os.remove(os.path.join(sources.dataset_dir(str(tmp_path),
                                             sources.COMPLEX_DATASET),
                         'dataset_info.json'))
  other = complex_builder.ComplexSources(
      complex_sources.structure_dir, complex_sources.alignment_dir,
      filter_config=filters.FilterConfig(min_length=20))
  with pytest.raises(ValueError, match='was prepared with'):
    complex_builder.build_complex_dataset(str(tmp_path), other)
