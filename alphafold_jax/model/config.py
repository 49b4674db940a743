"""Model and data configuration: the reference's schema and values.

`model_config(name)` returns the ConfigDict of one of the ten monomer
presets (model_1..5 and their _ptm variants, Suppl. 1.12 and Table 5) or of
the ten multimer presets (model_1..5_multimer_v2/_v3, config_multimer.py);
the keys and values are those of the released AlphaFold2 so that configs
written for it, such as the golden fixture's config.json, work unchanged.
"""
import copy

import ml_collections

NUM_RES = 'num residues placeholder'
NUM_MSA_SEQ = 'msa placeholder'
NUM_EXTRA_SEQ = 'extra msa placeholder'
NUM_TEMPLATES = 'num templates placeholder'

MODEL_PRESETS = tuple(f'model_{i}{s}' for s in ('', '_ptm') for i in range(1, 6))

_TEMPLATE_DIFF = {
    'data.common.reduce_msa_clusters_by_max_templates': True,
    'data.common.use_templates': True,
    'model.embeddings_and_evoformer.template.embed_torsion_angles': True,
    'model.embeddings_and_evoformer.template.enabled': True,
}

# Suppl. Table 5: models 1 and 2 use templates; 1, 3 and 4 use 5,120 extra
# sequences.
CONFIG_DIFFS = {
    'model_1': {**_TEMPLATE_DIFF, 'data.common.max_extra_msa': 5120},
    'model_2': dict(_TEMPLATE_DIFF),
    'model_3': {'data.common.max_extra_msa': 5120},
    'model_4': {'data.common.max_extra_msa': 5120},
    'model_5': {},
}
for _i in range(1, 6):
  CONFIG_DIFFS[f'model_{_i}_ptm'] = {
      **CONFIG_DIFFS[f'model_{_i}'],
      'model.heads.predicted_aligned_error.weight': 0.1}


def model_config(name: str) -> ml_collections.ConfigDict:
  """The full config of a preset: data and model for a monomer preset,
  model only for a multimer preset."""
  # pylint: disable-next=g-import-not-at-top
  from alphafold_jax.model.config_multimer import MULTIMER_PRESETS, multimer_config
  if name in MULTIMER_PRESETS:
    return multimer_config(name)
  if name not in CONFIG_DIFFS:
    raise ValueError(f'Unknown model preset {name!r}; expected one of '
                     f'{", ".join(MODEL_PRESETS + MULTIMER_PRESETS)}.')
  cfg = copy.deepcopy(CONFIG)
  cfg.update_from_flattened_dict(CONFIG_DIFFS[name])
  return cfg


def _attention(num_head, orientation, dropout_rate, **extra):
  return {'dropout_rate': dropout_rate, 'gating': True, 'num_head': num_head,
          'orientation': orientation, 'shared_dropout': True, **extra}


def _triangle_multiplication(equation, channels):
  return {'dropout_rate': 0.25, 'equation': equation,
          'num_intermediate_channel': channels, 'orientation': 'per_row',
          'shared_dropout': True}


def _transition(factor):
  return {'dropout_rate': 0.0, 'num_intermediate_factor': factor,
          'orientation': 'per_row', 'shared_dropout': True}


_FEATURE_SHAPES = {
    'aatype': [NUM_RES],
    'all_atom_mask': [NUM_RES, None],
    'all_atom_positions': [NUM_RES, None, None],
    'alt_chi_angles': [NUM_RES, None],
    'atom14_alt_gt_exists': [NUM_RES, None],
    'atom14_alt_gt_positions': [NUM_RES, None, None],
    'atom14_atom_exists': [NUM_RES, None],
    'atom14_atom_is_ambiguous': [NUM_RES, None],
    'atom14_gt_exists': [NUM_RES, None],
    'atom14_gt_positions': [NUM_RES, None, None],
    'atom37_atom_exists': [NUM_RES, None],
    'backbone_affine_mask': [NUM_RES],
    'backbone_affine_tensor': [NUM_RES, None],
    'bert_mask': [NUM_MSA_SEQ, NUM_RES],
    'chi_angles': [NUM_RES, None],
    'chi_mask': [NUM_RES, None],
    'extra_deletion_value': [NUM_EXTRA_SEQ, NUM_RES],
    'extra_has_deletion': [NUM_EXTRA_SEQ, NUM_RES],
    'extra_msa': [NUM_EXTRA_SEQ, NUM_RES],
    'extra_msa_mask': [NUM_EXTRA_SEQ, NUM_RES],
    'extra_msa_row_mask': [NUM_EXTRA_SEQ],
    'is_distillation': [],
    'msa_feat': [NUM_MSA_SEQ, NUM_RES, None],
    'msa_mask': [NUM_MSA_SEQ, NUM_RES],
    'msa_row_mask': [NUM_MSA_SEQ],
    'pseudo_beta': [NUM_RES, None],
    'pseudo_beta_mask': [NUM_RES],
    'random_crop_to_size_seed': [None],
    'residue_index': [NUM_RES],
    'residx_atom14_to_atom37': [NUM_RES, None],
    'residx_atom37_to_atom14': [NUM_RES, None],
    'resolution': [],
    'rigidgroups_alt_gt_frames': [NUM_RES, None, None],
    'rigidgroups_group_exists': [NUM_RES, None],
    'rigidgroups_group_is_ambiguous': [NUM_RES, None],
    'rigidgroups_gt_exists': [NUM_RES, None],
    'rigidgroups_gt_frames': [NUM_RES, None, None],
    'seq_length': [],
    'seq_mask': [NUM_RES],
    'target_feat': [NUM_RES, None],
    'template_aatype': [NUM_TEMPLATES, NUM_RES],
    'template_all_atom_masks': [NUM_TEMPLATES, NUM_RES, None],
    'template_all_atom_positions': [NUM_TEMPLATES, NUM_RES, None, None],
    'template_backbone_affine_mask': [NUM_TEMPLATES, NUM_RES],
    'template_backbone_affine_tensor': [NUM_TEMPLATES, NUM_RES, None],
    'template_mask': [NUM_TEMPLATES],
    'template_pseudo_beta': [NUM_TEMPLATES, NUM_RES, None],
    'template_pseudo_beta_mask': [NUM_TEMPLATES, NUM_RES],
    'template_sum_probs': [NUM_TEMPLATES, None],
    'true_msa': [NUM_MSA_SEQ, NUM_RES],
}

CONFIG = ml_collections.ConfigDict({
    'data': {
        'common': {
            'masked_msa': {'profile_prob': 0.1, 'same_prob': 0.1,
                           'uniform_prob': 0.1},
            'max_extra_msa': 1024,
            'msa_cluster_features': True,
            'num_recycle': 3,
            'reduce_msa_clusters_by_max_templates': False,
            'resample_msa_in_recycling': True,
            'template_features': [
                'template_all_atom_positions', 'template_sum_probs',
                'template_aatype', 'template_all_atom_masks',
                'template_domain_names'],
            'unsupervised_features': [
                'aatype', 'residue_index', 'sequence', 'msa', 'domain_name',
                'num_alignments', 'seq_length', 'between_segment_residues',
                'deletion_matrix'],
            'use_templates': False,
        },
        'eval': {
            'feat': _FEATURE_SHAPES,
            'fixed_size': True,
            'subsample_templates': False,
            'masked_msa_replace_fraction': 0.15,
            'max_msa_clusters': 512,
            'max_templates': 4,
            'num_ensemble': 1,
        },
    },
    'model': {
        'embeddings_and_evoformer': {
            'evoformer_num_block': 48,
            'evoformer': {
                'msa_row_attention_with_pair_bias': _attention(8, 'per_row', 0.15),
                'msa_column_attention': _attention(8, 'per_column', 0.0),
                'msa_transition': _transition(4),
                'outer_product_mean': {
                    'first': False, 'chunk_size': 128, 'dropout_rate': 0.0,
                    'num_outer_channel': 32, 'orientation': 'per_row',
                    'shared_dropout': True},
                'triangle_attention_starting_node': _attention(4, 'per_row', 0.25),
                'triangle_attention_ending_node': _attention(4, 'per_column', 0.25),
                'triangle_multiplication_outgoing':
                    _triangle_multiplication('ikc,jkc->ijc', 128),
                'triangle_multiplication_incoming':
                    _triangle_multiplication('kjc,kic->ijc', 128),
                'pair_transition': _transition(4),
            },
            'extra_msa_channel': 64,
            'extra_msa_stack_num_block': 4,
            'max_relative_feature': 32,
            'msa_channel': 256,
            'pair_channel': 128,
            'prev_pos': {'min_bin': 3.25, 'max_bin': 20.75, 'num_bins': 15},
            'recycle_features': True,
            'recycle_pos': True,
            'seq_channel': 384,
            'template': {
                'attention': {'gating': False, 'key_dim': 64, 'num_head': 4,
                              'value_dim': 64},
                'dgram_features': {'min_bin': 3.25, 'max_bin': 50.75,
                                   'num_bins': 39},
                'embed_torsion_angles': False,
                'enabled': False,
                'template_pair_stack': {
                    'num_block': 2,
                    'triangle_attention_starting_node': _attention(
                        4, 'per_row', 0.25, key_dim=64, value_dim=64),
                    'triangle_attention_ending_node': _attention(
                        4, 'per_column', 0.25, key_dim=64, value_dim=64),
                    'triangle_multiplication_outgoing':
                        _triangle_multiplication('ikc,jkc->ijc', 64),
                    'triangle_multiplication_incoming':
                        _triangle_multiplication('kjc,kic->ijc', 64),
                    'pair_transition': _transition(2),
                },
                'max_templates': 4,
                'subbatch_size': 128,
                'use_template_unit_vector': False,
            },
        },
        'global_config': {
            'deterministic': False,
            # jax.nn.dot_product_attention in the gated attention
            # (layers/attention.py): cuDNN's fused kernel on a GPU.
            'fused_attention': False,
            'multimer_mode': False,
            # Pair and MSA representations split along residues over the
            # 'residues' axis of the caller's mesh (model/layers/sharding.py;
            # run_alphafold.py --shard_residues).
            'shard_residues': False,
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
            'predicted_aligned_error': {
                'max_error_bin': 31., 'num_bins': 64, 'num_channels': 128,
                'filter_by_resolution': True, 'min_resolution': 0.1,
                'max_resolution': 3.0, 'weight': 0.0},
            'experimentally_resolved': {
                'filter_by_resolution': True, 'max_resolution': 3.0,
                'min_resolution': 0.1, 'weight': 0.01},
            'structure_module': {
                'num_layer': 8,
                'fape': {'clamp_distance': 10.0, 'clamp_type': 'relu',
                         'loss_unit_distance': 10.0},
                'angle_norm_weight': 0.01,
                'chi_weight': 0.5,
                'clash_overlap_tolerance': 1.5,
                'compute_in_graph_metrics': True,
                'dropout': 0.1,
                'num_channel': 384,
                'num_head': 12,
                'num_layer_in_transition': 3,
                'num_point_qk': 4,
                'num_point_v': 8,
                'num_scalar_qk': 16,
                'num_scalar_v': 16,
                'position_scale': 10.0,
                'sidechain': {'atom_clamp_distance': 10.0, 'num_channel': 128,
                              'num_residual_block': 2, 'weight_frac': 0.5,
                              'length_scale': 10.},
                'structural_violation_loss_weight': 1.0,
                'violation_tolerance_factor': 12.0,
                'weight': 1.0,
            },
            'predicted_lddt': {
                'filter_by_resolution': True, 'max_resolution': 3.0,
                'min_resolution': 0.1, 'num_bins': 50, 'num_channels': 128,
                'weight': 0.01},
            'masked_msa': {'num_output': 23, 'weight': 2.0},
        },
        'num_recycle': 3,
        'resample_msa_in_recycling': True,
    },
})
