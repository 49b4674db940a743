"""Rotation matrices as nine component arrays, with the 3x3 algebra written out."""
from __future__ import annotations

import dataclasses

import jax
import jax.numpy as jnp

from alphafold_jax.geometry.vector import Vec3

_COMPONENTS = ('xx', 'xy', 'xz', 'yx', 'yy', 'yz', 'zx', 'zy', 'zz')


@jax.tree_util.register_dataclass
@dataclasses.dataclass(frozen=True)
class Rot3:
  """A batch of 3x3 rotation matrices; `xy` is row x, column y."""
  xx: jax.Array
  xy: jax.Array
  xz: jax.Array
  yx: jax.Array
  yy: jax.Array
  yz: jax.Array
  zx: jax.Array
  zy: jax.Array
  zz: jax.Array

  @property
  def shape(self):
    return jnp.shape(self.xx)

  def components(self):
    return tuple(getattr(self, c) for c in _COMPONENTS)

  def map(self, fn) -> Rot3:
    return Rot3(*(fn(c) for c in self.components()))

  def __getitem__(self, index) -> Rot3:
    return self.map(lambda a: a[index])

  def apply(self, v: Vec3) -> Vec3:
    return Vec3(self.xx * v.x + self.xy * v.y + self.xz * v.z,
                self.yx * v.x + self.yy * v.y + self.yz * v.z,
                self.zx * v.x + self.zy * v.y + self.zz * v.z)

  def apply_inverse(self, v: Vec3) -> Vec3:
    return Vec3(self.xx * v.x + self.yx * v.y + self.zx * v.z,
                self.xy * v.x + self.yy * v.y + self.zy * v.z,
                self.xz * v.x + self.yz * v.y + self.zz * v.z)

  def inverse(self) -> Rot3:
    return Rot3(self.xx, self.yx, self.zx,
                self.xy, self.yy, self.zy,
                self.xz, self.yz, self.zz)

  def __matmul__(self, other: Rot3) -> Rot3:
    """Matrix product self @ other."""
    c0 = self.apply(Vec3(other.xx, other.yx, other.zx))
    c1 = self.apply(Vec3(other.xy, other.yy, other.zy))
    c2 = self.apply(Vec3(other.xz, other.yz, other.zz))
    return Rot3(c0.x, c1.x, c2.x, c0.y, c1.y, c2.y, c0.z, c1.z, c2.z)

  def to_array(self) -> jax.Array:
    """[..., 3, 3] array."""
    rows = [jnp.stack(self.components()[3 * i:3 * i + 3], axis=-1)
            for i in range(3)]
    return jnp.stack(rows, axis=-2)

  def stop_gradient(self) -> Rot3:
    return self.map(jax.lax.stop_gradient)

  @classmethod
  def from_array(cls, m) -> Rot3:
    """From a [..., 3, 3] array."""
    return cls(*(m[..., i, j] for i in range(3) for j in range(3)))

  @classmethod
  def identity(cls, shape, dtype=jnp.float32) -> Rot3:
    one, zero = jnp.ones(shape, dtype), jnp.zeros(shape, dtype)
    return cls(one, zero, zero, zero, one, zero, zero, zero, one)

  @classmethod
  def from_two_vectors(cls, e0: Vec3, e1: Vec3, epsilon: float = 1e-8) -> Rot3:
    """Gram-Schmidt (Suppl. Alg. 21): x-axis along e0, e1 in the xy-plane."""
    e0 = e0.normalized(epsilon)
    e1 = (e1 - e0 * e1.dot(e0)).normalized(epsilon)
    e2 = e0.cross(e1)
    return cls(e0.x, e1.x, e2.x, e0.y, e1.y, e2.y, e0.z, e1.z, e2.z)

  @classmethod
  def about_x_axis(cls, sin, cos) -> Rot3:
    """Rotation about x by the angle with the given sine and cosine."""
    one, zero = jnp.ones_like(sin), jnp.zeros_like(sin)
    return cls(one, zero, zero, zero, cos, -sin, zero, sin, cos)

  @classmethod
  def from_quaternion(cls, w, x, y, z, normalize: bool = True,
                      epsilon: float = 0.) -> Rot3:
    """From quaternion components (w the real part)."""
    if normalize:
      inv_norm = jax.lax.rsqrt(w * w + x * x + y * y + z * z + epsilon)
      w, x, y, z = w * inv_norm, x * inv_norm, y * inv_norm, z * inv_norm
    return cls(w * w + x * x - y * y - z * z, 2 * (x * y - w * z), 2 * (x * z + w * y),
               2 * (x * y + w * z), w * w - x * x + y * y - z * z, 2 * (y * z - w * x),
               2 * (x * z - w * y), 2 * (y * z + w * x), w * w - x * x - y * y + z * z)
