"""The genetic and template databases of a run, and the data pipeline over
them (Suppl. 1.2.2-1.2.3).

db_preset 'full_dbs' searches BFD + UniRef30 with HHblits; 'reduced_dbs'
searches small BFD with jackhmmer. UniRef90 and MGnify are always searched
with jackhmmer (in-process, through pyhmmer). A search whose output is
already in the MSA folder and reused (use_precomputed_msas) needs no
database. Templates are searched only when a model uses them.
"""
from __future__ import annotations

import dataclasses
import os
from typing import Dict, List, Optional

from alphafold_jax.data import pipeline as pipeline_lib
from alphafold_jax.data import templates as templates_lib
from alphafold_jax.data.tools import hhblits
from alphafold_jax.data.tools import hhsearch
from alphafold_jax.data.tools import jackhmmer
from alphafold_jax.data.tools import kalign
from alphafold_jax.data.tools import subprocess_tool
from alphafold_jax.inference import inputs

DB_PRESETS = ('full_dbs', 'reduced_dbs')
# The search outputs the pipeline writes to (and reuses from) msas/.
UNIREF90_OUTPUT = 'uniref90_hits.sto'
MGNIFY_OUTPUT = 'mgnify_hits.sto'
BFD_OUTPUT = 'bfd_uniclust_hits.a3m'
SMALL_BFD_OUTPUT = 'small_bfd_hits.sto'
PDB70_OUTPUT = 'pdb_hits.hhr'


@dataclasses.dataclass(frozen=True)
class DatabasePaths:
  """Database locations, named after run_alphafold.py's flags."""
  uniref90_database_path: Optional[str] = None
  mgnify_database_path: Optional[str] = None
  bfd_database_path: Optional[str] = None
  small_bfd_database_path: Optional[str] = None
  uniref30_database_path: Optional[str] = None
  pdb70_database_path: Optional[str] = None
  template_mmcif_dir: Optional[str] = None
  obsolete_pdbs_path: Optional[str] = None
  # AlphaFold-Multimer: the UniProt FASTA (jackhmmer, the rows paired
  # across chains) and the PDB seqres FASTA (hmmsearch, templates).
  uniprot_database_path: Optional[str] = None
  pdb_seqres_database_path: Optional[str] = None


class _Precomputed:
  """Stands in for a search whose output is reused; never searches."""

  def __init__(self, output_name: str, tool_class=None):
    self.output_name = output_name
    if tool_class is not None:
      # The template pipeline still parses the reused output with the tool's
      # own reader.
      self.output_extension = tool_class.output_extension
      self.get_template_hits = tool_class.get_template_hits

  def query(self, *args, **kwargs):
    raise RuntimeError(f'{self.output_name} was expected in the MSA folder.')


def _searches(db_preset: str) -> Dict[str, tuple]:
  """{output file: database flags it needs} of the MSA searches."""
  if db_preset not in DB_PRESETS:
    raise inputs.InputError(f'Unknown --db_preset {db_preset!r}; expected one '
                            f'of {", ".join(DB_PRESETS)}.')
  searches = {UNIREF90_OUTPUT: ('uniref90_database_path',),
              MGNIFY_OUTPUT: ('mgnify_database_path',)}
  if db_preset == 'full_dbs':
    searches[BFD_OUTPUT] = ('bfd_database_path', 'uniref30_database_path')
  else:
    searches[SMALL_BFD_OUTPUT] = ('small_bfd_database_path',)
  return searches


def searches_to_run(paths: DatabasePaths, db_preset: str, msa_dir: str,
                    use_precomputed_msas: bool, use_templates: bool
                    ) -> Dict[str, tuple]:
  """{search output: database flags} of the searches a target needs.

  Raises:
    InputError: a database that a search needs is unset or missing.
  """
  searches = _searches(db_preset)
  if use_templates:
    searches[PDB70_OUTPUT] = ('pdb70_database_path',)
  needed = {}
  for output, flags in searches.items():
    if use_precomputed_msas and os.path.exists(os.path.join(msa_dir, output)):
      continue
    needed[output] = flags
  inputs.check_paths({f: getattr(paths, f) for flags in needed.values()
                      for f in flags}, 'databases')
  if use_templates:
    inputs.check_paths({'template_mmcif_dir': paths.template_mmcif_dir},
                       'template structures')
  return needed


def reused_outputs(db_preset: str, msa_dir: str, use_precomputed_msas: bool,
                   use_templates: bool) -> List[str]:
  """Paths of the search outputs in msa_dir that a target will reuse."""
  if not use_precomputed_msas:
    return []
  names = list(_searches(db_preset))
  if use_templates:
    names.append(PDB70_OUTPUT)
  return [os.path.join(msa_dir, name) for name in names
          if os.path.exists(os.path.join(msa_dir, name))]


def make_data_pipeline(paths: DatabasePaths, db_preset: str, msa_dir: str,
                       use_precomputed_msas: bool, use_templates: bool,
                       max_template_date: Optional[str]
                       ) -> pipeline_lib.DataPipeline:
  """The DataPipeline of one target (databases checked first)."""
  needed = searches_to_run(paths, db_preset, msa_dir, use_precomputed_msas,
                           use_templates)

  def searcher(output, make, tool_class=None):
    return make() if output in needed else _Precomputed(output, tool_class)

  uniref90 = searcher(UNIREF90_OUTPUT, lambda: jackhmmer.Jackhmmer(
      paths.uniref90_database_path))
  mgnify = searcher(MGNIFY_OUTPUT, lambda: jackhmmer.Jackhmmer(
      paths.mgnify_database_path))
  if db_preset == 'full_dbs':
    bfd = searcher(BFD_OUTPUT, lambda: hhblits.HHBlits(
        [paths.bfd_database_path, paths.uniref30_database_path]))
  else:
    bfd = searcher(SMALL_BFD_OUTPUT, lambda: jackhmmer.Jackhmmer(
        paths.small_bfd_database_path))
  template_searcher = featurizer = None
  if use_templates:
    if not max_template_date:
      raise inputs.InputError('--max_template_date is needed when a model '
                              'uses templates.')
    template_searcher = searcher(PDB70_OUTPUT, lambda: hhsearch.HHSearch(
        [paths.pdb70_database_path]), hhsearch.HHSearch)
    obsolete = (templates_lib.read_obsolete_pdbs(paths.obsolete_pdbs_path)
                if paths.obsolete_pdbs_path else None)
    featurizer = templates_lib.TemplateFeaturizer(
        paths.template_mmcif_dir, max_template_date, aligner=_kalign_or_none(),
        obsolete_pdbs=obsolete)
  return pipeline_lib.DataPipeline(
      uniref90=uniref90, mgnify=mgnify, bfd=bfd,
      bfd_is_jackhmmer=db_preset == 'reduced_dbs',
      template_searcher=template_searcher, template_featurizer=featurizer,
      use_precomputed_msas=use_precomputed_msas)


def _kalign_or_none():
  """kalign realigns hits whose sequence differs from their mmCIF's; without
  the binary such hits are skipped."""
  try:
    return kalign.Kalign()
  except subprocess_tool.ToolError:
    return None


# The multimer's template search output (hmmsearch, Stockholm).
PDB_SEQRES_OUTPUT = 'pdb_hits.sto'


def multimer_searches_to_run(paths: DatabasePaths, db_preset: str,
                             chain_dir: str, use_precomputed_msas: bool,
                             is_heteromer: bool) -> Dict[str, tuple]:
  """{search output: database flags} of one chain's searches in a complex
  (outputs in `chain_dir`, msas/<chain id>/).

  The UniProt and seqres flags must always be set, as in v2.3 (the run
  refuses a multimer preset without them); the files need to exist only
  for the searches that run.

  Raises:
    InputError: a database that is unset, or missing where a search needs it.
  """
  unset = [f'--{flag}' for flag in ('uniprot_database_path',
                                    'pdb_seqres_database_path')
           if not getattr(paths, flag)]
  if unset:
    raise inputs.InputError(f'{" and ".join(unset)} must be set for '
                            '--model_preset=multimer.')
  searches = _searches(db_preset)
  searches[PDB_SEQRES_OUTPUT] = ('pdb_seqres_database_path',)
  if is_heteromer:
    # Imported here: the multimer pipeline is needed only for complexes.
    from alphafold_jax.data.multimer import pipeline as multimer_pipeline  # pylint: disable=g-import-not-at-top
    searches[multimer_pipeline.UNIPROT_OUTPUT] = ('uniprot_database_path',)
  needed = {}
  for output, flags in searches.items():
    if use_precomputed_msas and os.path.exists(os.path.join(chain_dir,
                                                            output)):
      continue
    needed[output] = flags
  inputs.check_paths({f: getattr(paths, f) for flags in needed.values()
                      for f in flags}, 'databases')
  inputs.check_paths({'template_mmcif_dir': paths.template_mmcif_dir},
                     'template structures')
  return needed


def make_multimer_data_pipeline(paths: DatabasePaths, db_preset: str,
                                use_precomputed_msas: bool,
                                max_template_date: str,
                                hmmsearch_binary_path: Optional[str] = None,
                                hmmbuild_binary_path: Optional[str] = None):
  """The MultimerDataPipeline of a complex (databases checked beforehand by
  `multimer_searches_to_run` for each chain).

  A search whose database flag is unset must have its output reused (the
  check made sure); every other search gets its tool. Templates: hmmsearch
  of pdb_seqres through pyhmmer, or the HMMER binaries when
  `hmmsearch_binary_path` is given.
  """
  # pylint: disable=g-import-not-at-top
  from alphafold_jax.data.multimer import pipeline as multimer_pipeline
  from alphafold_jax.data.multimer import templates as multimer_templates
  from alphafold_jax.data.tools import hmmsearch
  # pylint: enable=g-import-not-at-top

  def searcher(output, path, make, tool_class=None):
    if path and os.path.exists(path):
      return make(path)
    return _Precomputed(output, tool_class)

  uniref90 = searcher(UNIREF90_OUTPUT, paths.uniref90_database_path,
                      jackhmmer.Jackhmmer)
  mgnify = searcher(MGNIFY_OUTPUT, paths.mgnify_database_path,
                    jackhmmer.Jackhmmer)
  if db_preset == 'full_dbs':
    bfd = (hhblits.HHBlits([paths.bfd_database_path,
                            paths.uniref30_database_path])
           if paths.bfd_database_path and paths.uniref30_database_path
           else _Precomputed(BFD_OUTPUT))
  else:
    bfd = searcher(SMALL_BFD_OUTPUT, paths.small_bfd_database_path,
                   jackhmmer.Jackhmmer)
  if hmmsearch_binary_path:
    make_template_searcher = lambda path: hmmsearch.HmmsearchBinary(
        path, binary_path=hmmsearch_binary_path,
        hmmbuild_binary_path=hmmbuild_binary_path or 'hmmbuild')
  else:
    make_template_searcher = hmmsearch.Hmmsearch
  template_searcher = searcher(PDB_SEQRES_OUTPUT,
                               paths.pdb_seqres_database_path,
                               make_template_searcher, hmmsearch.Hmmsearch)
  obsolete = (templates_lib.read_obsolete_pdbs(paths.obsolete_pdbs_path)
              if paths.obsolete_pdbs_path else None)
  featurizer = multimer_templates.HmmsearchTemplateFeaturizer(
      paths.template_mmcif_dir, max_template_date, aligner=_kalign_or_none(),
      obsolete_pdbs=obsolete)
  monomer = pipeline_lib.DataPipeline(
      uniref90=uniref90, mgnify=mgnify, bfd=bfd,
      bfd_is_jackhmmer=db_preset == 'reduced_dbs',
      template_searcher=template_searcher, template_featurizer=featurizer,
      use_precomputed_msas=use_precomputed_msas)
  uniprot = searcher(multimer_pipeline.UNIPROT_OUTPUT,
                     paths.uniprot_database_path, jackhmmer.Jackhmmer)
  return multimer_pipeline.MultimerDataPipeline(
      monomer, uniprot=uniprot, use_precomputed_msas=use_precomputed_msas)
