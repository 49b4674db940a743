"""The PDB complexes set (AlphaFold-Multimer training): a TFDS builder
writing one example per entry's first biological assembly to ArrayRecord.

Two stages, both safe to interrupt:
  1. `prepare_complexes` reads each mmCIF file (complexes.py: assembly,
     filters, per-sequence alignments, interfaces) into
     `<data_dir>/pdb_complexes.work/<pdb_id>.npz` (the record) and
     `<pdb_id>.json` (what was kept and left out, and why), written
     atomically, the .json last: an entry with its .json is done and a
     resumed build skips it. A work folder made with other filters is
     refused rather than mixed.
  2. `PdbComplexes` writes the records to ArrayRecord with their sampling
     weights (complex_weights.py: chain and interface clusters, counted
     over the whole set, hence after stage 1). TFDS renames the finished
     split into place, so the dataset is whole or absent.
A file that cannot be read is reported in build_report.json and skipped;
it never stops the build. TensorFlow is not imported.

  report = build_complex_dataset('/data/tfds', ComplexSources(
      structure_dir='/data/mmcif', alignment_dir='/data/alignments',
      clusters_path='/data/clusters-40.txt'))
  source = sources.open_dataset('/data/tfds', COMPLEX_DATASET)
"""
from __future__ import annotations

import dataclasses
import json
import os
from typing import Any, Dict, Iterator, List, Optional, Tuple

from absl import logging
import numpy as np
import tensorflow_datasets as tfds

from alphafold_jax.common import atomic
from alphafold_jax.data import parsers
from alphafold_jax.data import templates as templates_lib
from alphafold_jax.data.datasets import alignments
from alphafold_jax.data.datasets import build_report
from alphafold_jax.data.datasets import chains as chains_lib
from alphafold_jax.data.datasets import complex_records
from alphafold_jax.data.datasets import complex_weights
from alphafold_jax.data.datasets import complexes
from alphafold_jax.data.datasets import filters
from alphafold_jax.data.datasets import sources as sources_lib

COMPLEX_DATASET = sources_lib.COMPLEX_DATASET
WORK_SUFFIX = '.work'
SETTINGS_FILE = 'settings.json'
_TEXT_FIELDS = ('name', 'source', 'release_date', 'structure_method',
                'chain_ids', 'source_chains', 'entity_sequences',
                'species_all_seq')
_LOG_EVERY = 100


@dataclasses.dataclass(frozen=True)
class ComplexSources:
  """Where a complexes build reads from (see pdb_builder.PdbSources).

  Attributes:
    structure_dir: mmCIF files (other files are ignored).
    alignment_dir: '<pdb_id>_<chain>/' folders, with uniprot_hits.sto for
      the chains of heteromers.
    clusters_path: 40%-identity chain clusters, or None (every chain its
      own cluster).
    filter_config: the deterministic filters.
    max_chains: the most chains a kept complex has.
    template_featurizer: turns pdb70_hits.hhr into templates; None stores
      none.
  """
  structure_dir: str
  alignment_dir: str
  clusters_path: Optional[str] = None
  filter_config: filters.FilterConfig = filters.FilterConfig()
  max_chains: int = complexes.MAX_CHAINS
  template_featurizer: Optional[templates_lib.TemplateFeaturizer] = None

  def settings(self) -> Dict[str, Any]:
    """What decides the work files (not the clusters: they only weigh)."""
    return {'filters': dataclasses.asdict(self.filter_config),
            'max_chains': self.max_chains,
            'templates': self.template_featurizer is not None}


def work_dir_of(data_dir: str) -> str:
  return os.path.join(os.fspath(data_dir), COMPLEX_DATASET + WORK_SUFFIX)


def _entry_id(path: str) -> str:
  return chains_lib.file_stem(os.path.basename(path)).lower()


def _skip(name, source, kind, reason) -> Dict[str, str]:
  logging.warning('%s: skipping %s (%s): %s', COMPLEX_DATASET, name, source,
                  reason)
  return {'name': name, 'source': source, 'kind': kind, 'reason': reason}


def prepare_entry(path: str, sources: ComplexSources
                  ) -> Tuple[Optional[Dict[str, Any]], Dict[str, Any]]:
  """(the record or None, the entry's summary: kept, skipped, and for a
  kept entry its deposited chain names and interface names)."""
  source = os.path.basename(path)
  complex_ = complexes.read_complex(path)
  if isinstance(complex_, chains_lib.Skipped):
    return None, {'kept': False, 'skipped': [_skip(
        complex_.name, source, build_report.UNREADABLE, complex_.reason)]}
  kept, left_out = complexes.apply_filters(
      complex_, sources.filter_config, sources.max_chains)
  skipped = [_skip(name, source, build_report.FILTERED, reason)
             for name, reason in left_out]
  if kept is None:
    return None, {'kept': False, 'skipped': skipped}
  try:
    entities = complexes.entity_alignments(
        sources.alignment_dir, kept.chains, sources.template_featurizer)
  # ParseError: a damaged template mmCIF; ValueError: an alignment with a
  # letter that is no amino acid.
  except (alignments.AlignmentError, parsers.ParseError, ValueError) as e:
    skipped.append(_skip(kept.name, source, build_report.NO_ALIGNMENT,
                         str(e)))
    return None, {'kept': False, 'skipped': skipped}
  contacts = complexes.interfaces(kept.chains)
  record = complex_records.make_record(kept, entities, contacts)
  source_chains = [c.source_chain for c in kept.chains]
  return record, {
      'kept': True, 'skipped': skipped, 'source_chains': source_chains,
      'interfaces': [list(p) for p in complex_weights.interface_names(
          source_chains, contacts)]}


def _check_settings(work_dir: str, sources: ComplexSources) -> None:
  path = os.path.join(work_dir, SETTINGS_FILE)
  settings = json.loads(json.dumps(sources.settings()))
  if os.path.exists(path):
    with open(path) as f:
      saved = json.load(f)
    if saved != settings:
      raise ValueError(
          f'{work_dir} was prepared with {saved}, not {settings}: delete it '
          'or build into another --data_dir.')
  else:
    atomic.write_json(path, settings)


def prepare_complexes(work_dir: str, sources: ComplexSources) -> List[str]:
  """Stage 1 for every mmCIF file not yet done; returns the entry ids of
  all the files, in build order."""
  os.makedirs(work_dir, exist_ok=True)
  _check_settings(work_dir, sources)
  entries = []
  paths = chains_lib.mmcif_files(sources.structure_dir)
  for number, path in enumerate(paths, 1):
    entry = _entry_id(path)
    entries.append(entry)
    summary_path = os.path.join(work_dir, entry + '.json')
    if os.path.exists(summary_path):
      continue
    record, summary = prepare_entry(path, sources)
    if record is not None:
      atomic.write_npz(os.path.join(work_dir, entry + '.npz'), record)
    atomic.write_json(summary_path, summary)
    if number % _LOG_EVERY == 0:
      logging.info('%s: %d of %d entries read.', COMPLEX_DATASET, number,
                   len(paths))
  return entries


def read_summary(work_dir: str, entry: str) -> Dict[str, Any]:
  with open(os.path.join(work_dir, entry + '.json')) as f:
    return json.load(f)


def read_record(work_dir: str, entry: str) -> Dict[str, Any]:
  with np.load(os.path.join(work_dir, entry + '.npz')) as data:
    record = {k: data[k] for k in data.files}
  record.update({k: str(record[k]) for k in _TEXT_FIELDS})
  return record


class PdbComplexes(tfds.core.GeneratorBasedBuilder):
  """PDB biological assemblies with per-sequence alignments, UniProt hits
  for pairing, the structure and sampling weights."""

  VERSION = tfds.core.Version(sources_lib.DATASET_VERSION)
  RELEASE_NOTES = {sources_lib.DATASET_VERSION:
                   'First assemblies, per-entity alignments, cluster weights.'}

  def __init__(self, *, sources: ComplexSources, entries: List[str],
               work_dir: str, **kwargs):
    self._sources = sources
    self._entries = entries
    self._work_dir = work_dir
    self.report = build_report.BuildReport(COMPLEX_DATASET)
    super().__init__(**kwargs)

  def _info(self) -> tfds.core.DatasetInfo:
    return tfds.core.DatasetInfo(
        builder=self,
        description='PDB complexes for AlphaFold-Multimer training.',
        features=tfds.features.FeaturesDict(
            complex_records.complex_features()),
        citation='Evans et al., bioRxiv 2021.10.04.463034 (2021).')

  def _split_generators(self, dl_manager):
    del dl_manager  # Everything is local.
    return {sources_lib.SPLIT: self._generate_examples()}

  def _weights(self, summaries) -> Dict[str, float]:
    path = self._sources.clusters_path
    cluster_sizes = filters.read_clusters(path) if path else {}
    cluster_ids = complex_weights.read_cluster_ids(path) if path else {}
    kept = [(e, s) for e, s in summaries if s['kept']]
    weights = complex_weights.complex_weights(
        [(s['source_chains'], [tuple(p) for p in s['interfaces']])
         for _, s in kept], cluster_ids, cluster_sizes)
    return {e: w for (e, _), w in zip(kept, weights)}

  def _generate_examples(self) -> Iterator[Tuple[str, Dict[str, Any]]]:
    summaries = []
    for entry in self._entries:
      if not os.path.exists(os.path.join(self._work_dir, entry + '.json')):
        raise RuntimeError(f'{entry} was not prepared in {self._work_dir}.')
      summaries.append((entry, read_summary(self._work_dir, entry)))
    weights = self._weights(summaries)
    for entry, summary in summaries:
      self.report.skipped.extend(summary['skipped'])
      if not summary['kept']:
        continue
      record = read_record(self._work_dir, entry)
      record['sampling_weight'] = np.float32(weights[entry])
      self.report.keep(entry)
      yield entry, record


def build_complex_dataset(data_dir: str, sources: ComplexSources
                          ) -> build_report.BuildReport:
  """Builds (resuming any earlier run) the complexes set under
  data_dir/pdb_complexes/<version>/, with build_report.json and index.json.

  An existing complete build is kept as it is (the returned report is then
  empty); delete its folder to rebuild (the work folder is reused).

  Raises:
    ValueError: the work folder was prepared with other settings.
  """
  work_dir = work_dir_of(data_dir)
  builder = PdbComplexes(sources=sources, entries=[], work_dir=work_dir,
                         data_dir=data_dir,
                         file_format=sources_lib.FILE_FORMAT)
  if not os.path.exists(os.path.join(builder.data_dir, 'dataset_info.json')):
    builder = PdbComplexes(
        sources=sources, entries=prepare_complexes(work_dir, sources),
        work_dir=work_dir, data_dir=data_dir,
        file_format=sources_lib.FILE_FORMAT)
    builder.download_and_prepare()
  if builder.report.kept or builder.report.skipped:
    builder.report.write(builder.data_dir)
  if not os.path.exists(os.path.join(builder.data_dir,
                                     sources_lib.INDEX_FILE)):
    sources_lib.write_index(data_dir, COMPLEX_DATASET)
  return builder.report
