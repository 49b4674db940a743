"""Residue sharding: the trunk's activations split along residues over devices.

With `global_config.shard_residues` (default False) the pair representation
[N_res, N_res, c_z] is split along its first residue axis and the MSA
representation [N_seq, N_res, c_m] along its residue axis, over the axis
`RESIDUE_AXIS` of the mesh the caller sets around the jitted call:

  with jax.set_mesh(sharding.residue_mesh()):
    outputs = jitted_apply(params, key, batch)

The modules only mark the layout their operation wants
(`jax.lax.with_sharding_constraint`); JAX's SPMD partitioner splits every
operation and inserts the collectives, as the dynamic axial parallelism of
FastFold does by hand (Cheng et al. 2022): a row-wise operation (MSA row
attention, a triangle attention around the ending node, the incoming
triangle multiplication) switches the split axis, which XLA does with an
all-to-all, and the operand a whole row needs (the pair bias of the
attention, the other side of a triangle multiplication or outer product) is
gathered. A length not divisible by the number of devices is split
unevenly: XLA pads the last block itself, and `chunked_apply` pads its
rows to a multiple of the device count (inputs and outputs keep their
length).

Switched off, or with a one-device mesh, every function here returns its
input unchanged: the traced program is the one without sharding.
"""
from typing import Any, Dict, Mapping, Optional, Sequence

import jax
import numpy as np

RESIDUE_AXIS = 'residues'


def residue_mesh(devices: Optional[Sequence[jax.Device]] = None
                 ) -> jax.sharding.Mesh:
  """A one-axis mesh (`RESIDUE_AXIS`) of `devices`, all local ones if None."""
  devices = jax.local_devices() if devices is None else list(devices)
  return jax.sharding.Mesh(np.array(devices), (RESIDUE_AXIS,),
                           axis_types=(jax.sharding.AxisType.Auto,))


def num_shards(global_config) -> int:
  """Devices the residues are split over: 1 unless `shard_residues`.

  Raises:
    ValueError: `shard_residues` is on but no mesh with `RESIDUE_AXIS` is set.
  """
  if not global_config.get('shard_residues', False):
    return 1
  mesh = jax.sharding.get_abstract_mesh()
  if RESIDUE_AXIS not in mesh.axis_names:
    raise ValueError(
        'global_config.shard_residues needs a mesh with the axis '
        f'{RESIDUE_AXIS!r} set around the call (with jax.set_mesh('
        f'sharding.residue_mesh()): ...); the current mesh has axes '
        f'{mesh.axis_names}.')
  return mesh.shape[RESIDUE_AXIS]


def feature_shardings(batch: Mapping[str, Any], schema: Mapping[str, Any],
                      mesh: jax.sharding.Mesh) -> Dict[str, Any]:
  """Per-feature shardings of a processed batch over `mesh`: each feature
  split along its first residue axis (NUM_RES in its `schema` entry, the
  config's data.eval.feat, after the batch's leading ensemble axis), the
  others whole on every device.

  Given to the network this way the MSA features ([recycles, N_seq, N, 49]
  and the extra MSA) arrive split as the model splits the MSA, instead of
  every device cutting its slice of each recycling iteration's features
  out of a whole copy and keeping the slices for the whole run.
  """
  from alphafold_jax.model.config import NUM_RES  # pylint: disable=g-import-not-at-top
  out = {}
  for name, value in batch.items():
    dims = list(schema.get(name, ()))
    spec = [None] * np.ndim(value)
    if NUM_RES in dims and len(dims) + 1 == np.ndim(value):
      spec[1 + dims.index(NUM_RES)] = RESIDUE_AXIS
    out[name] = jax.sharding.NamedSharding(
        mesh, jax.sharding.PartitionSpec(*spec))
  return out


def shard(x: jax.Array, axis: int, global_config) -> jax.Array:
  """`x` split along `axis` over the residue mesh axis, the rest whole."""
  if num_shards(global_config) == 1:
    return x
  spec = [None] * x.ndim
  spec[axis] = RESIDUE_AXIS
  return jax.lax.with_sharding_constraint(x, jax.sharding.PartitionSpec(*spec))


def replicate(x: jax.Array, global_config,
              computed_along: Optional[int] = None) -> jax.Array:
  """`x` whole on every device (an operand every row needs in full).

  computed_along: the axis along which `x` is computed split before it is
  gathered. For an attention bias [H, N, N] projected from the pair
  representation this keeps XLA from gathering the pair (c_z channels)
  rather than the bias (H).
  """
  if num_shards(global_config) == 1:
    return x
  if computed_along is not None:
    x = shard(x, computed_along, global_config)
  return jax.lax.with_sharding_constraint(x, jax.sharding.PartitionSpec())
