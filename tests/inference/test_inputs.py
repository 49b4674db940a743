"""Each bad input fails with a clear error before any heavy work."""
import math
import os

import numpy as np
import pytest

from alphafold_jax.data import mmcif as mmcif_lib
from alphafold_jax.inference import databases
from alphafold_jax.inference import inputs
from alphafold_jax.inference import models
from alphafold_jax.inference import run
from alphafold_jax.model import memory_budget as model_memory
from alphafold_jax.training import checkpoint as checkpoint_lib
from tests.inference.conftest import DEMO_A3M
from tests.inference.conftest import DEMO_FASTA
from tests.inference.conftest import MINI_DATABASE
from tests.inference.conftest import copy_precomputed_bfd

# A length no machine here can hold (its pair stack alone is terabytes).
TOO_LONG = 100_000


def _databases(tmp_path, **overrides):
  database = str(MINI_DATABASE)
  # Models 1 and 2 use templates: their databases must exist too.
  (tmp_path / 'pdb70_a3m.ffdata').touch()
  (tmp_path / 'mmcif').mkdir(exist_ok=True)
  paths = dict(uniref90_database_path=database, mgnify_database_path=database,
               small_bfd_database_path=database,
               pdb70_database_path=str(tmp_path / 'pdb70'),
               template_mmcif_dir=str(tmp_path / 'mmcif'))
  paths.update(overrides)
  return databases.DatabasePaths(**paths)


def _options(tmp_path, fasta_paths, **overrides):
  values = dict(
      fasta_paths=[str(p) for p in fasta_paths], output_dir=str(tmp_path),
      model_preset='monomer_ptm', data_dir=str(tmp_path / 'data'),
      db_preset='reduced_dbs', max_template_date='2020-05-14',
      databases=_databases(tmp_path))
  values.update(overrides)
  return run.RunOptions(**values)


def _with_params(tmp_path):
  """A params folder with every preset file present, each a one-array
  archive in the released format (the checks read the archive and its
  array headers; the shapes are checked when a model loads them)."""
  params = tmp_path / 'data' / 'params'
  params.mkdir(parents=True)
  for i in range(1, 6):
    np.savez(params / f'params_model_{i}_ptm.npz',
             **{'alphafold/linear//weights': np.zeros((2, 3), np.float32)})
  return tmp_path


def _fasta(tmp_path, text, name='query.fasta'):
  path = tmp_path / name
  path.write_text(text)
  return path


def test_good_inputs_pass(tmp_path):
  _with_params(tmp_path)
  targets, configs = run.check_inputs(_options(tmp_path, [DEMO_FASTA]))
  assert [t.name for t in targets] == ['2rbg_A']
  assert len(configs) == 5


def test_empty_fasta(tmp_path):
  with pytest.raises(inputs.InputError, match='empty'):
    run.check_inputs(_options(tmp_path, [_fasta(tmp_path, '\n \n')]))


def test_fasta_header_without_sequence(tmp_path):
  with pytest.raises(inputs.InputError, match='empty sequence'):
    run.check_inputs(_options(tmp_path, [_fasta(tmp_path, '>a\n')]))


def test_missing_fasta(tmp_path):
  with pytest.raises(inputs.InputError, match='Cannot read FASTA'):
    run.check_inputs(_options(tmp_path, [tmp_path / 'absent.fasta']))


def test_unreadable_fasta(tmp_path):
  path = tmp_path / 'binary.fasta'
  path.write_bytes(b'>x\n\xff\xfe\x00\x81')
  with pytest.raises(inputs.InputError, match='Cannot read FASTA'):
    run.check_inputs(_options(tmp_path, [path]))


def test_non_amino_acid_letters(tmp_path):
  path = _fasta(tmp_path, '>dna\nACGT1ACGU*\n')
  with pytest.raises(inputs.InputError, match='not amino acids'):
    run.check_inputs(_options(tmp_path, [path]))


def test_several_chains_in_one_file(tmp_path):
  path = _fasta(tmp_path, '>a\nMKV\n>b\nMKW\n')
  with pytest.raises(inputs.InputError, match='one chain'):
    run.check_inputs(_options(tmp_path, [path]))


def test_missing_params_file(tmp_path):
  with pytest.raises(inputs.InputError, match='params_model_1_ptm.npz'):
    run.check_inputs(_options(tmp_path, [DEMO_FASTA]))


def test_missing_checkpoint(tmp_path, tiny_config):
  options = _options(tmp_path, [DEMO_FASTA],
                     checkpoint=str(tmp_path / 'no_such_workdir'),
                     checkpoint_config=tiny_config)
  with pytest.raises(inputs.InputError, match='--checkpoint'):
    run.check_inputs(options)


def test_checkpoint_workdir_brings_its_config(tmp_path, tiny_config):
  workdir = tmp_path / 'run'
  checkpoint_lib.save_config(workdir, tiny_config)
  # A saved step (the checks only look for its folder).
  (workdir / checkpoint_lib.CHECKPOINT_DIR / '10').mkdir(parents=True)
  _, configs = run.check_inputs(_options(tmp_path, [DEMO_FASTA],
                                         checkpoint=str(workdir)))
  assert list(configs) == ['model_checkpoint']
  assert configs['model_checkpoint'].model.embeddings_and_evoformer == (
      tiny_config.model.embeddings_and_evoformer)


def test_missing_database(tmp_path):
  _with_params(tmp_path)
  options = _options(tmp_path, [DEMO_FASTA], databases=_databases(
      tmp_path, uniref90_database_path=str(tmp_path / 'uniref90.fasta')))
  with pytest.raises(inputs.InputError,
                     match='--uniref90_database_path: .*does not exist'):
    run.check_inputs(options)


def test_unset_database(tmp_path):
  _with_params(tmp_path)
  options = _options(tmp_path, [DEMO_FASTA], db_preset='full_dbs')
  with pytest.raises(inputs.InputError, match='--bfd_database_path is not set'):
    run.check_inputs(options)


def test_precomputed_alignment_needs_no_database(tmp_path):
  _with_params(tmp_path)
  copy_precomputed_bfd(tmp_path / '2rbg_A' / 'msas')
  options = _options(tmp_path, [DEMO_FASTA], db_preset='full_dbs',
                     use_precomputed_msas=True)
  run.check_inputs(options)


def test_missing_template_structures(tmp_path):
  _with_params(tmp_path)
  options = _options(tmp_path, [DEMO_FASTA], databases=_databases(
      tmp_path, template_mmcif_dir=str(tmp_path / 'no_mmcif')))
  with pytest.raises(inputs.InputError, match='--template_mmcif_dir'):
    run.check_inputs(options)


def test_missing_template_date(tmp_path):
  _with_params(tmp_path)
  options = _options(tmp_path, [DEMO_FASTA], max_template_date=None)
  with pytest.raises(inputs.InputError, match='--max_template_date'):
    run.check_inputs(options)


def test_too_long_for_memory(tmp_path):
  _with_params(tmp_path)
  path = _fasta(tmp_path, '>long\n' + 'A' * TOO_LONG + '\n')
  with pytest.raises(inputs.InputError, match='GiB of memory'):
    run.check_inputs(_options(tmp_path, [path]))


def test_memory_budget_sets_the_chunk_size(tmp_path):
  _with_params(tmp_path)
  _, configs = run.check_inputs(_options(tmp_path, [DEMO_FASTA],
                                         memory_budget_gb=1.0))
  chunks = {c.model.global_config.subbatch_size for c in configs.values()}
  assert None not in chunks and 4 not in chunks
  _, roomy = run.check_inputs(_options(tmp_path, [DEMO_FASTA],
                                       memory_budget_gb=100.0))
  assert {c.model.global_config.subbatch_size for c in roomy.values()} == {None}


def test_memory_check_uses_the_chunk_size_estimate(tiny_config):
  """check_memory refuses a sequence whose `estimate_peak_bytes` (at the
  config's chunk size, the estimate that chooses chunks for a budget) is
  over the usable part of the memory, naming the input, and passes one
  just within it."""
  chunk = tiny_config.model.global_config.subbatch_size
  needed = model_memory.estimate_peak_bytes(tiny_config, 300, chunk)
  usable = inputs._USABLE_MEMORY_FRACTION  # pylint: disable=protected-access
  # Bytes whose usable part just holds `needed`.
  enough = math.ceil(needed / usable) + 1
  inputs.check_memory(tiny_config, 300, 'short.fasta', enough)
  inputs.check_memory(tiny_config, 30, 'short.fasta', enough)
  with pytest.raises(inputs.InputError,
                     match=r'long\.fasta: 300 residues need about'):
    inputs.check_memory(tiny_config, 300, 'long.fasta', 0.99 * enough)
  assert model_memory.estimate_peak_bytes(tiny_config, 3000, chunk) > (
      50 * needed)


def test_checks_come_before_any_output(tmp_path):
  path = _fasta(tmp_path, '>x\nMKXB\n>y\nZZZ1\n')
  with pytest.raises(inputs.InputError):
    run.run(_options(tmp_path, [path]))
  assert not (tmp_path / 'query').exists()


# Reused search outputs: each is parsed before any model is loaded, and a
# damaged one is named with its problem.
TESTDATA = DEMO_FASTA.parents[1] / 'tests' / 'data' / 'testdata'
# jackhmmer's alignment for the demo chain's sequence (testdata/README.md).
DEMO_STOCKHOLM = TESTDATA / 'small_uniref90_hits.sto'


def _precomputed(tmp_path, name, data, fasta=DEMO_FASTA, **overrides):
  """check_inputs of a run reusing msas/<name> (bytes `data`) of `fasta`'s
  target; returns the file's path and the callable."""
  _with_params(tmp_path)
  msa_dir = tmp_path / fasta.stem / 'msas'
  msa_dir.mkdir(parents=True)
  path = msa_dir / name
  path.write_bytes(data)
  values = dict(db_preset='full_dbs', use_precomputed_msas=True)
  values.update(overrides)
  options = _options(tmp_path, [fasta], **values)
  return path, lambda: run.check_inputs(options)


def test_reused_outputs_that_parse_pass(tmp_path):
  _, check = _precomputed(tmp_path, databases.BFD_OUTPUT,
                          DEMO_A3M.read_bytes())
  (tmp_path / '2rbg_A' / 'msas' / databases.UNIREF90_OUTPUT).write_bytes(
      DEMO_STOCKHOLM.read_bytes())
  check()


def test_truncated_precomputed_alignment_is_named(tmp_path):
  """The issue's case: a row of bfd_uniclust_hits.a3m cut short."""
  text = DEMO_A3M.read_bytes()
  cut = text.index(b'\n', text.index(b'>hom3')) + 30
  path, check = _precomputed(tmp_path, databases.BFD_OUTPUT, text[:cut])
  with pytest.raises(inputs.InputError,
                     match=f"{path}: row 'hom3.*' has 28 aligned columns, "
                           'the query has 96'):
    check()


def test_precomputed_alignment_of_another_sequence_is_named(tmp_path):
  path, check = _precomputed(tmp_path, databases.BFD_OUTPUT,
                             DEMO_A3M.read_bytes(),
                             fasta=TESTDATA / '5pti_mutant.fasta')
  with pytest.raises(inputs.InputError,
                     match=f'{path}: the query .* has 96 residues; the FASTA '
                           'sequence has 58'):
    check()


def test_stockholm_without_its_end_is_named(tmp_path):
  text = DEMO_STOCKHOLM.read_bytes()
  path, check = _precomputed(tmp_path, databases.MGNIFY_OUTPUT,
                             text[:text.rindex(b'//')],
                             db_preset='reduced_dbs')
  with pytest.raises(inputs.InputError, match=f'{path}: no "//" line'):
    check()


def test_binary_precomputed_output_is_named(tmp_path):
  path, check = _precomputed(tmp_path, databases.UNIREF90_OUTPUT,
                             b'# STOCKHOLM 1.0\n\x89PNG\x00\xff\n',
                             db_preset='reduced_dbs')
  with pytest.raises(inputs.InputError, match=f'{path}: not UTF-8 text'):
    check()


def test_damaged_template_hits_are_named(tmp_path):
  hhr = (TESTDATA / '5pti_mutant_pdb_hits.hhr').read_text()
  damaged = hhr.replace('Q query             1 RPDF', 'Q query             x RPDF')
  assert damaged != hhr
  path, check = _precomputed(tmp_path, databases.PDB70_OUTPUT,
                             damaged.encode(),
                             fasta=TESTDATA / '5pti_mutant.fasta',
                             db_preset='reduced_dbs')
  with pytest.raises(inputs.InputError,
                     match=f'{path}: HHR hit 1: bad alignment line'):
    check()


def test_damaged_obsolete_pdbs_is_named(tmp_path):
  _with_params(tmp_path)
  path = tmp_path / 'obsolete.dat'
  path.write_text('OBSLTE    31-JUL-94 116L     2\n')
  options = _options(tmp_path, [DEMO_FASTA], databases=_databases(
      tmp_path, obsolete_pdbs_path=str(path)))
  with pytest.raises(inputs.InputError,
                     match=f'{path}, line 1: not an OBSLTE record'):
    run.check_inputs(options)


def test_template_date_and_folder(tmp_path):
  _with_params(tmp_path)
  with pytest.raises(inputs.InputError, match='--max_template_date=14/05/2020'):
    run.check_inputs(_options(tmp_path, [DEMO_FASTA],
                              max_template_date='14/05/2020'))
  options = _options(tmp_path, [DEMO_FASTA], databases=_databases(
      tmp_path, template_mmcif_dir=str(DEMO_FASTA)))
  with pytest.raises(inputs.InputError, match='is not a folder'):
    run.check_inputs(options)


def test_damaged_params_file_is_named(tmp_path):
  _with_params(tmp_path)
  path = tmp_path / 'data' / 'params' / 'params_model_3_ptm.npz'
  path.write_bytes(path.read_bytes()[:100])
  with pytest.raises(inputs.InputError,
                     match=f'{path}: not a readable parameter file'):
    run.check_inputs(_options(tmp_path, [DEMO_FASTA]))


def test_damaged_checkpoint_npz_is_named(tmp_path, tiny_config):
  path = tmp_path / 'tiny.npz'
  path.write_bytes(b'PK\x03\x04 cut short')
  options = _options(tmp_path, [DEMO_FASTA], checkpoint=str(path),
                     checkpoint_config=tiny_config)
  with pytest.raises(inputs.InputError,
                     match=f'{path}: not a readable parameter file'):
    run.check_inputs(options)


def test_a_file_that_fails_after_the_checks_is_an_input_error(
    tmp_path, tiny_config, monkeypatch):
  """A file read only while the features are made (a new search's output,
  a hit's template mmCIF) raises ParseError naming it; the run turns it
  into an InputError (one line in run_alphafold.py), before any model runs."""
  path = tmp_path / 'tiny.npz'
  np.savez(path, **{'alphafold/linear//weights': np.zeros((2,))})
  damaged = tmp_path / 'mmcif' / '1abc.cif.gz'

  class DamagedTemplatePipeline:

    def process(self, fasta_path, msa_dir):
      raise mmcif_lib.MmcifError(f'{damaged}: not a readable gzip file')

  monkeypatch.setattr(models, 'load_checkpoint_params',
                      lambda checkpoint, config: {})
  monkeypatch.setattr(databases, 'make_data_pipeline',
                      lambda *args: DamagedTemplatePipeline())
  options = _options(tmp_path, [DEMO_FASTA], checkpoint=str(path),
                     checkpoint_config=tiny_config, models_to_relax='none')
  with pytest.raises(inputs.InputError,
                     match=f'{damaged}: not a readable gzip file'):
    run.run(options)
  assert not (tmp_path / '2rbg_A' / 'result_model_checkpoint.pkl').exists()


def test_obsolete_pdbs_path_reaches_the_template_featurizer(tmp_path):
  obsolete = tmp_path / 'obsolete.dat'
  obsolete.write_text('OBSLTE    15-OCT-98 9ZZZ     5PTI\n')
  msa_dir = tmp_path / 'msas'
  msa_dir.mkdir()
  for output in (databases.UNIREF90_OUTPUT, databases.MGNIFY_OUTPUT,
                 databases.SMALL_BFD_OUTPUT, databases.PDB70_OUTPUT):
    (msa_dir / output).write_text('')
  pipeline = databases.make_data_pipeline(
      _databases(tmp_path, obsolete_pdbs_path=str(obsolete)), 'reduced_dbs',
      str(msa_dir), use_precomputed_msas=True, use_templates=True,
      max_template_date='2020-05-14')
  assert pipeline.template_featurizer.obsolete_pdbs == {'9zzz': '5pti'}
