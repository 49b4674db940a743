"""Template features of a complex's chains (alphafold_jax/data/multimer/
templates.py): distinct templates, a zero template when none is usable."""
import pathlib

import numpy as np
import pytest

from alphafold_jax.data import mmcif as mmcif_lib
from alphafold_jax.data import parsers
from alphafold_jax.data.multimer import templates

MMCIF_DIR = str(pathlib.Path(__file__).parent / 'testdata' / 'mmcif')


@pytest.fixture(scope='module')
def bpti_seqres():
  return mmcif_lib.read(f'{MMCIF_DIR}/5PTI.cif.gz').chain_to_seqres['A']


def _hit(index, seqres, query, start=0):
  return parsers.TemplateHit(
      index=index, name='5pti_A mol:protein', aligned_cols=len(query) - start,
      sum_probs=None, query=query[start:], hit_sequence=seqres[start:],
      indices_query=tuple(range(start, len(query))),
      indices_hit=tuple(range(start, len(query))))


def test_a_repeated_template_is_kept_once(bpti_seqres):
  query = bpti_seqres[:5] + 'A' + bpti_seqres[6:]
  featurizer = templates.HmmsearchTemplateFeaturizer(MMCIF_DIR, '2020-01-01')
  hits = [_hit(1, bpti_seqres, query), _hit(2, bpti_seqres, query),
          _hit(3, bpti_seqres, query, start=2)]
  features = featurizer.get_templates(query, hits).features
  # Hits 1 and 2 give the same template; hit 3 covers fewer residues.
  assert features['template_aatype'].shape == (2, len(query), 22)
  assert features['template_sequence'][0] == bpti_seqres.encode()
  assert features['template_sequence'][1] == (
      '--' + bpti_seqres[2:]).encode()
  np.testing.assert_array_equal(features['template_all_atom_masks'][1, :2], 0)


def test_no_usable_hit_gives_one_zero_template(bpti_seqres):
  query = bpti_seqres[:5] + 'A' + bpti_seqres[6:]
  featurizer = templates.HmmsearchTemplateFeaturizer(MMCIF_DIR, '1980-01-01')
  result = featurizer.get_templates(query, [_hit(1, bpti_seqres, query)])
  assert 'released 1984-10-29' in result.errors[0]
  features = result.features
  assert features['template_aatype'].shape == (1, len(query), 22)
  assert features['template_all_atom_positions'].shape == (1, len(query), 37, 3)
  for key in ('template_aatype', 'template_all_atom_positions',
              'template_all_atom_masks'):
    np.testing.assert_array_equal(features[key], 0)
  assert features['template_sequence'].tolist() == [b'']
  assert featurizer.get_templates(query, []).features[
      'template_aatype'].shape == (1, len(query), 22)
