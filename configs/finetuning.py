"""Fine-tuning (Suppl. 1.11 and Table 4, second column), with the pTM head
(Suppl. 1.9.7) so that released `params_model_?_ptm.npz` weights fit:

  python train/train.py --config=configs/finetuning.py \
      --config.dataset.pdb_data_dir=/data/tfds \
      --config.dataset.distillation_data_dir=/data/tfds \
      --init_params=params_model_1_ptm.npz --workdir=/tmp/finetune
"""
from alphafold_jax.training.config import training_config

# Suppl. Table 4, fine-tuning.
CROP_SIZE = 384
MAX_MSA_CLUSTERS = 512
MAX_EXTRA_MSA = 5120
LEARNING_RATE = 5e-4
# Fine-tuning starts from trained weights: no warm-up (Table 4).
WARMUP_STEPS = 0
# Structural violations (Suppl. 1.9.11) and the experimentally resolved head
# (Suppl. 1.9.10) are trained only while fine-tuning.
VIOLATION_LOSS_WEIGHT = 1.
EXPERIMENTALLY_RESOLVED_WEIGHT = 0.01
# ~1.5M samples at 128 per step.
NUM_STEPS = 11700


def get_config():
  return training_config(
      model_preset='model_1_ptm',
      crop_size=CROP_SIZE,
      max_msa_clusters=MAX_MSA_CLUSTERS,
      max_extra_msa=MAX_EXTRA_MSA,
      learning_rate=LEARNING_RATE,
      warmup_steps=WARMUP_STEPS,
      violation_loss_weight=VIOLATION_LOSS_WEIGHT,
      experimentally_resolved_weight=EXPERIMENTALLY_RESOLVED_WEIGHT,
      num_steps=NUM_STEPS)
