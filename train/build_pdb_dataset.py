"""Builds the PDB training set (Suppl. 1.2.4-1.2.5) as a TFDS ArrayRecord
dataset under --data_dir/pdb_chains/1.0.0/, with build_report.json (chains
left out and why) and index.json (sampling weights).

  python train/build_pdb_dataset.py \
      --structure_dir=/data/pdb_mmcif --alignment_dir=/data/alignments \
      --clusters=/data/clusters-by-chain-40.txt --data_dir=/data/tfds

--alignment_dir holds one '<pdb_id>_<chain>/' folder per chain with
uniref90_hits.sto, mgnify_hits.sto, bfd_uniclust_hits.a3m (or
small_bfd_hits.sto) and optionally pdb70_hits.hhr (used with
--template_mmcif_dir). An existing build in --data_dir is kept.

With --complexes it builds the AlphaFold-Multimer set instead, under
--data_dir/pdb_complexes/1.0.0/: each mmCIF entry's first biological
assembly (its operators applied; the deposited chains when it gives none)
with at most --max_chains chains, per-sequence alignments (any chain's
folder of that sequence) plus uniprot_hits.sto for the chains of
heteromers (the hits paired by species), and chain- and interface-cluster
sampling weights (alphafold_jax/data/datasets/complex_weights.py). Entries
are read into --data_dir/pdb_complexes.work/ first, so an interrupted
build resumes where it stopped:

  python train/build_pdb_dataset.py --complexes --max_chains=20 \
      --structure_dir=/data/pdb_mmcif --alignment_dir=/data/alignments \
      --clusters=/data/clusters-by-chain-40.txt --data_dir=/data/tfds
"""
from absl import app
from absl import flags
from absl import logging

from alphafold_jax.data import templates
from alphafold_jax.data.datasets import complex_builder
from alphafold_jax.data.datasets import complexes
from alphafold_jax.data.datasets import filters
from alphafold_jax.data.datasets import pdb_builder

_DATA_DIR = flags.DEFINE_string('data_dir', None, 'Where the dataset goes.')
_STRUCTURE_DIR = flags.DEFINE_string(
    'structure_dir', None,
    'mmCIF files (<pdb_id>.cif[.gz]) and single-chain PDB files '
    '(<pdb_id><chain>.pdb[.gz]).')
_ALIGNMENT_DIR = flags.DEFINE_string(
    'alignment_dir', None, 'Per-chain alignment folders <pdb_id>_<chain>/.')
_CLUSTERS = flags.DEFINE_string(
    'clusters', None, '40%-identity chain clusters, one cluster a line '
    '(<pdb_id>_<chain> members); every chain its own cluster when unset.')
_MAX_RELEASE_DATE = flags.DEFINE_string(
    'max_release_date', filters.TRAINING_CUTOFF_DATE,
    "Latest release date kept (YYYY-MM-DD); '' for no cutoff.")
_MAX_RESOLUTION = flags.DEFINE_float(
    'max_resolution', filters.MAX_RESOLUTION, 'Largest resolution kept (Å).')
_MAX_SINGLE_AA = flags.DEFINE_float(
    'max_single_amino_acid_fraction', filters.MAX_SINGLE_AMINO_ACID_FRACTION,
    'Largest share of one amino acid in a kept sequence.')
_MIN_LENGTH = flags.DEFINE_integer(
    'min_length', filters.MIN_CHAIN_LENGTH, 'Fewest residues kept.')
_TEMPLATE_MMCIF_DIR = flags.DEFINE_string(
    'template_mmcif_dir', None,
    'mmCIF files of template hits; pdb70_hits.hhr is ignored when unset.')
_MAX_TEMPLATE_DATE = flags.DEFINE_string(
    'max_template_date', filters.TRAINING_CUTOFF_DATE,
    'Latest release date of a template (YYYY-MM-DD).')
_COMPLEXES = flags.DEFINE_boolean(
    'complexes', False,
    'Build the complexes set (pdb_complexes) instead of single chains.')
_MAX_CHAINS = flags.DEFINE_integer(
    'max_chains', complexes.MAX_CHAINS,
    'With --complexes: complexes with more chains (after the chain filters) '
    'are left out.')


def main(argv):
  del argv
  featurizer = None
  if _TEMPLATE_MMCIF_DIR.value:
    featurizer = templates.TemplateFeaturizer(_TEMPLATE_MMCIF_DIR.value,
                                              _MAX_TEMPLATE_DATE.value)
  filter_config = filters.FilterConfig(
      max_release_date=_MAX_RELEASE_DATE.value or None,
      max_resolution=_MAX_RESOLUTION.value,
      max_single_amino_acid_fraction=_MAX_SINGLE_AA.value,
      min_length=_MIN_LENGTH.value)
  if _COMPLEXES.value:
    report = complex_builder.build_complex_dataset(
        _DATA_DIR.value, complex_builder.ComplexSources(
            structure_dir=_STRUCTURE_DIR.value,
            alignment_dir=_ALIGNMENT_DIR.value,
            clusters_path=_CLUSTERS.value, filter_config=filter_config,
            max_chains=_MAX_CHAINS.value, template_featurizer=featurizer))
  else:
    report = pdb_builder.build_pdb_dataset(
        _DATA_DIR.value, pdb_builder.PdbSources(
            structure_dir=_STRUCTURE_DIR.value,
            alignment_dir=_ALIGNMENT_DIR.value,
            clusters_path=_CLUSTERS.value, filter_config=filter_config,
            template_featurizer=featurizer))
  logging.info('Build report: %s', report.counts())


if __name__ == '__main__':
  flags.mark_flags_as_required(['data_dir', 'structure_dir', 'alignment_dir'])
  app.run(main)
