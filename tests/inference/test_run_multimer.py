"""--model_preset=multimer: every bad input stops the run before any search,
with one message naming the problem."""
import pathlib

import numpy as np
import pytest

from alphafold_jax.inference import databases
from alphafold_jax.inference import inputs
from alphafold_jax.inference import plots
from alphafold_jax.inference import run
from tests.inference import multimer_data
from tests.inference import tiny_multimer


@pytest.fixture(scope='module')
def database_flags(tmp_path_factory):
  return multimer_data.write_databases(tmp_path_factory.mktemp('dbs'))


def _options(tmp_path, fasta_text, database_flags, **overrides):
  fasta = tmp_path / 'complex.fasta'
  fasta.write_text(fasta_text)
  checkpoint = tmp_path / 'tiny.npz'
  checkpoint.write_bytes(b'')  # Only its existence is checked up front.
  settings = dict(
      fasta_paths=[str(fasta)], output_dir=str(tmp_path / 'out'),
      model_preset='multimer', db_preset='reduced_dbs',
      databases=databases.DatabasePaths(**database_flags),
      max_template_date='2020-01-01', checkpoint=str(checkpoint),
      checkpoint_config=tiny_multimer.tiny_config())
  settings.update(overrides)
  return run.RunOptions(**settings)


def _complex():
  bpti, other = multimer_data.chain_sequences()
  return f'>bpti\n{bpti}\n>other\n{other}\n'


def test_good_inputs_pass(tmp_path, database_flags):
  targets, configs = run.check_inputs(_options(tmp_path, _complex(),
                                               database_flags))
  assert [len(s) for _, s in targets[0].chains] == [58, 44]
  config = configs['model_checkpoint']
  # v2.3's multimer recycling unless overridden.
  assert config.model.num_recycle == tiny_multimer.NUM_RECYCLE
  assert config.model.recycle_early_stop_tolerance == 0.5


@pytest.mark.parametrize('fasta_text, message', [
    ('>a\nMKVLA\n>b\nMK1V\n', "record 'b' contains letters that are not "
                              'amino acids'),
    ('>a\nMKVLA\n>b\n\n', "record 'b' has an empty sequence"),
    ('>a\n>b\nMKVLA\n', "record 'a' has an empty sequence"),
    ('', 'is empty'),
])
def test_bad_fasta(tmp_path, database_flags, fasta_text, message):
  with pytest.raises(inputs.InputError, match=message):
    run.check_inputs(_options(tmp_path, fasta_text, database_flags))


@pytest.mark.parametrize('flag', ['uniprot_database_path',
                                  'pdb_seqres_database_path'])
def test_multimer_databases_must_be_set(tmp_path, database_flags, flag):
  flags = dict(database_flags, **{flag: None})
  with pytest.raises(inputs.InputError, match=f'--{flag} must be set'):
    run.check_inputs(_options(tmp_path, _complex(), flags))


def test_a_missing_database_is_named(tmp_path, database_flags):
  flags = dict(database_flags, uniprot_database_path=str(tmp_path / 'x.fa'))
  with pytest.raises(inputs.InputError, match='--uniprot_database_path: .*'
                     'x.fa does not exist'):
    run.check_inputs(_options(tmp_path, _complex(), flags))


def test_a_complex_too_long_for_the_device(tmp_path, database_flags):
  long_chain = 'A' * 30000
  with pytest.raises(inputs.InputError, match='60000 residues need about'):
    run.check_inputs(_options(
        tmp_path, f'>a\n{long_chain}\n>b\n{long_chain}\n', database_flags,
        checkpoint=None, checkpoint_config=None, data_dir=str(tmp_path)))


def test_a_monomer_checkpoint_config_is_refused(tmp_path, database_flags):
  from tests.inference import tiny_model  # pylint: disable=g-import-not-at-top
  with pytest.raises(inputs.InputError, match='multimer network'):
    run.check_inputs(_options(tmp_path, _complex(), database_flags,
                              checkpoint_config=tiny_model.tiny_config()))


@pytest.mark.parametrize('flag', ['shard_residues', 'bfloat16'])
def test_monomer_only_options_are_refused(tmp_path, database_flags, flag):
  with pytest.raises(inputs.InputError,
                     match=f'--{flag} is for the monomer presets only'):
    run.check_inputs(_options(tmp_path, _complex(), database_flags,
                              **{flag: True}))


@pytest.mark.parametrize('name, text, message', [
    ('uniref90_hits.sto', '# STOCKHOLM 1.0\nq MKV\nbroken', 'A/uniref90_hits'),
    ('uniprot_hits.sto', '# STOCKHOLM 1.0\nq MKV\n//\n',
     'the query .* has 3 residues; the FASTA sequence has 58'),
    ('small_bfd_hits.sto', '\x00\x01garbage', 'A/small_bfd_hits.sto'),
    ('pdb_hits.sto', '# STOCKHOLM 1.0\n#=GS x/1-3 DE y\nx/1-3 MKV\n//\n',
     'A/pdb_hits.sto'),
])
def test_a_precomputed_file_that_does_not_parse(tmp_path, database_flags,
                                                 name, text, message):
  chain_dir = tmp_path / 'out' / 'complex' / 'msas' / 'A'
  chain_dir.mkdir(parents=True)
  (chain_dir / name).write_text(text)
  options = _options(tmp_path, _complex(), database_flags,
                     use_precomputed_msas=True)
  with pytest.raises(inputs.InputError, match=message):
    run.check_inputs(options)


def test_chain_boundaries_of_the_plot():
  asym_id = np.repeat([1, 2, 3], [4, 2, 3])
  assert plots.chain_boundaries(asym_id) == [4.5, 6.5]
  assert plots.chain_boundaries(None) == []
  png = plots.confidence_png(np.full(9, 70.), np.ones((9, 9)), 31.75,
                             asym_id=asym_id)
  assert png[:8] == b'\x89PNG\r\n\x1a\n'
