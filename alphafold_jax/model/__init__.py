"""The AlphaFold2 monomer and AlphaFold-Multimer networks and their parameters."""
from alphafold_jax.model.alphafold import AlphaFold
from alphafold_jax.model.alphafold_multimer import AlphaFoldMultimer
from alphafold_jax.model.config import model_config
from alphafold_jax.model.params import load_params
from alphafold_jax.model.params import save_params

__all__ = ['AlphaFold', 'AlphaFoldMultimer', 'model_config', 'load_params',
           'save_params']
