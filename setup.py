"""alphafold_jax: AlphaFold2 in JAX/Haiku, with training."""
import setuptools

setuptools.setup(
    name='alphafold_jax',
    version='0.1.0',
    description='AlphaFold2 in JAX/Haiku: inference with the released weights, '
                'training and fine-tuning.',
    packages=setuptools.find_packages(include=['alphafold_jax', 'alphafold_jax.*']),
    package_data={'alphafold_jax.common': ['*.txt']},
    python_requires='>=3.10',
    install_requires=[
        'absl-py',
        'array-record',
        'biopython',
        'chex',
        'dm-haiku',
        'grain',
        'importlib_resources',
        'jax',
        'ml_collections',
        'matplotlib',
        'numpy',
        'openmm',
        'optax',
        'pdbfixer',
        'orbax-checkpoint',
        'pyhmmer',
        'tensorflow-datasets',
        'tqdm',
    ],
    extras_require={
        'test': ['pytest', 'pytest-xdist'],
    },
)
