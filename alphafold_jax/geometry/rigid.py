"""Rigid transforms (rotation then translation), Suppl. section 1.1."""
from __future__ import annotations

import dataclasses

import jax
import jax.numpy as jnp

from alphafold_jax.geometry.rotation import Rot3
from alphafold_jax.geometry.vector import Vec3


@jax.tree_util.register_dataclass
@dataclasses.dataclass(frozen=True)
class Rigid3:
  """x -> rot x + trans, for a batch of frames."""
  rot: Rot3
  trans: Vec3

  @property
  def shape(self):
    return self.trans.shape

  def map(self, fn) -> Rigid3:
    return Rigid3(self.rot.map(fn), self.trans.map(fn))

  def __getitem__(self, index) -> Rigid3:
    return self.map(lambda a: a[index])

  def apply(self, v: Vec3) -> Vec3:
    return self.rot.apply(v) + self.trans

  def apply_inverse(self, v: Vec3) -> Vec3:
    return self.rot.apply_inverse(v - self.trans)

  def inverse(self) -> Rigid3:
    inv_rot = self.rot.inverse()
    return Rigid3(inv_rot, -inv_rot.apply(self.trans))

  def __matmul__(self, other: Rigid3) -> Rigid3:
    """Composition: (self @ other)(x) = self(other(x))."""
    return Rigid3(self.rot @ other.rot, self.apply(other.trans))

  def compose_rotation(self, rot: Rot3) -> Rigid3:
    return Rigid3(self.rot @ rot, self.trans)

  def scale_translation(self, factor) -> Rigid3:
    return Rigid3(self.rot, self.trans * factor)

  def to_array(self) -> jax.Array:
    """[..., 4, 4] homogeneous matrices."""
    top = jnp.concatenate([self.rot.to_array(), self.trans.to_array()[..., None]],
                          axis=-1)
    bottom = jnp.zeros(top.shape[:-2] + (1, 4), top.dtype).at[..., 0, 3].set(1.)
    return jnp.concatenate([top, bottom], axis=-2)

  def to_flat12(self) -> jax.Array:
    """[..., 12]: the nine rotation components (row-major), then translation."""
    return jnp.stack(list(self.rot.components()) +
                     [self.trans.x, self.trans.y, self.trans.z], axis=-1)

  @classmethod
  def from_flat12(cls, t) -> Rigid3:
    return cls(Rot3(*(t[..., i] for i in range(9))),
               Vec3(t[..., 9], t[..., 10], t[..., 11]))

  @classmethod
  def from_array(cls, m) -> Rigid3:
    """From [..., 4, 4] homogeneous matrices."""
    return cls(Rot3.from_array(m[..., :3, :3]), Vec3.from_array(m[..., :3, 3]))

  @classmethod
  def identity(cls, shape, dtype=jnp.float32) -> Rigid3:
    return cls(Rot3.identity(shape, dtype), Vec3.zeros(shape, dtype))

  @classmethod
  def from_three_points(cls, point_on_neg_x_axis: Vec3, origin: Vec3,
                        point_on_xy_plane: Vec3, epsilon: float = 1e-8) -> Rigid3:
    """Frame with `origin` at 0, the first point on -x, the last in xy (Alg. 21)."""
    rot = Rot3.from_two_vectors(origin - point_on_neg_x_axis,
                                point_on_xy_plane - origin, epsilon)
    return cls(rot, origin)
