"""Predicts protein structures from FASTA files (AlphaFold2's command).

  python run_alphafold.py --fasta_paths=T1050.fasta --output_dir=out \
      --data_dir=$DOWNLOAD_DIR --model_preset=monomer_ptm \
      --uniref90_database_path=$DOWNLOAD_DIR/uniref90/uniref90.fasta \
      --mgnify_database_path=$DOWNLOAD_DIR/mgnify/mgy_clusters_2022_05.fa \
      --bfd_database_path=$DOWNLOAD_DIR/bfd/bfd_metaclust_clu_complete_id30_c90_final_seq.sorted_opt \
      --uniref30_database_path=$DOWNLOAD_DIR/uniref30/UniRef30_2021_03 \
      --pdb70_database_path=$DOWNLOAD_DIR/pdb70/pdb70 \
      --template_mmcif_dir=$DOWNLOAD_DIR/pdb_mmcif/mmcif_files \
      --obsolete_pdbs_path=$DOWNLOAD_DIR/pdb_mmcif/obsolete.dat \
      --max_template_date=2022-01-01

  # A complex (one FASTA record per chain; identical sequences are copies),
  # with the flags above, --db_preset as for the monomer, and:
  python run_alphafold.py --fasta_paths=complex.fasta --output_dir=out \
      --data_dir=$DOWNLOAD_DIR --model_preset=multimer ... \
      --uniprot_database_path=$DOWNLOAD_DIR/uniprot/uniprot.fasta \
      --pdb_seqres_database_path=$DOWNLOAD_DIR/pdb_seqres/pdb_seqres.txt \
      --num_multimer_predictions_per_model=5

  # A model of ours (train/train.py's workdir, whose saved config.json
  # builds the network) instead of released weights:
  python run_alphafold.py --fasta_paths=x.fasta --output_dir=out \
      --checkpoint=/tmp/tiny --use_precomputed_msas ...
  # A released-format .npz of ours needs its training config:
  #   --checkpoint=tiny.npz --checkpoint_config=configs/tiny.py

Outputs go to <output_dir>/<FASTA file name>/ (see
alphafold_jax/inference/outputs.py). Bad inputs stop the run with an error
before any search or model runs.
"""
import random
import sys

from absl import app
from absl import flags
from absl import logging
from ml_collections import config_flags

from alphafold_jax.inference import databases
from alphafold_jax.inference import inputs
from alphafold_jax.inference import models
from alphafold_jax.inference import predict
from alphafold_jax.inference import run

# Random seeds are drawn below this, so that seed * num_models + model index
# stays a 32-bit integer (a JAX random key's seed).
_MAX_RANDOM_SEED = 2**24

_FASTA_PATHS = flags.DEFINE_list(
    'fasta_paths', None, 'FASTA files, one chain each (multimer: one record '
    'per chain of the complex); each file\'s name names its output folder.')
_OUTPUT_DIR = flags.DEFINE_string('output_dir', None,
                                  'Where the outputs are written.')
_DATA_DIR = flags.DEFINE_string(
    'data_dir', None, 'Folder holding params/params_<model>.npz.')
_MODEL_PRESET = flags.DEFINE_enum(
    'model_preset', 'monomer', list(models.MODEL_PRESETS),
    'monomer (model_1..5), monomer_ptm (with PAE and pTM), monomer_casp14 '
    '(8 ensemble members) or multimer (model_1..5_multimer_v3, complexes).')
_DB_PRESET = flags.DEFINE_enum(
    'db_preset', 'full_dbs', list(databases.DB_PRESETS),
    'full_dbs: BFD + UniRef30 with HHblits; reduced_dbs: small BFD with '
    'jackhmmer.')
_DATABASE_FLAGS = {
    'uniref90_database_path': 'UniRef90 FASTA (jackhmmer).',
    'mgnify_database_path': 'MGnify FASTA (jackhmmer).',
    'bfd_database_path': 'BFD HH-suite database prefix (full_dbs).',
    'small_bfd_database_path': 'Small BFD FASTA (reduced_dbs).',
    'uniref30_database_path': 'UniRef30 HH-suite database prefix (full_dbs).',
    'pdb70_database_path': 'PDB70 HH-suite database prefix (templates).',
    'template_mmcif_dir': 'Folder of PDB mmCIF files (templates).',
    'obsolete_pdbs_path': 'PDB obsolete.dat (templates).',
    'uniprot_database_path': 'UniProt FASTA (jackhmmer; multimer).',
    'pdb_seqres_database_path': 'PDB seqres FASTA, pdb_seqres.txt '
                                '(hmmsearch templates; multimer).',
}
for _name, _help in _DATABASE_FLAGS.items():
  flags.DEFINE_string(_name, None, _help)
_MAX_TEMPLATE_DATE = flags.DEFINE_string(
    'max_template_date', None,
    'YYYY-MM-DD: templates released after it are not used.')
_USE_PRECOMPUTED_MSAS = flags.DEFINE_boolean(
    'use_precomputed_msas', False,
    'Reuse the search outputs found in <output_dir>/<name>/msas/; a search '
    'so reused needs no database.')
_MODELS_TO_RELAX = flags.DEFINE_enum(
    'models_to_relax', 'best', list(predict.MODELS_TO_RELAX),
    'Amber-relax the best model, all models or none.')
_USE_GPU_RELAX = flags.DEFINE_boolean(
    'use_gpu_relax', True, 'Relax on a GPU when OpenMM has one.')
_RANDOM_SEED = flags.DEFINE_integer(
    'random_seed', None, 'Seed of MSA sampling and the network; random when '
    'unset (and logged).')
_BENCHMARK = flags.DEFINE_boolean(
    'benchmark', False, 'Run each model twice and time the second run '
    '(without compilation) in timings.json.')
_NUM_RECYCLE = flags.DEFINE_integer(
    'num_recycle', None, 'Recycling iterations; the preset\'s when unset (3; '
    'multimer: up to 20).')
_RECYCLE_EARLY_STOP_TOLERANCE = flags.DEFINE_float(
    'recycle_early_stop_tolerance', None,
    'Stop recycling once the Cα positions move less than this (Å) between '
    'iterations; 0 runs every iteration. The preset\'s when unset (0; '
    'multimer: 0.5).')
_NUM_MULTIMER_PREDICTIONS_PER_MODEL = flags.DEFINE_integer(
    'num_multimer_predictions_per_model',
    models.NUM_MULTIMER_PREDICTIONS_PER_MODEL,
    'Multimer: predictions (seeds) per model, named <model>_pred_<i>.')
_HMMSEARCH_BINARY_PATH = flags.DEFINE_string(
    'hmmsearch_binary_path', None, 'Multimer: search templates with this '
    'hmmsearch binary (and --hmmbuild_binary_path) instead of pyhmmer.')
_HMMBUILD_BINARY_PATH = flags.DEFINE_string(
    'hmmbuild_binary_path', None, 'The hmmbuild binary of '
    '--hmmsearch_binary_path; hmmbuild on PATH when unset.')
_CHECKPOINT = flags.DEFINE_string(
    'checkpoint', None, 'A training workdir of train/train.py (or a '
    'released-format .npz) to predict with instead of --data_dir\'s params.')
_CHECKPOINT_CONFIG = config_flags.DEFINE_config_file(
    'checkpoint_config', None,
    'The training config (configs/*.py) --checkpoint was made with; for a '
    'workdir, the config.json saved there when unset.')
_MEMORY_BUDGET_GB = flags.DEFINE_float(
    'memory_budget_gb', None, 'GiB of memory for the network\'s activations: '
    'the chunk size of the attention and transition layers is the largest '
    'that fits the longest sequence (no chunking when all fits). When unset: '
    '0.8 of the GPU/TPU\'s free memory; on the CPU, the preset\'s chunk '
    'size of 4.')
_SHARD_RESIDUES = flags.DEFINE_boolean(
    'shard_residues', False, 'Split the pair and MSA representations along '
    'residues over a mesh of all local devices (monomer presets), for '
    'lengths one device cannot hold; the residues are padded to a multiple '
    'of the device count.')
_BFLOAT16 = flags.DEFINE_boolean(
    'bfloat16', False, 'Run the trunk (embeddings, Evoformer) in bfloat16, '
    'as the reference does by default; the structure module and heads stay '
    'float32 (monomer presets). For the longest sequences.')
_SAVE_EMBEDDINGS = flags.DEFINE_boolean(
    'save_embeddings', False, 'Write embeddings_<model>.npz: the single and '
    'pair representations of the real residues.')


def main(argv):
  if len(argv) > 1:
    raise app.UsageError(f'Unexpected arguments: {" ".join(argv[1:])}')
  seed = _RANDOM_SEED.value
  if seed is None:
    seed = random.randrange(_MAX_RANDOM_SEED)
    logging.info('Random seed: %d', seed)
  options = run.RunOptions(
      fasta_paths=_FASTA_PATHS.value or [],
      output_dir=_OUTPUT_DIR.value,
      data_dir=_DATA_DIR.value,
      model_preset=_MODEL_PRESET.value,
      databases=databases.DatabasePaths(
          **{name: flags.FLAGS[name].value for name in _DATABASE_FLAGS}),
      db_preset=_DB_PRESET.value,
      max_template_date=_MAX_TEMPLATE_DATE.value,
      use_precomputed_msas=_USE_PRECOMPUTED_MSAS.value,
      models_to_relax=_MODELS_TO_RELAX.value,
      random_seed=seed,
      benchmark=_BENCHMARK.value,
      num_recycle=_NUM_RECYCLE.value,
      recycle_early_stop_tolerance=_RECYCLE_EARLY_STOP_TOLERANCE.value,
      checkpoint=_CHECKPOINT.value,
      checkpoint_config=_CHECKPOINT_CONFIG.value,
      save_embeddings=_SAVE_EMBEDDINGS.value,
      memory_budget_gb=_MEMORY_BUDGET_GB.value,
      shard_residues=_SHARD_RESIDUES.value,
      bfloat16=_BFLOAT16.value,
      use_gpu_relax=_USE_GPU_RELAX.value,
      num_multimer_predictions_per_model=(
          _NUM_MULTIMER_PREDICTIONS_PER_MODEL.value),
      hmmsearch_binary_path=_HMMSEARCH_BINARY_PATH.value,
      hmmbuild_binary_path=_HMMBUILD_BINARY_PATH.value)
  try:
    results = run.run(options)
  except inputs.InputError as e:
    # A bad input is the user's to fix: one line, '<file or flag>: <problem>',
    # without a traceback (a library's message may span lines).
    sys.exit('Error: ' + ' '.join(str(e).split()))
  for name, result in results.items():
    ranking = result['ranking']
    best = ranking['order'][0]
    key = next(k for k in ranking if k != 'order')
    label = {'plddts': 'ranking confidence (mean pLDDT or pTM)',
             'iptm+ptm': '0.8 ipTM + 0.2 pTM'}.get(key, key)
    print(f'{name}: best model {best}, {label} '
          f'{ranking[key][best]:.2f}; outputs in {result["output_dir"]}')


if __name__ == '__main__':
  flags.mark_flags_as_required(['fasta_paths', 'output_dir'])
  app.run(main)
