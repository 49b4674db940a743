"""A tiny AlphaFold-Multimer on the training code paths, for tests and CPU
demos: the multimer network and losses (intra-chain and interface FAPE,
chain centre of mass, averaged clashes, chain permutation alignment) with
the sizes of configs/tiny.py: 2 Evoformer blocks, 1 extra-MSA block, 2
structure-module layers, narrow channels, one recycling iteration, crop 64,
no template stack, and tiny.py's short-run loss choices.

The optimiser, train and dataset sections are configs/tiny.py's. The model
section is the multimer preset's (model.global_config.multimer_mode), so a
checkpoint of it loads into run_alphafold's multimer model. Of `data` (the
monomer's) only data.train.crop_size is read: multimer examples come from
the complexes set (train/build_pdb_dataset.py --complexes, then
train/train.py --data_dir) or from structure files (dataset.pdb_files,
each file one complex) through data/multimer/training.py, cropped to it,
their MSA cut to the model's num_msa + num_extra_msa rows.
"""
import importlib.util
import pathlib

from alphafold_jax.model.config_multimer import multimer_config


def _tiny():
  path = pathlib.Path(__file__).with_name('tiny.py')
  spec = importlib.util.spec_from_file_location('tiny', str(path))
  module = importlib.util.module_from_spec(spec)
  spec.loader.exec_module(module)
  return module


TINY = _tiny()
# Sampled cluster centres and extra sequences drawn by the model.
NUM_MSA = 8
NUM_EXTRA_MSA = 8
TEMPLATE_CHANNEL = 16


def get_config():
  config = TINY.get_config()
  model = multimer_config('model_1_multimer_v3').model
  model.num_recycle = TINY.NUM_RECYCLE
  # Training runs every drawn recycle: no early stop.
  model.recycle_early_stop_tolerance = 0.
  gc = model.global_config
  gc.subbatch_size = None
  gc.use_remat = False
  # A few blocks a stack: straight-line code, faster than the loop.
  gc.unroll_layer_stacks = True
  evo = model.embeddings_and_evoformer
  evo.evoformer_num_block = TINY.EVOFORMER_BLOCKS
  evo.extra_msa_stack_num_block = TINY.EXTRA_MSA_BLOCKS
  evo.msa_channel = TINY.MSA_CHANNEL
  evo.pair_channel = TINY.PAIR_CHANNEL
  evo.seq_channel = TINY.SEQ_CHANNEL
  evo.extra_msa_channel = TINY.EXTRA_MSA_CHANNEL
  evo.num_msa = NUM_MSA
  evo.num_extra_msa = NUM_EXTRA_MSA
  blocks = evo.evoformer
  blocks.msa_row_attention_with_pair_bias.num_head = 4
  blocks.msa_column_attention.num_head = 4
  blocks.triangle_attention_starting_node.num_head = 2
  blocks.triangle_attention_ending_node.num_head = 2
  blocks.triangle_multiplication_outgoing.num_intermediate_channel = (
      TINY.PAIR_CHANNEL)
  blocks.triangle_multiplication_incoming.num_intermediate_channel = (
      TINY.PAIR_CHANNEL)
  blocks.outer_product_mean.num_outer_channel = 8
  template = evo.template
  template.num_channels = TEMPLATE_CHANNEL
  # No template stack, as configs/tiny.py (model_5 has none): its examples
  # are single-sequence. Every template slot runs the stack, masked or not:
  # four empty slots were 0.8 s of a 2.4 s step (100 residues, one core),
  # one slot 0.18 s of 1.34 s. The sizes above apply where it is switched
  # on (`--config.model.embeddings_and_evoformer.template.enabled=True`);
  # the training pipeline pads templates to max_templates slots.
  template.enabled = False
  template.max_templates = 1
  template.template_pair_stack.num_block = 1
  for name in ('triangle_multiplication_outgoing',
               'triangle_multiplication_incoming'):
    template.template_pair_stack[name].num_intermediate_channel = (
        TEMPLATE_CHANNEL)
  sm = model.heads.structure_module
  sm.num_channel = TINY.STRUCTURE_CHANNEL
  sm.num_layer = TINY.STRUCTURE_LAYERS
  sm.num_head = 4
  sm.sidechain.num_channel = TINY.HEAD_CHANNEL
  model.heads.predicted_lddt.num_channels = TINY.HEAD_CHANNEL
  model.heads.predicted_aligned_error.num_channels = TINY.HEAD_CHANNEL
  # configs/tiny.py's choices for short runs from scratch, where the
  # multimer's own differ: a larger distogram weight, no violation loss,
  # and the intra-chain backbone FAPE never clamped (the monomer's
  # clamped_fape_probability 0; the interface FAPE's clamp, 1,000 Å, is
  # already none in effect).
  model.heads.distogram.weight = TINY.DISTOGRAM_WEIGHT
  sm.structural_violation_loss_weight = 0.
  sm.intra_chain_fape.atom_clamp_distance = sm.interface_fape.atom_clamp_distance
  config.model = model
  return config
