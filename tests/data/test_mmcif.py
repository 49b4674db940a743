"""mmCIF reading: a damaged file (bad gzip, cut text, changed bytes) reads
or raises MmcifError, a ParseError naming the file; never anything else."""
import gzip
import pathlib

import hypothesis
import numpy as np
import pytest

from alphafold_jax.common import residue_constants
from alphafold_jax.data import mmcif
from alphafold_jax.data import parsers
from tests import damaged_files

# The GNNQQNY peptide (one chain, 59 atoms): small enough to parse in
# milliseconds, with every section the reader uses.
CIF_GZ = pathlib.Path(__file__).parents[1] / 'fixtures' / 'data' / '1YJP.cif.gz'
CIF_TEXT = gzip.decompress(CIF_GZ.read_bytes())


def _check_entry(entry: mmcif.MmcifObject) -> None:
  """What the template and training readers use of an entry works."""
  mmcif.release_date(entry)
  for chain_id, seqres in entry.chain_to_seqres.items():
    try:
      positions, mask = mmcif.get_atom_positions(entry, chain_id)
    except mmcif.MmcifError:
      continue
    assert positions.shape == (len(seqres), residue_constants.atom_type_num, 3)
    assert np.all(np.isfinite(positions)) and mask.shape == positions.shape[:2]


def test_the_undamaged_file_reads():
  entry = mmcif.read(str(CIF_GZ))
  assert entry.chain_to_seqres == {'A': 'GNNQQNY'}
  _check_entry(entry)


def test_mmcif_error_is_a_parse_error():
  assert issubclass(mmcif.MmcifError, parsers.ParseError)


def test_truncated_gzip_names_the_file(tmp_path):
  path = tmp_path / '1yjp.cif.gz'
  path.write_bytes(CIF_GZ.read_bytes()[:4000])
  with pytest.raises(mmcif.MmcifError,
                     match=f'{path}: not a readable gzip file'):
    mmcif.read(str(path))


def test_not_gzip_names_the_file(tmp_path):
  path = tmp_path / '1yjp.cif.gz'
  path.write_bytes(CIF_TEXT)
  with pytest.raises(mmcif.MmcifError, match=f'{path}: not a readable gzip'):
    mmcif.read(str(path))


def test_truncated_text_names_the_file(tmp_path):
  # Cut inside the header, before any coordinates.
  path = tmp_path / '1yjp.cif'
  path.write_bytes(CIF_TEXT[:len(CIF_TEXT) // 3])
  with pytest.raises(mmcif.MmcifError, match=str(path)):
    mmcif.read(str(path))


def test_binary_file_names_the_file(tmp_path):
  path = tmp_path / '1yjp.cif'
  path.write_bytes(CIF_TEXT[:100] + b'\xff\xfe' + CIF_TEXT[100:])
  with pytest.raises(mmcif.MmcifError, match=f'{path}: not UTF-8'):
    mmcif.read(str(path))


def test_missing_file_names_the_file(tmp_path):
  path = tmp_path / 'none.cif'
  with pytest.raises(mmcif.MmcifError, match=f'{path}: cannot read'):
    mmcif.read(str(path))


def _read_or_mmcif_error(data: bytes, path: str):
  try:
    entry = mmcif.parse_file_bytes(data, path)
  except mmcif.MmcifError as e:
    assert path in str(e)
    return
  _check_entry(entry)


@damaged_files.FUZZ_SETTINGS
@hypothesis.given(damaged_files.damaged_copies(CIF_GZ.read_bytes()))
def test_damaged_gzip_reads_or_raises_mmcif_error(data):
  _read_or_mmcif_error(data, 'mmcif_files/1yjp.cif.gz')


@damaged_files.FUZZ_SETTINGS
@hypothesis.given(damaged_files.damaged_copies(CIF_TEXT))
def test_damaged_text_reads_or_raises_mmcif_error(data):
  _read_or_mmcif_error(data, 'mmcif_files/1yjp.cif')
