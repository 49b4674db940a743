"""The AlphaFold2 monomer network and its parameters."""
from alphafold_jax.model.alphafold import AlphaFold
from alphafold_jax.model.config import model_config
from alphafold_jax.model.params import load_params
from alphafold_jax.model.params import save_params

__all__ = ['AlphaFold', 'model_config', 'load_params', 'save_params']
