"""Small real databases for runs of complexes: UniRef90-, MGnify- and
UniProt-like FASTA files, a pdb_seqres.txt and template mmCIF files.

The homologues of two chains (chain A of the golden multimer case, and the
golden monomer 2RBG's alignment rows) hide among the 39 unrelated PDB chains
of tests/data/testdata/pdb_chains.fasta; UniProt entries carry species
names so that the chains' rows pair. The complex's first chain is a BPTI
variant whose template, 5PTI, is in the seqres file.
"""
import pathlib

import numpy as np

from alphafold_jax.common import residue_constants
from alphafold_jax.data import mmcif as mmcif_lib
from alphafold_jax.data import parsers

ROOT = pathlib.Path(__file__).resolve().parents[2]
TESTDATA = ROOT / 'tests' / 'data' / 'testdata'
MMCIF_DIR = TESTDATA / 'mmcif'
GOLDEN = ROOT / 'tests' / 'fixtures' / 'golden'
SPECIES = ('HUMAN', 'MOUSE', 'YEAST', 'ECOLI', 'RAT', 'BOVIN', 'DROME')


def chain_sequences():
  """(BPTI variant, golden multimer chain A) sequences."""
  seqres = mmcif_lib.read(str(MMCIF_DIR / '5PTI.cif.gz')).chain_to_seqres['A']
  bpti = seqres[:10] + 'A' + seqres[11:30] + 'S' + seqres[31:]
  with np.load(GOLDEN / 'multimer_small' / 'chain_A.npz',
               allow_pickle=True) as data:
    query = data['msa_all_seq'][0]
  return bpti, ''.join(residue_constants.ID_TO_HHBLITS_AA[i] for i in query)


def write_databases(folder: pathlib.Path) -> dict:
  """Writes the databases into `folder`; returns run_alphafold.py's
  database flags {flag name: path}."""
  with np.load(GOLDEN / 'multimer_small' / 'chain_A.npz',
               allow_pickle=True) as data:
    rows_a = [''.join(residue_constants.ID_TO_HHBLITS_AA[i] for i in row)
              for row in data['msa_all_seq']]
  rows_b, _ = parsers.parse_fasta((GOLDEN / 'small' / 'msa.a3m').read_text())
  homologues = [r.replace('-', '').upper() for rows in (rows_a, rows_b)
                for r in rows[1:]]
  decoys = (TESTDATA / 'pdb_chains.fasta').read_text()
  uniref = decoys + ''.join(f'>UniRef90_H{i}\n{r}\n'
                            for i, r in enumerate(homologues))
  uniprot = decoys + ''.join(
      f'>tr|Q{i:05d}|Q{i:05d}_{SPECIES[i % len(SPECIES)]} protein\n{r}\n'
      for i, r in enumerate(homologues))
  seqres = mmcif_lib.read(str(MMCIF_DIR / '5PTI.cif.gz')).chain_to_seqres['A']
  folder.mkdir(parents=True, exist_ok=True)
  (folder / 'uniref90.fasta').write_text(uniref)
  (folder / 'uniprot.fasta').write_text(uniprot)
  (folder / 'pdb_seqres.txt').write_text(
      f'>5pti_A mol:protein length:{len(seqres)}  BPTI\n{seqres}\n' + decoys)
  return {
      'uniref90_database_path': str(folder / 'uniref90.fasta'),
      'mgnify_database_path': str(folder / 'uniref90.fasta'),
      'small_bfd_database_path': str(folder / 'uniref90.fasta'),
      'uniprot_database_path': str(folder / 'uniprot.fasta'),
      'pdb_seqres_database_path': str(folder / 'pdb_seqres.txt'),
      'template_mmcif_dir': str(MMCIF_DIR),
  }
