"""MultimerDataPipeline: real jackhmmer searches of small UniRef90- and
UniProt-like databases for a complex's chains."""
import json
import pathlib

import numpy as np
import pytest

from alphafold_jax.common import residue_constants
from alphafold_jax.data import mmcif as mmcif_lib
from alphafold_jax.data import msa_identifiers
from alphafold_jax.data import parsers
from alphafold_jax.data import pipeline as pipeline_lib
from alphafold_jax.data.multimer import pipeline as multimer_pipeline
from alphafold_jax.data.multimer import process_multimer_features
from alphafold_jax.data.multimer import templates as multimer_templates
from alphafold_jax.data.tools import hmmsearch
from alphafold_jax.data.tools import jackhmmer

TESTDATA = pathlib.Path(__file__).parent / 'testdata'
SPECIES = ('HUMAN', 'MOUSE', 'YEAST', 'ECOLI', 'RAT', 'BOVIN', 'DROME')


class _NoSearch:
  """A searcher that must not be called."""

  def query(self, *args, **kwargs):
    raise AssertionError('searched although the output should be reused')


@pytest.fixture(scope='module')
def databases(golden_dir, tmp_path_factory):
  """UniRef90- and UniProt-like FASTA files holding the homologues of two
  chains (the golden multimer chain A, the golden monomer 2RBG) among 39
  unrelated PDB chains; returns (uniref90, uniprot, seq_a, seq_b)."""
  with np.load(golden_dir / 'multimer_small' / 'chain_A.npz',
               allow_pickle=True) as data:
    rows_a = [''.join(residue_constants.ID_TO_HHBLITS_AA[i] for i in row)
              for row in data['msa_all_seq']]
  rows_b, _ = parsers.parse_fasta(
      (golden_dir / 'small' / 'msa.a3m').read_text())
  homologues = [(s, r.replace('-', '')) for s, rows in (('a', rows_a),
                                                       ('b', rows_b))
                for r in rows[1:]]
  folder = tmp_path_factory.mktemp('dbs')
  decoys = (TESTDATA / 'pdb_chains.fasta').read_text()
  uniref = ''.join(f'>UniRef90_{c}{i}\n{r.upper()}\n'
                   for i, (c, r) in enumerate(homologues))
  uniprot = ''.join(
      f'>tr|Q{i:05d}|Q{i:05d}_{SPECIES[i % len(SPECIES)]} protein\n'
      f'{r.upper()}\n'
      for i, (_, r) in enumerate(homologues))
  (folder / 'uniref90.fasta').write_text(decoys + uniref)
  (folder / 'uniprot.fasta').write_text(decoys + uniprot)
  return (str(folder / 'uniref90.fasta'), str(folder / 'uniprot.fasta'),
          rows_a[0], rows_b[0])


def _pipeline(databases, precomputed=False):
  uniref90, uniprot, _, _ = databases
  if precomputed:
    return multimer_pipeline.MultimerDataPipeline(
        pipeline_lib.DataPipeline(uniref90=_NoSearch(),
                                  use_precomputed_msas=True),
        uniprot=_NoSearch(), use_precomputed_msas=True)
  return multimer_pipeline.MultimerDataPipeline(
      pipeline_lib.DataPipeline(uniref90=jackhmmer.Jackhmmer(uniref90, cpus=1)),
      uniprot=jackhmmer.Jackhmmer(uniprot, cpus=1))


def test_heteromer_searches_each_sequence_once_and_pairs_uniprot_rows(
    databases, tmp_path):
  _, _, seq_a, seq_b = databases
  fasta = tmp_path / 'complex.fasta'
  fasta.write_text(f'>first copy\n{seq_a}\n>other\n{seq_b}\n>second\n{seq_a}\n')
  msa_dir = tmp_path / 'msas'
  pipeline = _pipeline(databases)
  chains = pipeline.chain_features(str(fasta), str(msa_dir))

  chain_map = json.loads((msa_dir / 'chain_id_map.json').read_text())
  assert chain_map == {
      'A': {'sequence': seq_a, 'description': 'first copy'},
      'B': {'sequence': seq_b, 'description': 'other'},
      'C': {'sequence': seq_a, 'description': 'second'}}
  read_back = multimer_pipeline.read_chain_id_map(str(msa_dir))
  assert read_back['B'].sequence == seq_b
  # The copy C reuses A's searches.
  assert sorted(p.name for p in msa_dir.iterdir()) == [
      'A', 'B', 'chain_id_map.json']
  for chain_id in 'AB':
    assert (msa_dir / chain_id / 'uniref90_hits.sto').is_file()
    assert (msa_dir / chain_id / 'uniprot_hits.sto').is_file()
  for key, value in chains['A'].items():
    np.testing.assert_array_equal(chains['C'][key], value)
  assert chains['A']['domain_name'][0] == b'chain_A'

  # Species come from the UniProt entry names of the hits.
  sto = (msa_dir / 'B' / 'uniprot_hits.sto').read_text()
  msa = parsers.parse_stockholm(sto)
  expected = [msa_identifiers.species_identifier(d).encode()
              for d in msa.descriptions]
  species_b = chains['B']['msa_species_identifiers_all_seq'].tolist()
  assert species_b[0] == b''
  assert set(species_b[1:]) <= set(s.encode() for s in SPECIES)
  assert set(species_b) == set(expected)
  assert len(species_b) > 10
  np.testing.assert_array_equal(chains['B']['msa_species_identifiers'], b'')

  example = pipeline.process(str(fasta), str(msa_dir))
  num_a, num_b = len(seq_a), len(seq_b)
  np.testing.assert_array_equal(example['asym_id'], np.repeat(
      [1., 2., 3.], [num_a, num_a, num_b]))
  np.testing.assert_array_equal(example['entity_id'], np.repeat(
      [1., 1., 2.], [num_a, num_a, num_b]))
  # Rows pairing A, its copy and B: more than the queries alone.
  gap = residue_constants.restypes_with_x_and_gap.index('-')
  msa = example['msa'][:example['num_alignments']]
  rows_with_all = np.all([np.any(msa[:, s] != gap, axis=1) for s in
                          (slice(0, num_a), slice(2 * num_a, None))], axis=0)
  bert = example['bert_mask']
  num_paired = np.argmin(bert[:, -1] * bert[:, 0])
  assert rows_with_all[:num_paired].all() and num_paired > 1
  assert not rows_with_all[num_paired:].any()

  again = _pipeline(databases, precomputed=True).process(str(fasta),
                                                         str(msa_dir))
  for key, value in example.items():
    np.testing.assert_array_equal(again[key], value, err_msg=key)


def test_homomer_runs_no_uniprot_search(databases, tmp_path):
  uniref90, _, seq_a, _ = databases
  fasta = tmp_path / 'homomer.fasta'
  fasta.write_text(f'>x\n{seq_a}\n>y\n{seq_a}\n')
  pipeline = multimer_pipeline.MultimerDataPipeline(
      pipeline_lib.DataPipeline(uniref90=jackhmmer.Jackhmmer(uniref90, cpus=1)),
      uniprot=_NoSearch())
  example = pipeline.process(str(fasta), str(tmp_path / 'msas'))
  assert not (tmp_path / 'msas' / 'A' / 'uniprot_hits.sto').exists()
  np.testing.assert_array_equal(example['sym_id'],
                                np.repeat([1., 2.], len(seq_a)))


def test_bad_fasta_is_refused_before_any_search(tmp_path):
  fasta = tmp_path / 'bad.fasta'
  fasta.write_text('>a\nMKV\n>b\nMK1V\n')
  pipeline = multimer_pipeline.MultimerDataPipeline(
      pipeline_lib.DataPipeline(uniref90=_NoSearch()), uniprot=_NoSearch())
  with pytest.raises(parsers.ParseError, match='bad.fasta.*not amino acids'):
    pipeline.process(str(fasta), str(tmp_path / 'msas'))


def test_heteromer_with_hmmsearch_templates_from_seqres(databases, tmp_path):
  """A BPTI variant (template 5PTI in the seqres file) with chain A (no
  template): BPTI's template lands on its residues, A gets a zero one."""
  uniref90, uniprot, seq_a, _ = databases
  mmcif_dir = TESTDATA / 'mmcif'
  seqres = mmcif_lib.read(str(mmcif_dir / '5PTI.cif.gz')).chain_to_seqres['A']
  bpti = seqres[:10] + 'A' + seqres[11:30] + 'S' + seqres[31:]
  seqres_db = tmp_path / 'pdb_seqres.txt'
  seqres_db.write_text(f'>5pti_A mol:protein length:{len(seqres)}  BPTI\n'
                       f'{seqres}\n'
                       + (TESTDATA / 'pdb_chains.fasta').read_text())
  fasta = tmp_path / 'complex.fasta'
  fasta.write_text(f'>bpti\n{bpti}\n>a\n{seq_a}\n')
  pipeline = multimer_pipeline.MultimerDataPipeline(
      pipeline_lib.DataPipeline(
          uniref90=jackhmmer.Jackhmmer(uniref90, cpus=1),
          template_searcher=hmmsearch.Hmmsearch(str(seqres_db), cpus=1),
          template_featurizer=multimer_templates.HmmsearchTemplateFeaturizer(
              str(mmcif_dir), '2020-01-01')),
      uniprot=jackhmmer.Jackhmmer(uniprot, cpus=1))
  msa_dir = tmp_path / 'msas'
  chains = pipeline.chain_features(str(fasta), str(msa_dir))
  assert (msa_dir / 'A' / 'pdb_hits.sto').is_file()
  example = process_multimer_features(chains)
  n = len(bpti)
  bpti_masks = chains['A']['template_all_atom_masks']
  # The best hit is 5PTI itself, aligned over every residue.
  assert chains['A']['template_domain_names'][0] == b'5pti_A'
  assert bpti_masks[0].sum(-1).min() > 0
  # num_templates is the first chain's.
  assert example['num_templates'] == min(len(bpti_masks), 4)
  # Each chain's templates (at most 4, zero-padded) on its own residues.
  mask = example['template_all_atom_mask']
  assert mask.shape == (4, n + len(seq_a), 37)
  for columns, chain in ((slice(0, n), 'A'), (slice(n, None), 'B')):
    own = chains[chain]['template_all_atom_masks'][:4]
    np.testing.assert_array_equal(mask[:len(own), columns], own)
    np.testing.assert_array_equal(mask[len(own):, columns], 0)
  # Template residues in the model's order: BPTI's sequence but the two
  # mutated positions.
  agree = example['template_aatype'][0, :n] == example['aatype'][:n]
  assert agree.sum() == n - 2
