"""Filters and sampling weights of Suppl. 1.2.5."""
import pytest

from alphafold_jax.data.datasets import filters

CONFIG = filters.FilterConfig()


def test_resolution_filter_keeps_9_angstrom_and_unreported():
  assert filters.rejection_reason('ACDEFGHIKL', 9.0, '2000-01-01',
                                  CONFIG) is None
  assert filters.rejection_reason('ACDEFGHIKL', 0.0, '2000-01-01',
                                  CONFIG) is None
  assert 'resolution' in filters.rejection_reason('ACDEFGHIKL', 9.01,
                                                  '2000-01-01', CONFIG)


def test_release_date_cutoff_is_inclusive_and_unknown_dates_pass():
  assert filters.rejection_reason('ACDEFGHIKL', 2., '2018-04-30',
                                  CONFIG) is None
  assert 'cutoff' in filters.rejection_reason('ACDEFGHIKL', 2., '2018-05-01',
                                              CONFIG)
  assert filters.rejection_reason('ACDEFGHIKL', 2., '', CONFIG) is None
  no_cutoff = filters.FilterConfig(max_release_date=None)
  assert filters.rejection_reason('ACDEFGHIKL', 2., '2030-01-01',
                                  no_cutoff) is None


def test_single_amino_acid_above_80_percent_is_rejected():
  assert filters.rejection_reason('A' * 8 + 'CD', 2., '', CONFIG) is None
  assert 'one amino acid' in filters.rejection_reason('A' * 9 + 'C', 2., '',
                                                      CONFIG)


def test_minimum_length():
  assert 'fewer than' in filters.rejection_reason('ACDEFGHIK', 2., '', CONFIG)
  assert filters.rejection_reason(
      'ACD', 2., '', filters.FilterConfig(min_length=3)) is None


@pytest.mark.parametrize('num_res, weight', [(10, 0.5), (256, 0.5),
                                             (384, 0.75), (512, 1.),
                                             (2000, 1.)])
def test_length_weight(num_res, weight):
  assert filters.length_weight(num_res) == weight


def test_clusters_give_inverse_size_weights():
  sizes = filters.parse_clusters(['1ABC_A 2def_B 3ghi_C', '', '4JKL_a'])
  assert sizes == {'1abc_A': 3, '2def_B': 3, '3ghi_C': 3, '4jkl_a': 1}
  assert filters.cluster_size_of('9xyz_A', sizes) == 1
  assert filters.sampling_weight(512, sizes['1abc_A']) == pytest.approx(1 / 3)
  with pytest.raises(ValueError, match='already'):
    filters.parse_clusters(['1abc_A', '1ABC_A'])
  with pytest.raises(ValueError):
    filters.parse_clusters(['1abcA'])
