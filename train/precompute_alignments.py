"""Precomputes the alignments of a training set (OpenFold's precompute
step): the data pipeline's searches for every protein chain of every
structure in --structure_dir, in the layout train/build_pdb_dataset.py
reads (--alignment_dir).

  python train/precompute_alignments.py \
      --structure_dir=/data/pdb_mmcif --output_dir=/data/alignments \
      --uniref90_database_path=$DOWNLOAD_DIR/uniref90/uniref90.fasta \
      --mgnify_database_path=$DOWNLOAD_DIR/mgnify/mgy_clusters_2022_05.fa \
      --bfd_database_path=$DOWNLOAD_DIR/bfd/bfd_metaclust_clu_complete_id30_c90_final_seq.sorted_opt \
      --uniref30_database_path=$DOWNLOAD_DIR/uniref30/UniRef30_2021_03 \
      --pdb70_database_path=$DOWNLOAD_DIR/pdb70/pdb70 \
      --uniprot_database_path=$DOWNLOAD_DIR/uniprot/uniprot.fasta \
      --num_workers=8

Writes <output_dir>/<pdb_id>_<chain>/ with uniref90_hits.sto,
mgnify_hits.sto, bfd_uniclust_hits.a3m (or small_bfd_hits.sto with
--small_bfd_database_path), pdb70_hits.hhr (--pdb70_database_path) or
pdb_hits.sto (--pdb_seqres_database_path, hmmsearch) and uniprot_hits.sto
(--uniprot_database_path, for multimer pairing); each search runs only when
its database is given, UniRef90's always. Chains with the same sequence are
searched once. Stop it at any point and run it again: complete chains are
skipped, the others redone. Unreadable structure files are reported and
skipped; <output_dir>/precompute_report.json lists the chains done, skipped
(complete before) and failed.
"""
import logging as std_logging
import sys

from absl import app
from absl import flags

from alphafold_jax.data.datasets import precompute_alignments
from alphafold_jax.data.tools import subprocess_tool

_STRUCTURE_DIR = flags.DEFINE_string(
    'structure_dir', None,
    'mmCIF files (<pdb_id>.cif[.gz]) and single-chain PDB files '
    '(<pdb_id><chain>.pdb[.gz]).')
_OUTPUT_DIR = flags.DEFINE_string(
    'output_dir', None, 'Where the <pdb_id>_<chain>/ folders go.')
_DATABASE_FLAGS = {
    'uniref90_database_path': 'UniRef90 FASTA (jackhmmer; required).',
    'mgnify_database_path': 'MGnify FASTA (jackhmmer).',
    'bfd_database_path': 'BFD HH-suite database prefix (HHblits, with '
                         '--uniref30_database_path).',
    'uniref30_database_path': 'UniRef30 HH-suite database prefix (HHblits).',
    'small_bfd_database_path': 'Small BFD FASTA (jackhmmer; instead of BFD).',
    'pdb70_database_path': 'PDB70 HH-suite database prefix (HHsearch '
                           'templates: pdb70_hits.hhr).',
    'pdb_seqres_database_path': 'PDB seqres FASTA, pdb_seqres.txt (hmmsearch '
                                'templates: pdb_hits.sto).',
    'uniprot_database_path': 'UniProt FASTA (jackhmmer; the rows paired '
                             'across chains by AlphaFold-Multimer).',
}
for _name, _help in _DATABASE_FLAGS.items():
  flags.DEFINE_string(_name, None, _help)
_NUM_WORKERS = flags.DEFINE_integer(
    'num_workers', 1, 'Processes searching at once (each gets an equal share '
    'of the cores).', lower_bound=1)
_FASTA_OUTPUT_PATH = flags.DEFINE_string(
    'fasta_output_path', None, 'Also write every chain read (>name, '
    'sequence) to this FASTA file, e.g. for clustering.')


def main(argv):
  if len(argv) > 1:
    raise app.UsageError(f'Unexpected arguments: {" ".join(argv[1:])}')
  std_logging.getLogger().setLevel(std_logging.INFO)
  databases = precompute_alignments.Databases(
      **{name: flags.FLAGS[name].value for name in _DATABASE_FLAGS})
  try:
    report = precompute_alignments.precompute_alignments(
        _STRUCTURE_DIR.value, _OUTPUT_DIR.value, databases,
        num_workers=_NUM_WORKERS.value,
        fasta_output_path=_FASTA_OUTPUT_PATH.value)
  except (precompute_alignments.DatabaseError, FileNotFoundError,
          subprocess_tool.ToolError) as e:
    sys.exit(f'Error: {e}')
  counts = report['counts']
  print(f'{counts["done"]} chains done, {counts["skipped"]} complete before, '
        f'{counts["failed"]} failed ({counts["searched"]} sequences '
        f'searched); report in {_OUTPUT_DIR.value}/'
        f'{precompute_alignments.REPORT_FILE}')


if __name__ == '__main__':
  flags.mark_flags_as_required(['structure_dir', 'output_dir',
                                'uniref90_database_path'])
  app.run(main)
