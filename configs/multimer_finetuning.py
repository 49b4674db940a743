"""Fine-tuning AlphaFold-Multimer from the released weights:

  python train/train.py --config=configs/multimer_finetuning.py \
      --config.dataset.pdb_data_dir=/data/tfds \
      --init_params=params_model_1_multimer_v3.npz --workdir=/tmp/ft_multimer

The model section is the `model_1_multimer_v3` preset, whose parameter tree
the released file fills (tests/training/test_configs.py checks it against
the released manifest), with AlphaFold-Multimer's losses and their weights
as released (Evans et al. 2021, section 2.5 and the released config):
  structure module 1.0 (intra-chain FAPE clamped at 10 Å, unit 10 Å;
    interface FAPE unclamped, unit 20 Å; side chains 0.5; chi 0.5; angle
    norm 0.01; the chain centre-of-mass loss 1.0; the averaged clash and
    other violation terms, 1.0: fine-tuning trains them, as AlphaFold's
    fine-tuning stage adds them, Suppl. 1.11.3),
  distogram 0.3, masked MSA 2.0, pLDDT 0.01, PAE 0.1 (the multimer trains
    its PAE head, whose ipTM ranks the predictions), experimentally
    resolved 0.01,
and the truth's copies of homomeric chains matched to the prediction's
before the losses (multi-chain permutation alignment, section 7.3).

Sizes. The crop is the paper's 384 residues (contiguous per-chain and
interface-centred spatial crops, data/multimer/cropping.py); the v2.3
weights were fine-tuned on 640-residue crops, and on complexes of up to 20
chains instead of 8 (AlphaFold v2.3.0 technical note), which
`--config.data.train.crop_size=640` follows where memory allows. The MSA
sizes are the ones the v3 model 1 was trained with and samples itself: 508
cluster centres and 2,048 extra sequences (the note's raise from 1,152).
Training runs up to 3 recycling iterations, AlphaFold's training setting
(Suppl. 1.10), with no early stop.

Optimisation follows AlphaFold's fine-tuning stage (Suppl. 1.11.3 and
Table 4), which the multimer paper keeps: Adam, learning rate 5e-4 with no
warm-up (the weights are trained), per-example gradient clipping at 0.1,
128 examples per step, EMA 0.999. The multimer paper's own table of
training settings could not be consulted for this file; where it differs,
the numbers here follow AlphaFold's.
"""
from alphafold_jax.model.config_multimer import multimer_config
from alphafold_jax.training.config import training_config

MODEL_PRESET = 'model_1_multimer_v3'
CROP_SIZE = 384
# What model_1_multimer_v3 samples (its config's num_msa, num_extra_msa).
NUM_MSA = 508
NUM_EXTRA_MSA = 2048
NUM_RECYCLE = 3
LEARNING_RATE = 5e-4
WARMUP_STEPS = 0
VIOLATION_LOSS_WEIGHT = 1.
EXPERIMENTALLY_RESOLVED_WEIGHT = 0.01
# AlphaFold's fine-tuning length: ~1.5M samples at 128 per step.
NUM_STEPS = 11700


def get_config():
  # The optimiser, train and dataset sections, and the data sizes.
  config = training_config(
      crop_size=CROP_SIZE,
      max_msa_clusters=NUM_MSA,
      max_extra_msa=NUM_EXTRA_MSA,
      learning_rate=LEARNING_RATE,
      warmup_steps=WARMUP_STEPS,
      violation_loss_weight=VIOLATION_LOSS_WEIGHT,
      experimentally_resolved_weight=EXPERIMENTALLY_RESOLVED_WEIGHT,
      num_steps=NUM_STEPS)
  config.data.common.num_recycle = NUM_RECYCLE
  model = multimer_config(MODEL_PRESET).model
  evo = model.embeddings_and_evoformer
  assert (evo.num_msa, evo.num_extra_msa) == (NUM_MSA, NUM_EXTRA_MSA)
  model.num_recycle = NUM_RECYCLE
  # Training runs every drawn recycle.
  model.recycle_early_stop_tolerance = 0.
  # Suppl. 1.11.8: activations recomputed in the backward pass.
  model.global_config.use_remat = True
  heads = model.heads
  heads.structure_module.structural_violation_loss_weight = (
      VIOLATION_LOSS_WEIGHT)
  heads.experimentally_resolved.weight = EXPERIMENTALLY_RESOLVED_WEIGHT
  config.model = model
  return config
