"""Vectors in 3-D as three component arrays (Suppl. section 1.1, 'Notation').

Keeping x, y and z as separate arrays (rather than a trailing axis of size 3)
keeps the 3x3 algebra as explicit elementwise products, so it runs in the
arrays' own precision (float32 or float64) on every backend instead of going
through matrix units that round to lower precision.
"""
from __future__ import annotations

import dataclasses

import jax
import jax.numpy as jnp


@jax.tree_util.register_dataclass
@dataclasses.dataclass(frozen=True)
class Vec3:
  """A batch of 3-vectors; x, y and z share one shape."""
  x: jax.Array
  y: jax.Array
  z: jax.Array

  def __add__(self, other: Vec3) -> Vec3:
    return Vec3(self.x + other.x, self.y + other.y, self.z + other.z)

  def __sub__(self, other: Vec3) -> Vec3:
    return Vec3(self.x - other.x, self.y - other.y, self.z - other.z)

  def __mul__(self, s) -> Vec3:
    return Vec3(self.x * s, self.y * s, self.z * s)

  __rmul__ = __mul__

  def __truediv__(self, s) -> Vec3:
    return Vec3(self.x / s, self.y / s, self.z / s)

  def __neg__(self) -> Vec3:
    return Vec3(-self.x, -self.y, -self.z)

  def __getitem__(self, index) -> Vec3:
    return self.map(lambda a: a[index])

  @property
  def shape(self):
    return jnp.shape(self.x)

  @property
  def dtype(self):
    return self.x.dtype

  def map(self, fn) -> Vec3:
    return Vec3(fn(self.x), fn(self.y), fn(self.z))

  def dot(self, other: Vec3) -> jax.Array:
    return self.x * other.x + self.y * other.y + self.z * other.z

  def cross(self, other: Vec3) -> Vec3:
    return Vec3(self.y * other.z - self.z * other.y,
                self.z * other.x - self.x * other.z,
                self.x * other.y - self.y * other.x)

  def norm(self, epsilon: float = 0.) -> jax.Array:
    """sqrt(|v|^2 + epsilon): epsilon keeps the gradient finite at 0."""
    return jnp.sqrt(self.dot(self) + epsilon)

  def normalized(self, epsilon: float = 1e-8) -> Vec3:
    return self / self.norm(epsilon)

  def to_array(self) -> jax.Array:
    """[..., 3] array."""
    return jnp.stack([self.x, self.y, self.z], axis=-1)

  @classmethod
  def from_array(cls, array) -> Vec3:
    """From a [..., 3] array."""
    return cls(array[..., 0], array[..., 1], array[..., 2])

  @classmethod
  def zeros(cls, shape, dtype=jnp.float32) -> Vec3:
    z = jnp.zeros(shape, dtype)
    return cls(z, z, z)


def square_euclidean_distance(a: Vec3, b: Vec3, epsilon: float = 0.) -> jax.Array:
  d = a - b
  return d.dot(d) + epsilon


def euclidean_distance(a: Vec3, b: Vec3, epsilon: float = 0.) -> jax.Array:
  return jnp.sqrt(square_euclidean_distance(a, b, epsilon))
