"""AlphaFold-Multimer presets: the reference's model ConfigDict and values.

`multimer_config(name)` returns the ConfigDict of `model_{1..5}_multimer_v2`
or `model_{1..5}_multimer_v3` (Evans et al. 2021, AlphaFold v2.3). Unlike the
monomer config it holds only `model`: the multimer data pipeline has no
ensembling or in-pipeline sampling, the model samples the MSA itself. The
keys and values are those of the released code, so that a config written
for it (such as the golden fixture's config.json) works unchanged.
"""
import copy

import ml_collections

MULTIMER_PRESETS = tuple(f'model_{i}_multimer_{v}' for v in ('v2', 'v3')
                         for i in range(1, 6))

_EMB = 'model.embeddings_and_evoformer'
# v3: 508 sampled MSA rows for all models, 2,048 extra rows for models 1-3
# and 1,152 for 4-5; v2 (the older weights): 252 and 1,152. The parameter
# trees are the same.
CONFIG_DIFFS = {}
for _i in range(1, 6):
  CONFIG_DIFFS[f'model_{_i}_multimer_v2'] = {
      f'{_EMB}.num_msa': 252, f'{_EMB}.num_extra_msa': 1152}
  CONFIG_DIFFS[f'model_{_i}_multimer_v3'] = (
      {f'{_EMB}.num_extra_msa': 1152} if _i >= 4 else {})


def multimer_config(name: str) -> ml_collections.ConfigDict:
  if name not in CONFIG_DIFFS:
    raise ValueError(f'Unknown multimer preset {name!r}; expected one of '
                     f'{", ".join(MULTIMER_PRESETS)}.')
  cfg = copy.deepcopy(CONFIG_MULTIMER)
  cfg.update_from_flattened_dict(CONFIG_DIFFS[name])
  return cfg


def _attention(num_head, orientation, dropout_rate):
  return {'dropout_rate': dropout_rate, 'gating': True, 'num_head': num_head,
          'orientation': orientation, 'shared_dropout': True}


def _triangle_multiplication(equation, channels):
  return {'dropout_rate': 0.25, 'equation': equation,
          'num_intermediate_channel': channels, 'orientation': 'per_row',
          'shared_dropout': True}


def _transition(factor):
  return {'dropout_rate': 0.0, 'num_intermediate_factor': factor,
          'orientation': 'per_row', 'shared_dropout': True}


def _pair_blocks(channels, transition_factor):
  return {
      'triangle_attention_starting_node': _attention(4, 'per_row', 0.25),
      'triangle_attention_ending_node': _attention(4, 'per_column', 0.25),
      'triangle_multiplication_outgoing':
          _triangle_multiplication('ikc,jkc->ijc', channels),
      'triangle_multiplication_incoming':
          _triangle_multiplication('kjc,kic->ijc', channels),
      'pair_transition': _transition(transition_factor),
  }


CONFIG_MULTIMER = ml_collections.ConfigDict({
    'model': {
        'embeddings_and_evoformer': {
            'evoformer_num_block': 48,
            'evoformer': {
                'msa_column_attention': _attention(8, 'per_column', 0.0),
                'msa_row_attention_with_pair_bias': _attention(8, 'per_row', 0.15),
                'msa_transition': _transition(4),
                'outer_product_mean': {
                    'chunk_size': 128, 'dropout_rate': 0.0, 'first': True,
                    'num_outer_channel': 32, 'orientation': 'per_row',
                    'shared_dropout': True},
                **_pair_blocks(128, 4),
            },
            'extra_msa_channel': 64,
            'extra_msa_stack_num_block': 4,
            'num_msa': 508,
            'num_extra_msa': 2048,
            'masked_msa': {'profile_prob': 0.1, 'replace_fraction': 0.15,
                           'same_prob': 0.1, 'uniform_prob': 0.1},
            'use_chain_relative': True,
            'max_relative_chain': 2,
            'max_relative_idx': 32,
            'seq_channel': 384,
            'msa_channel': 256,
            'pair_channel': 128,
            'prev_pos': {'max_bin': 20.75, 'min_bin': 3.25, 'num_bins': 15},
            'recycle_features': True,
            'recycle_pos': True,
            'template': {
                'attention': {'gating': False, 'num_head': 4},
                'dgram_features': {'max_bin': 50.75, 'min_bin': 3.25,
                                   'num_bins': 39},
                'enabled': True,
                'max_templates': 4,
                'num_channels': 64,
                'subbatch_size': 128,
                'template_pair_stack': {'num_block': 2, **_pair_blocks(64, 2)},
            },
        },
        'global_config': {
            'deterministic': False,
            # jax.nn.dot_product_attention in the gated attention
            # (layers/attention.py): cuDNN's fused kernel on a GPU.
            'fused_attention': False,
            'multimer_mode': True,
            'subbatch_size': 4,
            'use_remat': False,
            # Layer stacks as straight-line code rather than a loop (layers/
            # layer_stack.py): faster steps for a few blocks, slower compiles.
            'unroll_layer_stacks': False,
            'zero_init': True,
        },
        'heads': {
            'distogram': {'first_break': 2.3125, 'last_break': 21.6875,
                          'num_bins': 64, 'weight': 0.3},
            'experimentally_resolved': {
                'filter_by_resolution': True, 'max_resolution': 3.0,
                'min_resolution': 0.1, 'weight': 0.01},
            'masked_msa': {'weight': 2.0},
            'predicted_aligned_error': {
                'filter_by_resolution': True, 'max_error_bin': 31.0,
                'max_resolution': 3.0, 'min_resolution': 0.1, 'num_bins': 64,
                'num_channels': 128, 'weight': 0.1},
            'predicted_lddt': {
                'filter_by_resolution': True, 'max_resolution': 3.0,
                'min_resolution': 0.1, 'num_bins': 50, 'num_channels': 128,
                'weight': 0.01},
            'structure_module': {
                'angle_norm_weight': 0.01,
                # Training only (not in the released config): pushes apart
                # chains predicted closer than their true distance - 4 Å,
                # in units of 20 Å (Evans et al. 2021, 2.5).
                'chain_centre_mass': {'clamp_distance': 4.0,
                                      'length_scale': 20.0, 'weight': 1.0},
                'chi_weight': 0.5,
                'clash_overlap_tolerance': 1.5,
                'dropout': 0.1,
                'interface_fape': {'atom_clamp_distance': 1000.0,
                                   'loss_unit_distance': 20.0},
                'intra_chain_fape': {'atom_clamp_distance': 10.0,
                                     'loss_unit_distance': 10.0},
                'num_channel': 384,
                'num_head': 12,
                'num_layer': 8,
                'num_layer_in_transition': 3,
                'num_point_qk': 4,
                'num_point_v': 8,
                'num_scalar_qk': 16,
                'num_scalar_v': 16,
                'position_scale': 20.0,
                'sidechain': {'atom_clamp_distance': 10.0,
                              'loss_unit_distance': 10.0, 'num_channel': 128,
                              'num_residual_block': 2, 'weight_frac': 0.5},
                'structural_violation_loss_weight': 1.0,
                'violation_tolerance_factor': 12.0,
                'weight': 1.0,
            },
        },
        # Training only: match the truth's copies of homomeric chains to
        # the prediction's before the losses (losses/chain_permutation.py).
        'align_chains': True,
        'num_ensemble_eval': 1,
        # As v2.3 runs multimer: up to 20 recycles, stopping once the
        # predicted Cα distances move less than 0.5 Å between iterations.
        'num_recycle': 20,
        'recycle_early_stop_tolerance': 0.5,
        'resample_msa_in_recycling': True,
    },
})
