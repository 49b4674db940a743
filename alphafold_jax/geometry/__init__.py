"""Geometry: vectors, rotations, rigid transforms and quaternions."""
from alphafold_jax.geometry import quaternion
from alphafold_jax.geometry.rigid import Rigid3
from alphafold_jax.geometry.rotation import Rot3
from alphafold_jax.geometry.vector import Vec3
from alphafold_jax.geometry.vector import euclidean_distance
from alphafold_jax.geometry.vector import square_euclidean_distance

__all__ = ['Rigid3', 'Rot3', 'Vec3', 'quaternion', 'euclidean_distance',
           'square_euclidean_distance']
