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
    # The versions the test suite runs with.
    install_requires=[
        'absl-py==2.5.1',
        'array-record==0.8.6',
        'biopython==1.88',
        'chex==0.1.92',
        'dm-haiku==0.0.17',
        'grain==0.2.18',
        'importlib_resources==7.1.0',
        'jax==0.10.2',
        'jaxlib==0.10.2',
        'matplotlib==3.11.2',
        'ml_collections==1.1.0',
        'numpy==2.4.6',
        'openmm==8.6.1',
        'optax==0.2.8',
        'orbax-checkpoint==0.12.8',
        'pdbfixer==1.12.0',
        'pyhmmer==0.12.3',
        'tensorflow-datasets==4.9.10',
        'tqdm==4.70.1',
    ],
    extras_require={
        # DockQ==2.1.3 scores complexes in the tests and benchmarks; it
        # declares numpy<2 (which its code does not need), so the Makefile
        # installs it on its own with --no-deps, built against this numpy
        # by Cython; networkx and parallelbar are its run-time needs.
        'test': ['hypothesis==6.155.2', 'pytest==9.2.0', 'pytest-xdist==3.8.0',
                 'Cython==3.3.1', 'wheel==0.48.0', 'networkx==3.6.1',
                 'parallelbar==2.5'],
    },
)
