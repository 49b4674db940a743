"""Training-set filters and sampling weights (Suppl. 1.2.5).

Deterministic filters, applied when the PDB set is built (a chain that
fails one is left out and counted in the build report):
  * release date on or before the training cutoff (Methods: PDB structures
    released up to 30 April 2018);
  * resolution at most 9 Å (Suppl. 1.2.5; entries that report none, e.g.
    NMR, pass);
  * no single amino acid above 80% of the sequence (Suppl. 1.2.5);
  * a minimum chain length.
Stochastic filters, turned into a per-chain sampling weight that the loader
samples by (accepting a chain with probability p on every visit is, in
expectation, sampling it in proportion to p):
  * length: accepted with probability max(min(N_res, 512), 256) / 512;
  * cluster: accepted with probability 1 / (size of its 40%-identity
    MMseqs2 cluster).
"""
from __future__ import annotations

import collections
import dataclasses
import datetime
from typing import Dict, Iterable, Mapping, Optional

# Methods (Jumper et al. 2021): the PDB training set stops at this date.
TRAINING_CUTOFF_DATE = '2018-04-30'
# Suppl. 1.2.5.
MAX_RESOLUTION = 9.0
MAX_SINGLE_AMINO_ACID_FRACTION = 0.8
LENGTH_WEIGHT_FLOOR = 256
LENGTH_WEIGHT_CEILING = 512
# Not from the supplement: shorter chains (peptides such as 1YJP's 7
# residues) teach little about folds; the same bound the template search
# uses for a usable hit.
MIN_CHAIN_LENGTH = 10


@dataclasses.dataclass(frozen=True)
class FilterConfig:
  """The deterministic filters of the PDB set.

  Attributes:
    max_release_date: 'YYYY-MM-DD'; later entries are left out (None: no
      cutoff). Chains of unknown date (PDB files without a header) pass.
    max_resolution: Å; 0 (not reported) passes.
    max_single_amino_acid_fraction: largest share of one residue type.
    min_length: fewest residues.
  """
  max_release_date: Optional[str] = TRAINING_CUTOFF_DATE
  max_resolution: float = MAX_RESOLUTION
  max_single_amino_acid_fraction: float = MAX_SINGLE_AMINO_ACID_FRACTION
  min_length: int = MIN_CHAIN_LENGTH


def single_amino_acid_fraction(sequence: str) -> float:
  """Share of the sequence taken by its most common residue letter."""
  if not sequence:
    return 0.
  return max(collections.Counter(sequence).values()) / len(sequence)


def entry_rejection_reason(resolution: float, release_date: Optional[str],
                           config: FilterConfig) -> Optional[str]:
  """Why an entry fails the release-date or resolution filter, or None."""
  if (config.max_release_date and release_date and
      datetime.date.fromisoformat(release_date) >
      datetime.date.fromisoformat(config.max_release_date)):
    return (f'released {release_date}, after the cutoff '
            f'{config.max_release_date}')
  if resolution > config.max_resolution:
    return (f'resolution {resolution:.2f} Å above {config.max_resolution} Å')
  return None


def rejection_reason(sequence: str, resolution: float,
                     release_date: Optional[str],
                     config: FilterConfig) -> Optional[str]:
  """Why a chain fails the deterministic filters, or None if it passes.

  Args:
    sequence: one-letter sequence of the chain [N_res].
    resolution: Å, 0 when the entry reports none.
    release_date: 'YYYY-MM-DD', or None/'' when unknown.
    config: the thresholds.
  """
  reason = entry_rejection_reason(resolution, release_date, config)
  if reason:
    return reason
  if len(sequence) < config.min_length:
    return f'{len(sequence)} residues, fewer than {config.min_length}'
  fraction = single_amino_acid_fraction(sequence)
  if fraction > config.max_single_amino_acid_fraction:
    return (f'one amino acid is {100 * fraction:.0f}% of the sequence (more '
            f'than {100 * config.max_single_amino_acid_fraction:.0f}%)')
  return None


def length_weight(num_res: int) -> float:
  """Suppl. 1.2.5: acceptance probability max(min(N_res, 512), 256) / 512."""
  return max(min(num_res, LENGTH_WEIGHT_CEILING),
             LENGTH_WEIGHT_FLOOR) / LENGTH_WEIGHT_CEILING


def cluster_weight(cluster_size: int) -> float:
  """Suppl. 1.2.5: acceptance probability inversely proportional to the
  chain's cluster size."""
  if cluster_size < 1:
    raise ValueError(f'cluster_size must be >= 1, got {cluster_size}.')
  return 1. / cluster_size


def sampling_weight(num_res: int, cluster_size: int) -> float:
  """The product of the two acceptance probabilities of Suppl. 1.2.5."""
  return length_weight(num_res) * cluster_weight(cluster_size)


def chain_name(pdb_id: str, chain_id: str) -> str:
  """'<pdb id in lower case>_<chain id>', the alignment folder's name."""
  return f'{pdb_id.lower()}_{chain_id}'


def normalize_chain_name(name: str) -> str:
  """'1ABC_A' -> '1abc_A' (PDB ids are case-insensitive, chain ids not)."""
  pdb_id, sep, chain_id = name.partition('_')
  if not sep or not chain_id:
    raise ValueError(f'a chain name is <pdb_id>_<chain_id>, got {name!r}.')
  return chain_name(pdb_id, chain_id)


def parse_clusters(lines: Iterable[str]) -> Dict[str, int]:
  """Chain name -> size of its cluster.

  Args:
    lines: one cluster per line, its members separated by white space, each
      '<pdb_id>_<chain_id>' (MMseqs2 clusters of PDB chains at 40% identity,
      as the supplement uses).

  Raises:
    ValueError: a malformed member name or a chain in two clusters.
  """
  sizes: Dict[str, int] = {}
  for number, line in enumerate(lines, 1):
    members = [normalize_chain_name(m) for m in line.split()]
    for member in members:
      if member in sizes:
        raise ValueError(f'clusters line {number}: {member} is already in '
                         'another cluster.')
      sizes[member] = len(members)
  return sizes


def read_clusters(path: str) -> Dict[str, int]:
  with open(path) as f:
    return parse_clusters(f)


def cluster_size_of(name: str, cluster_sizes: Mapping[str, int]) -> int:
  """A chain missing from the clusters file is its own cluster."""
  return int(cluster_sizes.get(name, 1))
