"""Data parallelism through jax.sharding: a one-axis mesh over every device
of every host, the batch split along it, the training state replicated."""
from __future__ import annotations

from typing import Mapping, Optional

import jax
import numpy as np
from jax.sharding import Mesh
from jax.sharding import NamedSharding
from jax.sharding import PartitionSpec

DATA_AXIS = 'data'


def initialize_distributed(coordinator_address: Optional[str],
                           num_processes: Optional[int],
                           process_id: Optional[int]) -> None:
  """Joins a multi-host run (`jax.distributed.initialize`); a no-op for a
  single process (no coordinator given)."""
  if coordinator_address:
    jax.distributed.initialize(coordinator_address=coordinator_address,
                               num_processes=num_processes,
                               process_id=process_id)


def make_mesh(devices=None) -> Mesh:
  """A mesh with one axis, DATA_AXIS, over `devices` (all by default)."""
  devices = jax.devices() if devices is None else devices
  return Mesh(np.asarray(devices), (DATA_AXIS,))


def replicated(mesh: Mesh) -> NamedSharding:
  return NamedSharding(mesh, PartitionSpec())


def batch_sharding(mesh: Mesh) -> NamedSharding:
  """Leading (example) axis split over DATA_AXIS."""
  return NamedSharding(mesh, PartitionSpec(DATA_AXIS))


def global_batch(local_batch: Mapping[str, np.ndarray], mesh: Mesh
                 ) -> Mapping[str, jax.Array]:
  """Assembles each process's share into arrays over the global batch."""
  sharding = batch_sharding(mesh)
  return {k: jax.make_array_from_process_local_data(sharding, v)
          for k, v in local_batch.items()}
