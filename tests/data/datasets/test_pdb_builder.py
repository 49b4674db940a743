"""The PDB set built from real structures, read back and checked against
the source files (issue 4, "Must show")."""
import dataclasses
import gzip
import os
import shutil
import sys

import numpy as np
import pytest

from alphafold_jax.common import protein as protein_lib
from alphafold_jax.common import residue_constants
from alphafold_jax.data import mmcif as mmcif_lib
from alphafold_jax.data import parsers
from alphafold_jax.data import templates
from alphafold_jax.data.datasets import build_report
from alphafold_jax.data.datasets import filters
from alphafold_jax.data.datasets import pdb_builder
from alphafold_jax.data.datasets import records
from alphafold_jax.data.datasets import sources


# Residues of the template hit of test_templates_from_pdb70_hits.
ALIGNED = 20


def _by_name_from(pdb_sources, name):
  """A chain's sequence, read from its alignment's query row."""
  path = os.path.join(pdb_sources.alignment_dir, name, 'uniref90_hits.sto')
  with open(path) as f:
    return parsers.parse_stockholm(f.read()).sequences[0]


def _by_name(source):
  return {records.text(source[i], 'name'): source[i]
          for i in range(len(source))}


def test_keeps_the_chains_that_pass_and_reports_the_rest(pdb_data_dir,
                                                        pdb_layout):
  report = build_report.read(sources.dataset_dir(pdb_data_dir,
                                                 pdb_builder.PDB_DATASET))
  assert report['kept'] == list(pdb_layout.kept)
  reasons = {s['name']: (s['kind'], s['reason']) for s in report['skipped']}
  assert reasons['1yjp_A'][0] == build_report.FILTERED
  assert 'fewer than' in reasons['1yjp_A'][1]
  assert reasons['7etn_A'][0] == reasons['7etn_B'][0] == build_report.FILTERED
  assert 'after the cutoff 2018-04-30' in reasons['7etn_A'][1]
  assert reasons[pdb_layout.no_alignment][0] == build_report.NO_ALIGNMENT
  assert reasons[pdb_layout.malformed_alignment][0] == build_report.NO_ALIGNMENT
  assert 'malformed uniref90_hits.sto' in reasons[
      pdb_layout.malformed_alignment][1]
  assert reasons['9bad'][0] == build_report.UNREADABLE
  assert report['counts'] == {'kept': 3, 'filtered': 3, 'alignment': 2,
                              'unreadable': 1}
  assert len(sources.open_dataset(pdb_data_dir,
                                  pdb_builder.PDB_DATASET)) == 3


def test_mmcif_example_matches_the_source_file(pdb_data_dir, pdb_sources):
  example = _by_name(sources.open_dataset(
      pdb_data_dir, pdb_builder.PDB_DATASET))['5pti_A']
  entry = mmcif_lib.read(os.path.join(pdb_sources.structure_dir,
                                      '5PTI.cif.gz'))
  sequence = entry.chain_to_seqres['A']
  positions, mask = mmcif_lib.get_atom_positions(entry, 'A')
  assert records.text(example, 'sequence') == sequence
  np.testing.assert_array_equal(example['all_atom_positions'], positions)
  np.testing.assert_array_equal(example['all_atom_mask'], mask)
  np.testing.assert_array_equal(example['residue_index'],
                                np.arange(len(sequence)))
  assert example['resolution'] == np.float32(1.0)
  assert records.text(example, 'release_date') == '1984-10-29'
  assert 'x-ray diffraction' in records.text(example, 'structure_method')
  # Cluster {5pti_A, 1i8n_A}; 58 residues are below the 256 floor.
  assert example['cluster_size'] == 2
  np.testing.assert_allclose(example['sampling_weight'],
                             filters.length_weight(58) / 2)
  assert example['is_distillation'] == 0


def test_pdb_file_example_matches_the_source_file(pdb_data_dir, pdb_sources):
  example = _by_name(sources.open_dataset(
      pdb_data_dir, pdb_builder.PDB_DATASET))['1i8n_A']
  with gzip.open(os.path.join(pdb_sources.structure_dir, '1i8nA.pdb.gz'),
                 'rt') as f:
    prot = protein_lib.from_pdb_string(f.read(), 'A')
  np.testing.assert_array_equal(example['aatype'], prot.aatype)
  np.testing.assert_array_equal(example['residue_index'], prot.residue_index)
  np.testing.assert_allclose(example['all_atom_positions'],
                             prot.atom_positions, atol=1e-4)
  np.testing.assert_array_equal(example['all_atom_mask'], prot.atom_mask)
  assert example['resolution'] == 0.


def test_msa_is_the_alignments_of_the_chain(pdb_data_dir, pdb_sources):
  for name, example in _by_name(sources.open_dataset(
      pdb_data_dir, pdb_builder.PDB_DATASET)).items():
    sto = os.path.join(pdb_sources.alignment_dir, name, 'uniref90_hits.sto')
    with open(sto) as f:
      msa = parsers.parse_stockholm(f.read())
    sequence = records.text(example, 'sequence')
    # The query first; the variants in the database are found, and
    # identical rows of the two (identical) searches are stored once.
    assert msa.sequences[0] == sequence
    assert example['msa'].shape == (len(set(msa.sequences)), len(sequence))
    assert example['msa'].shape[0] > 1
    np.testing.assert_array_equal(
        example['msa'][0],
        [residue_constants.HHBLITS_AA_TO_ID[r] for r in sequence])
    raw = records.to_raw_features(example)
    np.testing.assert_array_equal(raw['aatype'].argmax(-1), example['aatype'])
    assert raw['template_aatype'].shape == (0, len(sequence), 22)


def test_building_twice_gives_identical_examples(pdb_data_dir, pdb_sources,
                                                 tmp_path):
  pdb_builder.build_pdb_dataset(str(tmp_path), pdb_sources)
  first = sources.open_dataset(pdb_data_dir, pdb_builder.PDB_DATASET)
  second = sources.open_dataset(str(tmp_path), pdb_builder.PDB_DATASET)
  assert len(first) == len(second)
  for i in range(len(first)):
    a, b = first[i], second[i]
    assert a.keys() == b.keys()
    for key in a:
      np.testing.assert_array_equal(a[key], b[key], err_msg=key)


def test_a_complete_build_is_not_redone(pdb_data_dir, pdb_sources):
  """Building again into a complete build writes nothing and reports
  nothing."""
  before = _snapshot(pdb_data_dir)
  report = pdb_builder.build_pdb_dataset(pdb_data_dir, pdb_sources)
  assert report.kept == [] and report.skipped == []
  assert _snapshot(pdb_data_dir) == before


def _snapshot(folder):
  """{path: (modification time, bytes)} of every file under `folder`."""
  files = {}
  for root, _, names in os.walk(folder):
    for name in names:
      path = os.path.join(root, name)
      with open(path, 'rb') as f:
        files[os.path.relpath(path, folder)] = (os.stat(path).st_mtime_ns,
                                                f.read())
  return files

def test_tensorflow_is_not_imported(pdb_data_dir):
  assert sources.open_dataset(pdb_data_dir, pdb_builder.PDB_DATASET)[0]
  assert 'tensorflow' not in sys.modules


def test_templates_from_pdb70_hits(pdb_sources, tmp_path):
  """A pdb70_hits.hhr hit on 5PTI gives 2xcj_A a template whose
  coordinates are those of the aligned 5PTI residues."""
  alignment_dir = tmp_path / 'alignments'
  shutil.copytree(pdb_sources.alignment_dir, alignment_dir)
  query = _by_name_from(pdb_sources, '2xcj_A')
  entry = mmcif_lib.read(os.path.join(pdb_sources.structure_dir,
                                      '5PTI.cif.gz'))
  seqres = entry.chain_to_seqres['A']
  hhr = (f'No 1\n>5PTI_A BPTI\nProbab=99.0  E-value=1e-10  Score=50  '
         f'Aligned_cols={ALIGNED}  Identities=10%  Similarity=0.1  '
         f'Sum_probs=20.5  Template_Neff=1\n\n'
         f'Q query            1 {query[:ALIGNED]}   {ALIGNED} '
         f'({len(query)})\n'
         f'T 5PTI_A           1 {seqres[:ALIGNED]}   {ALIGNED} '
         f'({len(seqres)})\n')
  (alignment_dir / '2xcj_A' / 'pdb70_hits.hhr').write_text(hhr)
  with_templates = dataclasses.replace(
      pdb_sources, alignment_dir=str(alignment_dir),
      template_featurizer=templates.TemplateFeaturizer(
          pdb_sources.structure_dir, filters.TRAINING_CUTOFF_DATE))
  pdb_builder.build_pdb_dataset(str(tmp_path / 'tfds'), with_templates)
  example = _by_name(sources.open_dataset(
      str(tmp_path / 'tfds'), pdb_builder.PDB_DATASET))['2xcj_A']
  positions, _ = mmcif_lib.get_atom_positions(entry, 'A')
  assert example['template_aatype'].shape == (1, len(query))
  np.testing.assert_array_equal(
      example['template_all_atom_positions'][0, :ALIGNED],
      positions[:ALIGNED])
  assert not example['template_all_atom_masks'][0, ALIGNED:].any()
  # Stored as the pipeline gives it (HHblits codes, which process_features
  # maps to the model's order).
  raw = records.to_raw_features(example)
  np.testing.assert_array_equal(
      raw['template_aatype'][0, :ALIGNED].argmax(-1),
      [residue_constants.HHBLITS_AA_TO_ID[r] for r in seqres[:ALIGNED]])
  np.testing.assert_allclose(example['template_sum_probs'], [[20.5]])


def test_an_interrupted_build_leaves_no_dataset(pdb_sources, tmp_path,
                                                monkeypatch):
  calls = []
  real_chain_record = pdb_builder.chain_record

  def dies_on_the_second_chain(*args, **kwargs):
    calls.append(1)
    if len(calls) == 2:
      raise KeyboardInterrupt
    return real_chain_record(*args, **kwargs)

  monkeypatch.setattr(pdb_builder, 'chain_record', dies_on_the_second_chain)
  with pytest.raises(KeyboardInterrupt):
    pdb_builder.build_pdb_dataset(str(tmp_path), pdb_sources)
  folder = sources.dataset_dir(str(tmp_path), pdb_builder.PDB_DATASET)
  assert not os.path.exists(folder)
  with pytest.raises(FileNotFoundError):
    sources.open_dataset(str(tmp_path), pdb_builder.PDB_DATASET)
  monkeypatch.setattr(pdb_builder, 'chain_record', real_chain_record)
  pdb_builder.build_pdb_dataset(str(tmp_path), pdb_sources)
  assert len(sources.open_dataset(str(tmp_path),
                                  pdb_builder.PDB_DATASET)) == 3
