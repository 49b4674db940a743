"""The training config: a model preset plus the data, optimiser and loop
sections that training reads.

`training_config(...)` builds the ConfigDict that the files in configs/ return
from get_config(); its sections are
  data.train   crop and MSA sizes of Suppl. Table 4 (read by
               `alphafold_jax.data.features.process_features(mode='train')`),
  model        the network (`AlphaFold(config.model)`),
  optimizer    Adam, the schedule, per-example clipping and the EMA
               (Suppl. 1.11.3, 1.11.7),
  train        batch size, steps, seed, checkpoint and logging cadence,
  dataset      the data trained on: the built PDB and self-distillation
               sets (pdb_data_dir, distillation_data_dir: the builders'
               --data_dir; distillation_fraction) or, for small runs,
               structure files (pdb_files, chains). Either data dir may be
               left empty ('') to train on the other set alone. A multimer
               config (model.global_config.multimer_mode) trains on the
               complexes set instead (complex_data_dir: the builder's
               --data_dir with --complexes).
"""
from __future__ import annotations

import importlib.util
import pathlib
from typing import Optional, Sequence

import ml_collections

from alphafold_jax.data import features
from alphafold_jax.data.datasets import loader
from alphafold_jax.model import model_config

# Suppl. 1.11.3: Adam with these moments; the learning rate warms up linearly
# over the first 128,000 samples (1,000 steps of 128) and is multiplied by
# 0.95 every 6.4M samples (50,000 steps).
ADAM_B1 = 0.9
ADAM_B2 = 0.999
ADAM_EPS = 1e-6
WARMUP_STEPS = 1000
DECAY_EVERY_STEPS = 50000
DECAY_FACTOR = 0.95
# Suppl. 1.11.3: each example's gradient is clipped to this global norm.
PER_EXAMPLE_CLIP_NORM = 0.1
# Suppl. 1.11.7: the evaluated parameters are an exponential moving average.
EMA_DECAY = 0.999
# Suppl. 1.11.3: 128 examples per step (one per TPU core).
GLOBAL_BATCH_SIZE = 128


def training_config(*, model_preset: str = 'model_1',
                    crop_size: int,
                    max_msa_clusters: int,
                    max_extra_msa: int,
                    max_templates: int = 4,
                    learning_rate: float,
                    warmup_steps: int = WARMUP_STEPS,
                    violation_loss_weight: float,
                    experimentally_resolved_weight: float,
                    num_steps: int,
                    batch_size: int = GLOBAL_BATCH_SIZE,
                    pdb_files: Optional[Sequence[str]] = None
                    ) -> ml_collections.ConfigDict:
  """A full training config with the sizes and weights given.

  Args:
    model_preset: the network preset (`model_config` name) trained.
    crop_size, max_msa_clusters, max_extra_msa, max_templates: Suppl. Table 4
      N_res, N_clust, N_extra_seq, N_templ.
    learning_rate: the peak learning rate.
    warmup_steps: steps of linear warm-up.
    violation_loss_weight: the structure module's violation loss weight.
    experimentally_resolved_weight: that head's loss weight (0 leaves the head
      out of the network).
    num_steps: training steps.
    batch_size: examples per step, over all devices and hosts.
    pdb_files: structures trained on (single-sequence examples) when no
      built dataset is set.
  """
  config = model_config(model_preset)
  with config.data.unlocked():
    config.data.train = features.make_train_data_config(
        config.data.eval, crop_size=crop_size, max_msa_clusters=max_msa_clusters,
        max_extra_msa=max_extra_msa, max_templates=max_templates)
  with config.model.global_config.unlocked():
    # bfloat16 training (--config.model.global_config.bfloat16=True): the
    # trunk (embeddings, template and extra-MSA stacks, Evoformer) computes
    # in bfloat16 from float32 weights cast in the forward pass; the
    # parameters, their gradients, Adam's moments and the EMA stay float32,
    # as do the structure module, the heads, the losses and all geometry.
    # bfloat16 has float32's exponent range, so no loss scaling is needed.
    config.model.global_config.bfloat16 = False
  # Suppl. 1.11.8: the blocks' activations are recomputed in the backward
  # pass (gradient checkpointing); without it one example at crop 64 asked
  # for a 34 GB buffer on the CPU.
  config.model.global_config.use_remat = True
  heads = config.model.heads
  heads.structure_module.structural_violation_loss_weight = (
      violation_loss_weight)
  heads.experimentally_resolved.weight = experimentally_resolved_weight

  config.optimizer = ml_collections.ConfigDict({
      'learning_rate': learning_rate,
      'b1': ADAM_B1,
      'b2': ADAM_B2,
      'eps': ADAM_EPS,
      'warmup_steps': warmup_steps,
      'decay_every_steps': DECAY_EVERY_STEPS,
      'decay_factor': DECAY_FACTOR,
      'per_example_clip_norm': PER_EXAMPLE_CLIP_NORM,
      'ema_decay': EMA_DECAY,
  })
  config.train = ml_collections.ConfigDict({
      'batch_size': batch_size,
      'num_steps': num_steps,
      'seed': 0,
      'log_every_steps': 10,
      'checkpoint_every_steps': 500,
      'keep_checkpoints': 3,
      # Steps before the violation loss counts (0: from the start); see
      # train_step.make_train_step.
      'violation_loss_from_step': 0,
  })
  config.dataset = ml_collections.ConfigDict({
      # Built datasets (train/build_*_dataset.py --data_dir).
      'pdb_data_dir': '',
      'distillation_data_dir': '',
      # The complexes set (train/build_pdb_dataset.py --complexes), read by
      # multimer configs.
      'complex_data_dir': '',
      'distillation_fraction': loader.DISTILLATION_FRACTION,
      'pdb_files': tuple(pdb_files or ()),
      # One chain id per file ('' takes the file's first chain).
      'chains': ('',) * len(pdb_files or ()),
  })
  return config


def set_num_recycle(config: ml_collections.ConfigDict, num_recycle: int
                    ) -> None:
  """Sets the recycling count where the data and the model both read it."""
  config.data.common.num_recycle = num_recycle
  config.model.num_recycle = num_recycle


def load_config_file(path) -> ml_collections.ConfigDict:
  """`get_config()` of a Python config file (as --config=path reads it)."""
  spec = importlib.util.spec_from_file_location(
      pathlib.Path(path).stem, str(path))
  module = importlib.util.module_from_spec(spec)
  spec.loader.exec_module(module)
  return module.get_config()
