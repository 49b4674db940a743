"""One-hot distance bins between positions (Suppl. Alg. 32 and template features)."""
import jax.numpy as jnp


def dgram_from_positions(positions, num_bins: int, min_bin: float, max_bin: float):
  """positions [..., N, 3] -> one-hot [..., N, N, num_bins] of pairwise distances.

  Bins have lower edges linspace(min_bin, max_bin, num_bins); the last bin is
  open-ended. Distances below min_bin fall in no bin.
  """
  lower = jnp.square(jnp.linspace(min_bin, max_bin, num_bins, dtype=positions.dtype))
  upper = jnp.concatenate([lower[1:], jnp.array([1e8], positions.dtype)])
  dist2 = jnp.sum(jnp.square(positions[..., :, None, :] - positions[..., None, :, :]),
                  axis=-1, keepdims=True)
  return ((dist2 > lower) & (dist2 < upper)).astype(positions.dtype)
