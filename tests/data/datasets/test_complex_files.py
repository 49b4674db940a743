"""Complexes from structure files (no built set, no searches): every protein
chain of a PDB or mmCIF file as one single-sequence complex, as train.py
(a multimer config with config.dataset.pdb_files) and benchmarks/overfit.py
use them; and demo/make_complex.py, which cut the demo's complex."""
import pathlib
import subprocess
import sys

import numpy as np
import pytest

from alphafold_jax.common import protein as protein_lib
from alphafold_jax.common import residue_constants
from alphafold_jax.data.datasets import complexes
from alphafold_jax.training import trainer
from alphafold_jax.training.config import load_config_file

ROOT = pathlib.Path(__file__).parents[3]
DEMO_COMPLEX = ROOT / 'demo' / '3pwp_DE.pdb'
ENTRY = ROOT / 'tests' / 'fixtures' / 'data' / '1BD2.cif.gz'
_CA = residue_constants.atom_order['CA']
_UNKNOWN = residue_constants.restype_num


def _two_chains_with_a_gap(path):
  """The demo complex rewritten with residues 5-7 of its first chain
  removed; returns the file's Protein before the cut."""
  prot = protein_lib.from_pdb_string(DEMO_COMPLEX.read_text())
  first = prot.chain_index == prot.chain_index[0]
  numbers = prot.residue_index - prot.residue_index[first].min()
  keep = ~(first & (numbers >= 5) & (numbers <= 7))
  cut = protein_lib.Protein(**{
      k: np.asarray(getattr(prot, k))[keep]
      for k in ('atom_positions', 'aatype', 'atom_mask', 'residue_index',
                'chain_index', 'b_factors')})
  path.write_text(protein_lib.to_pdb(cut))
  return prot


def test_structure_file_chains_keep_their_numbering(tmp_path):
  path = tmp_path / 'gapped.pdb'
  whole = _two_chains_with_a_gap(path)
  complex_ = complexes.read_structure_file(str(path))
  assert [c.chain_id for c in complex_.chains] == ['A', 'B']
  first, second = complex_.chains
  # The gap is three unknown residues without atoms, in place.
  assert len(first.sequence) == 50 and len(second.sequence) == 50
  assert first.sequence[5:8] == 'XXX'
  assert np.all(first.all_atom_mask[5:8] == 0)
  letters = residue_constants.restypes_with_x
  expected = ''.join(letters[a] for a in whole.aatype[:50])
  assert first.sequence[:5] == expected[:5]
  assert first.sequence[8:] == expected[8:]
  np.testing.assert_allclose(first.all_atom_positions[8, _CA],
                             whole.atom_positions[8, _CA], atol=1e-3)
  np.testing.assert_allclose(second.all_atom_positions[:, _CA],
                             whole.atom_positions[50:, _CA], atol=1e-3)


def test_a_file_without_protein_is_named(tmp_path):
  path = tmp_path / 'empty.pdb'
  path.write_text('HEADER    NOTHING\nEND\n')
  with pytest.raises(ValueError, match='empty.pdb'):
    complexes.read_structure_file(str(path))


def test_single_sequence_alignments():
  complex_ = complexes.read_structure_file(str(DEMO_COMPLEX))
  features = complexes.single_sequence_alignments(complex_.chains)
  assert len(features) == 2
  for chain, f in zip(complex_.chains, features):
    assert f['msa'].shape == (1, len(chain.sequence))
    assert ''.join(residue_constants.ID_TO_HHBLITS_AA[i]
                   for i in f['msa'][0]) == chain.sequence
    assert f['template_aatype'].shape[0] == 0
    # A heteromer pairs its chains through the UniProt rows.
    np.testing.assert_array_equal(f['msa_all_seq'], f['msa'])
  homomer = complexes.single_sequence_alignments(complex_.chains[:1] * 2)
  assert len(homomer) == 1 and 'msa_all_seq' not in homomer[0]


def _multimer_config(**dataset):
  config = load_config_file(ROOT / 'configs' / 'multimer_tiny.py')
  config.dataset.update(dataset)
  config.data.train.crop_size = 64
  config.train.batch_size = 1
  return config


def test_multimer_training_data_from_a_structure_file():
  """train.py's stream for a multimer config with pdb_files: cropped,
  padded multimer examples of the file's complex, the truth its
  coordinates, the same for the same seed."""
  config = _multimer_config(pdb_files=[str(DEMO_COMPLEX)], chains=[''])
  data = trainer.make_training_data(config)
  example = data.example(0)
  evo = config.model.embeddings_and_evoformer
  assert example['aatype'].shape == (64,)
  assert example['msa'].shape == (evo.num_msa + evo.num_extra_msa, 64)
  assert example['template_aatype'].shape == (evo.template.max_templates, 64)
  assert set(np.unique(example['asym_id'])) <= {0., 1., 2.}
  assert np.sum(example['seq_mask']) == 64
  # The cropped truth is the file's atoms, residue for residue.
  prot = protein_lib.from_pdb_string(DEMO_COMPLEX.read_text())
  record = trainer.complex_file_record(str(DEMO_COMPLEX))
  np.testing.assert_array_equal(record['aatype'], prot.aatype)
  np.testing.assert_allclose(record['all_atom_positions'],
                             prot.atom_positions, atol=1e-3)
  true_ca = example['all_atom_positions'][:, _CA]
  resolved = example['all_atom_mask'][:, _CA] > 0
  distances = np.linalg.norm(true_ca[resolved][:, None] -
                             prot.atom_positions[None, :, _CA], axis=-1)
  assert np.all(distances.min(axis=1) < 1e-3)
  again = trainer.make_training_data(config).example(0)
  for key, value in example.items():
    np.testing.assert_array_equal(value, again[key], err_msg=key)
  batch = next(data)
  assert batch['aatype'].shape == (1, 64)


def test_multimer_structure_files_take_no_chain_ids():
  config = _multimer_config(pdb_files=[str(DEMO_COMPLEX)], chains=['A'])
  with pytest.raises(ValueError, match='chains must be empty'):
    trainer.make_training_data(config)
  config = _multimer_config(pdb_files=[str(DEMO_COMPLEX)], chains=[''],
                            complex_data_dir='/tmp/somewhere')
  with pytest.raises(ValueError, match='set one'):
    trainer.make_training_data(config)


def _make_complex(tmp_path, *windows):
  output = tmp_path / 'complex.pdb'
  result = subprocess.run(
      [sys.executable, str(ROOT / 'demo' / 'make_complex.py'),
       f'--mmcif={ENTRY}', *[f'--window={w}' for w in windows],
       f'--output={output}'], capture_output=True, text=True, check=False,
      env={'PYTHONPATH': str(ROOT)})
  return result, output


def test_make_complex_cuts_whole_windows(tmp_path):
  result, output = _make_complex(tmp_path, 'D:5-50', 'E:104-153')
  assert result.returncode == 0, result.stderr
  prot = protein_lib.from_pdb_string(output.read_text())
  assert prot.aatype.shape == (96,)
  assert np.all(prot.atom_mask[:, _CA] == 1)
  np.testing.assert_array_equal(prot.residue_index[:46], np.arange(5, 51))
  np.testing.assert_array_equal(prot.residue_index[46:], np.arange(104, 154))
  # The demo's complex holds the windows its docstring names.
  demo = protein_lib.from_pdb_string(DEMO_COMPLEX.read_text())
  np.testing.assert_array_equal(demo.residue_index[:50], np.arange(122, 172))
  np.testing.assert_array_equal(demo.residue_index[50:], np.arange(128, 178))


@pytest.mark.parametrize('window, message', [
    # 1BD2's chain D has no coordinates for some residues of 126-182, and
    # numbers a residue 54A (an insertion code).
    ('D:126-182', '1BD2.cif.gz: chain D lacks residues'),
    ('D:5-54', "1BD2.cif.gz: chain D residue 54 is LYS with id (' ', 54, 'A')"),
    ('Q:1-10', '1BD2.cif.gz: no chain Q'),
])
def test_make_complex_refuses_an_incomplete_window(tmp_path, window, message):
  result, output = _make_complex(tmp_path, window, 'E:104-153')
  assert result.returncode != 0
  assert message in result.stderr
  assert not output.exists()
