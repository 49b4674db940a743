"""The first biological assembly of an mmCIF entry: which chains, moved by
which operators.

An entry's deposited chains (its asymmetric unit) are not always the
complex that exists in solution: a crystal's homodimer may be one chain plus
a copy made by crystal symmetry, and an asymmetric unit may hold two
complexes. mmCIF describes each biological assembly by
  _pdbx_struct_assembly_gen: assembly id, operator expression and the
    label_asym_ids the operators act on (several rows per assembly allowed);
  _pdbx_struct_oper_list: each operator's 3x3 matrix and vector (x' = R x +
    t, in Å).
An operator expression is a list of operator ids ('1,2'), ranges ('1-60'),
either in parentheses, or a product of parenthesised lists ('(1-60)(61)'):
every combination, the rightmost operator applied first. Each
(operator, chain) pair is one chain of the assembly.

  chains = first_assembly(mmcif.read('1yjp.cif.gz'))
  # [AssemblyChain('A', '1', R=I, t=0), AssemblyChain('A', '2', R, t)]
"""
from __future__ import annotations

import dataclasses
import itertools
import re
from typing import Dict, List, Mapping, Sequence

import numpy as np

from alphafold_jax.data import mmcif as mmcif_lib

_GEN = '_pdbx_struct_assembly_gen.'
_OPER = '_pdbx_struct_oper_list.'
_GROUP = re.compile(r'\(([^()]*)\)')
_RANGE = re.compile(r'^(-?\d+)-(-?\d+)$')
# The name of the identity operator when an entry gives no assembly.
IDENTITY = '1'


@dataclasses.dataclass(frozen=True)
class AssemblyChain:
  """One chain of an assembly: a deposited chain moved by an operator.

  Attributes:
    auth_chain_id: the deposited (author) chain id.
    operator: the operator's name: its id, or the ids of a product joined
      by 'x' ('1x61').
    rotation: [3, 3] float64, applied as R @ x.
    translation: [3] float64, Å.
  """
  auth_chain_id: str
  operator: str
  rotation: np.ndarray
  translation: np.ndarray

  def apply(self, positions: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """positions [..., 3] moved by the operator; zero where mask [...] is
    0 (as unresolved atoms are stored)."""
    moved = positions @ self.rotation.T + self.translation
    return (moved * (np.asarray(mask)[..., None] > 0)).astype(
        positions.dtype)


def _values(info: Mapping[str, List[str]], key: str) -> List[str]:
  value = info.get(key, [])
  return value if isinstance(value, list) else [value]


def _operators(info: Mapping[str, List[str]], source: str
               ) -> Dict[str, np.ndarray]:
  """Operator id -> [4, 4] homogeneous matrix."""
  ids = _values(info, _OPER + 'id')
  operators = {}
  for row, op_id in enumerate(ids):
    matrix = np.eye(4)
    try:
      for i in range(3):
        for j in range(3):
          matrix[i, j] = float(
              _values(info, f'{_OPER}matrix[{i + 1}][{j + 1}]')[row])
        matrix[i, 3] = float(_values(info, f'{_OPER}vector[{i + 1}]')[row])
    except (IndexError, ValueError):
      raise mmcif_lib.MmcifError(
          f'{source}: _pdbx_struct_oper_list operator {op_id!r} has a '
          'missing or non-numeric matrix or vector.') from None
    operators[op_id] = matrix
  return operators


def _expand_list(text: str, source: str) -> List[str]:
  """'1,3-5' -> ['1', '3', '4', '5']."""
  ids = []
  for item in text.split(','):
    item = item.strip()
    match = _RANGE.match(item)
    if match:
      start, end = int(match.group(1)), int(match.group(2))
      if end < start:
        raise mmcif_lib.MmcifError(f'{source}: operator range {item!r} runs '
                                   'backwards.')
      ids.extend(str(i) for i in range(start, end + 1))
    elif item:
      ids.append(item)
  if not ids:
    raise mmcif_lib.MmcifError(f'{source}: an empty operator list in '
                               f'{text!r}.')
  return ids


def parse_operator_expression(expression: str, source: str = '<mmCIF>'
                              ) -> List[List[str]]:
  """An oper_expression -> the operator ids of each combination, leftmost
  first ('(1,2)(3)' -> [['1', '3'], ['2', '3']]).

  Raises:
    MmcifError: an empty or malformed expression.
  """
  expression = expression.strip()
  groups = _GROUP.findall(expression)
  if groups:
    if _GROUP.sub('', expression).strip():
      raise mmcif_lib.MmcifError(f'{source}: malformed operator expression '
                                 f'{expression!r}.')
  else:
    if not expression or expression in ('?', '.') or '(' in expression:
      raise mmcif_lib.MmcifError(f'{source}: malformed operator expression '
                                 f'{expression!r}.')
    groups = [expression]
  lists = [_expand_list(g, source) for g in groups]
  return [list(combination) for combination in itertools.product(*lists)]


def _compose(ids: Sequence[str], operators: Mapping[str, np.ndarray],
             source: str) -> np.ndarray:
  matrix = np.eye(4)
  for op_id in ids:
    if op_id not in operators:
      raise mmcif_lib.MmcifError(f'{source}: operator {op_id!r} is not in '
                                 '_pdbx_struct_oper_list.')
    matrix = matrix @ operators[op_id]
  return matrix


def first_assembly(entry: mmcif_lib.MmcifObject) -> List[AssemblyChain]:
  """The protein chains of the entry's first biological assembly (the first
  _pdbx_struct_assembly id), in operator-then-chain order of the
  assembly_gen rows; the deposited protein chains (identity operator, chain
  id order) when the entry gives no assembly.

  Raises:
    MmcifError: a malformed assembly (unknown operator, bad matrix).
  """
  info = entry.assembly_info
  source = entry.file_id
  gen_ids = _values(info, _GEN + 'assembly_id')
  if not gen_ids or all(g in ('?', '.') for g in gen_ids):
    return [AssemblyChain(chain_id, IDENTITY, np.eye(3), np.zeros(3))
            for chain_id in sorted(entry.chain_to_seqres)]
  assembly_ids = _values(info, '_pdbx_struct_assembly.id') or gen_ids
  first = assembly_ids[0]
  expressions = _values(info, _GEN + 'oper_expression')
  asym_lists = _values(info, _GEN + 'asym_id_list')
  if not len(gen_ids) == len(expressions) == len(asym_lists):
    raise mmcif_lib.MmcifError(f'{source}: _pdbx_struct_assembly_gen columns '
                               'of differing lengths.')
  operators = _operators(info, source)
  chains = []
  for gen_id, expression, asym_list in zip(gen_ids, expressions, asym_lists):
    if gen_id != first:
      continue
    labels = [a.strip() for a in asym_list.split(',') if a.strip()]
    for ids in parse_operator_expression(expression, source):
      matrix = _compose(ids, operators, source)
      for label in labels:
        auth = entry.label_to_auth.get(label)
        if auth is None or auth not in entry.chain_to_seqres:
          continue  # not a protein chain with coordinates
        chains.append(AssemblyChain(auth, 'x'.join(ids), matrix[:3, :3],
                                    matrix[:3, 3]))
  return chains


def chain_names(chains: Sequence[AssemblyChain]) -> List[str]:
  """A unique name per assembly chain: the author chain id where the chain
  occurs once, '<chain>-<operator>' for its copies."""
  counts: Dict[str, int] = {}
  for chain in chains:
    counts[chain.auth_chain_id] = counts.get(chain.auth_chain_id, 0) + 1
  names = [c.auth_chain_id if counts[c.auth_chain_id] == 1
           else f'{c.auth_chain_id}-{c.operator}' for c in chains]
  if len(set(names)) != len(names):
    raise mmcif_lib.MmcifError('an assembly repeats a chain under one '
                               f'operator: {names}.')
  return names
