"""Builds the self-distillation set (Suppl. 1.3) as a TFDS ArrayRecord
dataset under --data_dir/self_distillation/1.0.0/: predicts every FASTA
sequence with the model in batches, keeps the confident predictions and
masks their low-confidence residues. Killed, it resumes where it stopped
when run again with the same flags (predictions are kept in
--data_dir/self_distillation.work/).

  # Released parameters and their preset:
  python train/build_distillation_dataset.py --model_preset=model_1 \
      --params=params/params_model_1.npz --fasta=uniclust_sample.fasta \
      --msa_dir=/data/distillation_msas --data_dir=/data/tfds

  # A training run's checkpoint and its config file:
  python train/build_distillation_dataset.py --config=configs/tiny.py \
      --checkpoint_dir=/tmp/tiny --fasta=seqs.fasta --msa_dir=msas \
      --data_dir=/tmp/tfds

--msa_dir holds one '<name>/' alignment folder per FASTA record (name: the
header's first word), laid out as the PDB set's alignments.
"""
import logging as std_logging
import os

from absl import app
from absl import flags
from absl import logging
from ml_collections import config_flags

from alphafold_jax.data.datasets import batched_prediction
from alphafold_jax.data.datasets import confidence_filter
from alphafold_jax.data.datasets import distillation_builder
from alphafold_jax.data.datasets import distillation_predictions
from alphafold_jax.data.datasets import provenance
from alphafold_jax.model import load_params
from alphafold_jax.model import model_config
from alphafold_jax.training import checkpoint

_CONFIG = config_flags.DEFINE_config_file(
    'config', None, 'A config file (configs/*.py); or use --model_preset.')
_MODEL_PRESET = flags.DEFINE_string(
    'model_preset', None, 'A released preset (model_1 ... model_5_ptm).')
_PARAMS = flags.DEFINE_string('params', None, 'Released-format .npz.')
_CHECKPOINT_DIR = flags.DEFINE_string(
    'checkpoint_dir', None,
    'A training workdir; its latest checkpoint (EMA parameters) is used.')
_FASTA = flags.DEFINE_string('fasta', None, 'The sequences to predict.')
_MSA_DIR = flags.DEFINE_string('msa_dir', None,
                               'Per-sequence alignment folders <name>/.')
_DATA_DIR = flags.DEFINE_string('data_dir', None, 'Where the dataset goes.')
_BATCH_SIZE = flags.DEFINE_integer('batch_size', 8,
                                   'Sequences per network call.')
_SEED = flags.DEFINE_integer('seed', 0, 'Seed of MSA sampling and the model.')
_MIN_MEAN_PLDDT = flags.DEFINE_float(
    'min_mean_plddt', confidence_filter.MIN_MEAN_PLDDT,
    'A prediction is kept when its mean pLDDT reaches this.')
_MIN_RESIDUE_PLDDT = flags.DEFINE_float(
    'min_residue_plddt', confidence_filter.MIN_RESIDUE_PLDDT,
    'Residues below this pLDDT are masked out (Suppl. 1.3).')
_PROGRESS_BAR = flags.DEFINE_boolean('progress_bar', True,
                                     'Show a progress bar.')


def _model():
  """(config, params, preset name, parameter hash) from the flags."""
  if (_CONFIG.value is None) == (_MODEL_PRESET.value is None):
    raise app.UsageError('Give exactly one of --config and --model_preset.')
  if bool(_PARAMS.value) == bool(_CHECKPOINT_DIR.value):
    raise app.UsageError('Give exactly one of --params and --checkpoint_dir.')
  if _CONFIG.value is not None:
    config = _CONFIG.value
    preset = os.path.splitext(os.path.basename(
        config_flags.get_config_filename(flags.FLAGS['config'])))[0]
  else:
    config = model_config(_MODEL_PRESET.value)
    preset = _MODEL_PRESET.value
  if _PARAMS.value:
    params = load_params(_PARAMS.value, config=config)
    digest = provenance.file_sha256(_PARAMS.value)
  else:
    params = checkpoint.load_params_from_workdir(_CHECKPOINT_DIR.value)
    digest = provenance.params_sha256(params)
  return config, params, preset, digest


def main(argv):
  del argv
  std_logging.getLogger().setLevel(std_logging.INFO)
  config, params, preset, digest = _model()
  report = distillation_builder.build_distillation_dataset(
      _DATA_DIR.value, _FASTA.value, _MSA_DIR.value,
      batched_prediction.BatchedPredictor(config, params, _BATCH_SIZE.value),
      provenance.Provenance(preset, digest, provenance.today()),
      distillation_predictions.PredictionSettings(
          seed=_SEED.value,
          confidence=confidence_filter.ConfidenceConfig(
              min_mean_plddt=_MIN_MEAN_PLDDT.value,
              min_residue_plddt=_MIN_RESIDUE_PLDDT.value),
          progress_bar=_PROGRESS_BAR.value))
  logging.info('Build report: %s', report.counts())


if __name__ == '__main__':
  flags.mark_flags_as_required(['fasta', 'msa_dir', 'data_dir'])
  app.run(main)
