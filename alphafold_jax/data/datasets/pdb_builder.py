"""The PDB training set: a TFDS builder writing one example per chain to
ArrayRecord files (Suppl. 1.2.4-1.2.5).

Reads a folder of structures (mmCIF entries, single-chain PDB files; see
`chains`) and the chains' precomputed alignments (see `alignments`), applies
the deterministic filters of Suppl. 1.2.5 and stores each kept chain's raw
features, ground truth and sampling weight. TensorFlow is neither imported
nor needed: TFDS writes and reads ArrayRecord through numpy.

  report = build_pdb_dataset(data_dir='/data/tfds',
                             structure_dir='/data/mmcif',
                             alignment_dir='/data/alignments',
                             clusters_path='/data/clusters-40.txt')
  source = sources.open_dataset('/data/tfds', PDB_DATASET)  # random access

TFDS writes into a temporary folder and renames it when the split is whole,
so an interrupted build leaves no dataset behind, never half of one; the
build report follows once the dataset is complete.
"""
from __future__ import annotations

import dataclasses
import os
from typing import Any, Dict, Iterator, Mapping, Optional, Tuple

import numpy as np
import tensorflow_datasets as tfds

from alphafold_jax.data import templates as templates_lib
from alphafold_jax.data.datasets import alignments
from alphafold_jax.data.datasets import build_report
from alphafold_jax.data.datasets import chains as chains_lib
from alphafold_jax.data.datasets import filters
from alphafold_jax.data.datasets import records
from alphafold_jax.data.datasets import sources as sources_lib

PDB_DATASET = sources_lib.PDB_DATASET


@dataclasses.dataclass(frozen=True)
class PdbSources:
  """Where a PDB build reads from.

  Attributes:
    structure_dir: mmCIF and single-chain PDB files.
    alignment_dir: '<pdb_id>_<chain>/' folders of alignments.
    clusters_path: MMseqs2 40%-identity clusters of the chains (one cluster
      a line), or None: every chain its own cluster.
    filter_config: the deterministic filters.
    template_featurizer: turns pdb70_hits.hhr into template features; None
      stores zero templates.
  """
  structure_dir: str
  alignment_dir: str
  clusters_path: Optional[str] = None
  filter_config: filters.FilterConfig = filters.FilterConfig()
  template_featurizer: Optional[templates_lib.TemplateFeaturizer] = None


def pdb_features() -> Dict[str, Any]:
  """The PDB set's TFDS features: the core ones and the entry's metadata."""
  features = records.core_features()
  features.update({
      'release_date': tfds.features.Text(),
      'structure_method': tfds.features.Text(),
      'cluster_size': tfds.features.Tensor(shape=(), dtype=np.int32),
  })
  return features


def chain_record(chain: chains_lib.ChainStructure, alignment_dir: str,
                 cluster_sizes: Mapping[str, int],
                 template_featurizer=None) -> Dict[str, Any]:
  """The stored example of one chain.

  Raises:
    alignments.AlignmentError: its alignments are missing or malformed.
  """
  folder = os.path.join(alignment_dir, chain.name)
  msa = alignments.msa_features(folder, chain.sequence)
  templates = alignments.template_features(folder, chain.sequence,
                                           template_featurizer)
  cluster_size = filters.cluster_size_of(chain.name, cluster_sizes)
  record = records.make_record(
      name=chain.name, sequence=chain.sequence, source=chain.source,
      residue_index=chain.residue_index, msa_features=msa,
      template_features=templates,
      all_atom_positions=chain.all_atom_positions,
      all_atom_mask=chain.all_atom_mask, resolution=chain.resolution,
      is_distillation=False,
      sampling_weight=filters.sampling_weight(len(chain.sequence),
                                              cluster_size))
  record.update(release_date=chain.release_date,
                structure_method=chain.structure_method,
                cluster_size=cluster_size)
  return record


class PdbChains(tfds.core.GeneratorBasedBuilder):
  """PDB chains with alignments, ground truth and sampling weights."""

  VERSION = tfds.core.Version(sources_lib.DATASET_VERSION)
  RELEASE_NOTES = {sources_lib.DATASET_VERSION:
                   'Raw features, structure, Suppl. 1.2.5 filters and weights.'}

  def __init__(self, *, sources: PdbSources, **kwargs):
    self._sources = sources
    self.report = build_report.BuildReport(PDB_DATASET)
    super().__init__(**kwargs)

  def _info(self) -> tfds.core.DatasetInfo:
    return tfds.core.DatasetInfo(
        builder=self,
        description='PDB chains for AlphaFold2 training (Suppl. 1.2.4).',
        features=tfds.features.FeaturesDict(pdb_features()),
        citation='Jumper et al., Nature 596, 583-589 (2021).')

  def _split_generators(self, dl_manager):
    del dl_manager  # Everything is local.
    return {sources_lib.SPLIT: self._generate_examples()}

  def _generate_examples(self) -> Iterator[Tuple[str, Dict[str, Any]]]:
    sources = self._sources
    cluster_sizes = (filters.read_clusters(sources.clusters_path)
                     if sources.clusters_path else {})
    for chain in chains_lib.read_chains(sources.structure_dir):
      if isinstance(chain, chains_lib.Skipped):
        self.report.skip(chain.name, chain.source, build_report.UNREADABLE,
                         chain.reason)
        continue
      reason = filters.rejection_reason(chain.sequence, chain.resolution,
                                        chain.release_date,
                                        sources.filter_config)
      if reason:
        self.report.skip(chain.name, chain.source, build_report.FILTERED,
                         reason)
        continue
      try:
        record = chain_record(chain, sources.alignment_dir, cluster_sizes,
                              sources.template_featurizer)
      except (alignments.AlignmentError,
              templates_lib.TemplateError) as e:
        self.report.skip(chain.name, chain.source, build_report.NO_ALIGNMENT,
                         str(e))
        continue
      self.report.keep(chain.name)
      yield chain.name, record


def build_pdb_dataset(data_dir: str, sources: PdbSources
                      ) -> build_report.BuildReport:
  """Builds the PDB set under data_dir/pdb_chains/<version>/.

  An existing complete build is kept as it is (its report is returned
  empty of entries); delete the folder to rebuild.
  """
  builder = PdbChains(sources=sources, data_dir=data_dir,
                      file_format=sources_lib.FILE_FORMAT)
  builder.download_and_prepare()
  if builder.report.kept or builder.report.skipped:
    builder.report.write(builder.data_dir)
  if not os.path.exists(os.path.join(builder.data_dir,
                                     sources_lib.INDEX_FILE)):
    sources_lib.write_index(data_dir, PDB_DATASET)
  return builder.report

