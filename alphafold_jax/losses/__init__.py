"""Losses of the AlphaFold2 heads (Suppl. section 1.9).

Pure functions of (head output, batch, head config); none modifies its
inputs. `batch` is one example's features without the recycling axis.
"""
from alphafold_jax.losses.aligned_error import predicted_aligned_error_loss
from alphafold_jax.losses.chain_centre_mass import chain_centre_mass_loss
from alphafold_jax.losses.chi import supervised_chi_loss
from alphafold_jax.losses.distogram import distogram_loss
from alphafold_jax.losses.experimentally_resolved import (
    experimentally_resolved_loss)
from alphafold_jax.losses.fape import backbone_fape
from alphafold_jax.losses.fape import frame_aligned_point_error
from alphafold_jax.losses.fape import sidechain_fape
from alphafold_jax.losses.lddt import lddt
from alphafold_jax.losses.masked_msa import masked_msa_loss
from alphafold_jax.losses.plddt import predicted_lddt_loss
from alphafold_jax.losses.renaming import compute_renamed_ground_truth
from alphafold_jax.losses.renaming import find_optimal_renaming
from alphafold_jax.losses.structure import structure_module_loss
from alphafold_jax.losses.structure_multimer import multimer_structure_loss
from alphafold_jax.losses.total import HEAD_LOSSES
from alphafold_jax.losses.total import TAKES_ALL_OUTPUTS
from alphafold_jax.losses.total import head_loss
from alphafold_jax.losses.total import total_loss
from alphafold_jax.losses.total_multimer import MULTIMER_HEAD_LOSSES
from alphafold_jax.losses.total_multimer import multimer_total_loss
from alphafold_jax.losses.violations import compute_violation_metrics
from alphafold_jax.losses.violations import find_structural_violations
from alphafold_jax.losses.violations import structural_violation_loss

__all__ = [
    'HEAD_LOSSES', 'MULTIMER_HEAD_LOSSES', 'TAKES_ALL_OUTPUTS',
    'backbone_fape', 'chain_centre_mass_loss', 'multimer_structure_loss',
    'multimer_total_loss',
    'compute_renamed_ground_truth', 'compute_violation_metrics',
    'distogram_loss', 'experimentally_resolved_loss',
    'find_optimal_renaming', 'find_structural_violations',
    'frame_aligned_point_error', 'head_loss', 'lddt', 'masked_msa_loss',
    'predicted_aligned_error_loss', 'predicted_lddt_loss', 'sidechain_fape',
    'structural_violation_loss', 'structure_module_loss',
    'supervised_chi_loss', 'total_loss',
]
