"""Cuts the demo complex out of a deposited entry: one contiguous, fully
numbered window of residues from each of two chains, written as a PDB file.

The bundled entries hold no two-chain complex of about 100 residues (1BD2
and 3PWP are five-chain MHC-TCR complexes, 2RBG a 2 x 123-residue dimer,
1YJP and 7ETN peptides), so the demo and benchmarks/overfit.py's complex
target is a real interface cut to that size: 3PWP's T-cell receptor
constant domains, chain D residues 122-171 and chain E 128-177 (the 50 +
50-residue windows with the most heavy-atom contacts below 5 Å, 58, among
the windows without a numbering gap). The file in demo/ was made with

  python demo/make_complex.py --mmcif ../shared/data/mmcif/3PWP.cif.gz \
      --window D:122-171 --window E:128-177 --output demo/3pwp_DE.pdb

Each window must be complete: a residue missing from the model, an
insertion code or a hetero residue inside it is an error, not a silent gap.
"""
import argparse
import gzip
import io
import pathlib
import re
import sys

from Bio.PDB import MMCIFParser
from Bio.PDB import PDBIO
from Bio.PDB import Select


def parse_window(text: str):
  """'D:122-171' -> ('D', 122, 171)."""
  match = re.fullmatch(r'(\w+):(-?\d+)-(-?\d+)', text)
  if not match or int(match.group(2)) > int(match.group(3)):
    raise argparse.ArgumentTypeError(
        f'{text!r}: expected CHAIN:FIRST-LAST, e.g. D:122-171')
  return match.group(1), int(match.group(2)), int(match.group(3))


def window_residues(model, chain: str, first: int, last: int, path: str):
  """The residues first..last of the chain, each present, in order.

  Raises:
    ValueError: the chain or a residue of the window is missing, or the
      window holds an insertion code or a hetero residue.
  """
  if chain not in model:
    raise ValueError(f'{path}: no chain {chain} in the first model.')
  by_number = {}
  for residue in model[chain]:
    hetero, number, insertion = residue.id
    if first <= number <= last:
      if hetero.strip() or insertion.strip():
        raise ValueError(f'{path}: chain {chain} residue {number} is '
                         f'{residue.get_resname()} with id {residue.id}: '
                         'the window must hold standard residues only.')
      by_number[number] = residue
  missing = [n for n in range(first, last + 1)
             if n not in by_number or 'CA' not in by_number[n]]
  if missing:
    raise ValueError(f'{path}: chain {chain} lacks residues (or their Cα) '
                     f'{missing[:10]} of the window {first}-{last}.')
  return [by_number[n] for n in range(first, last + 1)]


def main(argv=None):
  parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
  parser.add_argument('--mmcif', required=True, help='mmCIF file (or .gz).')
  parser.add_argument('--window', type=parse_window, action='append',
                      required=True, help='CHAIN:FIRST-LAST (author '
                      'numbering); once per chain.')
  parser.add_argument('--output', required=True, help='PDB file written.')
  args = parser.parse_args(argv)
  path = pathlib.Path(args.mmcif)
  opener = gzip.open if path.suffix == '.gz' else open
  with opener(path, 'rt') as f:
    structure = MMCIFParser(QUIET=True).get_structure(
        path.name.split('.')[0], io.StringIO(f.read()))
  model = next(iter(structure))
  keep = set()
  for chain, first, last in args.window:
    keep.update(id(r) for r in window_residues(model, chain, first, last,
                                               str(path)))

  class Window(Select):

    def accept_model(self, candidate):
      return candidate is model

    def accept_residue(self, residue):
      return id(residue) in keep

    def accept_atom(self, atom):
      # Heavy atoms, the first of alternative locations.
      return atom.element != 'H' and (not atom.is_disordered() or
                                      atom.get_altloc() in ('A', ' '))

  writer = PDBIO()
  writer.set_structure(structure)
  writer.save(args.output, Window())
  print(f'{args.output}: ' + ', '.join(
      f'chain {c} {a}-{b}' for c, a, b in args.window), file=sys.stderr)


if __name__ == '__main__':
  main()
