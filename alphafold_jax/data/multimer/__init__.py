"""AlphaFold-Multimer's data pipeline: per-chain raw features -> the
complex's model input (chain identifiers, MSA pairing by species, crops,
merging)."""
from alphafold_jax.data.multimer.features import process_multimer_features

__all__ = ['process_multimer_features']
