"""Initial training (Suppl. 1.11 and Table 4, first column).

  python train/train.py --config=configs/initial_training.py \
      --config.dataset.pdb_data_dir=/data/tfds \
      --config.dataset.distillation_data_dir=/data/tfds --workdir=/tmp/run

on the sets of train/build_pdb_dataset.py and
train/build_distillation_dataset.py, 75% of the examples self-distillation
(Suppl. 1.2.4). Add --config.model.global_config.bfloat16=True for
bfloat16 training (bfloat16 trunk, float32 parameters, optimiser state,
structure module and losses; alphafold_jax/training/config.py): at crop 256
it plans 11.6 GB of temporaries against float32's 15.9 GB
(benchmarks/train_step.py --plan_only [--bf16], README).
"""
from alphafold_jax.training.config import training_config

# Suppl. Table 4, initial training.
CROP_SIZE = 256
MAX_MSA_CLUSTERS = 128
MAX_EXTRA_MSA = 1024
LEARNING_RATE = 1e-3
# ~10M samples at 128 per step.
NUM_STEPS = 78000


def get_config():
  return training_config(
      model_preset='model_1',
      crop_size=CROP_SIZE,
      max_msa_clusters=MAX_MSA_CLUSTERS,
      max_extra_msa=MAX_EXTRA_MSA,
      learning_rate=LEARNING_RATE,
      violation_loss_weight=0.,
      experimentally_resolved_weight=0.,
      num_steps=NUM_STEPS)
