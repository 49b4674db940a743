"""Amber relaxation of predicted structures (Suppl. 1.8.6)."""
from alphafold_jax.inference.relax.relax import AmberRelaxation

__all__ = ['AmberRelaxation']
