"""Unit quaternions (w, x, y, z) for the backbone frames of the structure module.

The structure module keeps each backbone frame as a quaternion plus a
translation (the `affine` tensor [..., 7] of the reference outputs) and
updates it by quaternion composition (Suppl. Alg. 23).
"""
from __future__ import annotations

import jax
import jax.numpy as jnp

from alphafold_jax.geometry.rigid import Rigid3
from alphafold_jax.geometry.rotation import Rot3
from alphafold_jax.geometry.vector import Vec3


def normalize(q: jax.Array) -> jax.Array:
  return q / jnp.linalg.norm(q, axis=-1, keepdims=True)


def multiply(a: jax.Array, b: jax.Array) -> jax.Array:
  """Hamilton product of [..., 4] quaternions."""
  aw, ax, ay, az = (a[..., i] for i in range(4))
  bw, bx, by, bz = (b[..., i] for i in range(4))
  return jnp.stack([aw * bw - ax * bx - ay * by - az * bz,
                    aw * bx + ax * bw + ay * bz - az * by,
                    aw * by - ax * bz + ay * bw + az * bx,
                    aw * bz + ax * by - ay * bx + az * bw], axis=-1)


def to_rotation(q: jax.Array) -> Rot3:
  """Rotation of a unit [..., 4] quaternion."""
  return Rot3.from_quaternion(q[..., 0], q[..., 1], q[..., 2], q[..., 3],
                              normalize=False)


def from_rotation(rot: Rot3) -> jax.Array:
  """A unit quaternion [..., 4] for each rotation, with w >= 0.

  Uses the eigenvector of the largest eigenvalue of the symmetric 4x4 matrix
  built from the rotation (Bar-Itzhack's method), which is stable for all
  rotations.
  """
  xx, xy, xz, yx, yy, yz, zx, zy, zz = rot.components()
  k = [[xx + yy + zz, zy - yz, xz - zx, yx - xy],
       [zy - yz, xx - yy - zz, xy + yx, xz + zx],
       [xz - zx, xy + yx, yy - xx - zz, yz + zy],
       [yx - xy, xz + zx, yz + zy, zz - xx - yy]]
  k = (1. / 3.) * jnp.stack([jnp.stack(row, axis=-1) for row in k], axis=-2)
  _, vectors = jnp.linalg.eigh(k)
  q = vectors[..., -1]
  return q * jnp.where(q[..., :1] < 0, -1., 1.).astype(q.dtype)


def affine_to_rigid(affine: jax.Array) -> Rigid3:
  """[..., 7] (quaternion, translation) -> Rigid3; the quaternion is normalised."""
  q = normalize(affine[..., :4])
  return Rigid3(to_rotation(q), Vec3.from_array(affine[..., 4:]))


def rigid_to_affine(rigid: Rigid3) -> jax.Array:
  return jnp.concatenate([from_rotation(rigid.rot), rigid.trans.to_array()], axis=-1)
