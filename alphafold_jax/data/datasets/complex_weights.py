"""Sampling weights of the complexes set: by chain clusters and interface
clusters.

AlphaFold-Multimer samples its PDB complexes so that redundant chains and
interfaces are not over-represented (Evans et al. 2021, section 7.1, with
the 40%-identity chain clusters of the monomer set). The paper gives no
formula; this is ours:

  weight(complex) = sum over its distinct deposited chains c of 1 / |C(c)|
                  + sum over its distinct interfaces {c, d} of 1 / |I(c, d)|

C(c) is c's chain cluster (the clusters file, as for single chains; a chain
missing from it is its own cluster), and I(c, d) the interfaces of the set
between a chain of C(c) and a chain of C(d) (the unordered cluster pair,
counted over the complexes built). Drawing complexes in proportion to
this is, in expectation, drawing a chain cluster (or an interface cluster)
uniformly and then one of its members' complexes: every cluster, and
every kind of contact, is seen about equally often, however many
structures of it the PDB holds. Copies made by symmetry share their
deposited chain and count once, so a 60-mer weighs no more than its
distinct chains and contacts.
"""
from __future__ import annotations

import collections
from typing import Dict, Iterable, List, Mapping, Sequence, Tuple

from alphafold_jax.data.datasets import filters

Interface = Tuple[str, str]


def parse_cluster_ids(lines: Iterable[str]) -> Dict[str, int]:
  """Chain name -> its cluster's line number (1-based), for the clusters
  file of filters.parse_clusters (which checks it)."""
  ids = {}
  for number, line in enumerate(lines, 1):
    for member in line.split():
      ids[filters.normalize_chain_name(member)] = number
  return ids


def read_cluster_ids(path: str) -> Dict[str, int]:
  with open(path) as f:
    lines = f.readlines()
  filters.parse_clusters(lines)  # Malformed or overlapping clusters fail.
  return parse_cluster_ids(lines)


def _cluster(name: str, cluster_ids: Mapping[str, int]):
  return cluster_ids.get(name, name)


def interface_names(source_chains: Sequence[str],
                    interfaces: Iterable[Sequence[int]]) -> List[Interface]:
  """The distinct deposited-chain pairs of a complex's interfaces
  (interfaces: chain index pairs; source_chains: each chain's deposited
  name)."""
  pairs = {tuple(sorted((source_chains[i], source_chains[j])))
           for i, j in interfaces}
  return sorted(pairs)


def complex_weights(complexes: Sequence[Tuple[Sequence[str],
                                              Sequence[Interface]]],
                    cluster_ids: Mapping[str, int],
                    cluster_sizes: Mapping[str, int]) -> List[float]:
  """The weight of each complex of a set (formula in the module docstring).

  Args:
    complexes: per complex, its deposited chain names (copies repeat) and
      its interface_names.
    cluster_ids: chain name -> cluster id (read_cluster_ids).
    cluster_sizes: chain name -> cluster size (filters.read_clusters).
  """
  def interface_cluster(pair):
    return tuple(sorted((str(_cluster(pair[0], cluster_ids)),
                         str(_cluster(pair[1], cluster_ids)))))

  interface_counts = collections.Counter(
      interface_cluster(pair) for _, pairs in complexes for pair in pairs)
  weights = []
  for chain_names, pairs in complexes:
    weight = sum(1. / filters.cluster_size_of(name, cluster_sizes)
                 for name in sorted(set(chain_names)))
    weight += sum(1. / interface_counts[interface_cluster(pair)]
                  for pair in pairs)
    weights.append(weight)
  return weights
