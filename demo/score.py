"""Prints the lDDT-Cα and TM-score of a predicted structure against the
experimental one, or for a complex (two or more chains) its lDDT-Cα,
interface lDDT-Cα and DockQ (the scoring steps of `make demo`).

  python demo/score.py --predicted=demo_out/output/2rbg_A/ranked_0.pdb \
      --experimental=demo/2rbg_A.pdb
"""
from absl import app
from absl import flags

from alphafold_jax.common import protein
from alphafold_jax.inference import metrics

_PREDICTED = flags.DEFINE_list('predicted', None,
                               'Predicted PDB files to score.')
_EXPERIMENTAL = flags.DEFINE_string('experimental', None,
                                    'The experimental PDB file.')


def _read(path):
  with open(path) as f:
    return protein.from_pdb_string(f.read(), source=path)


def main(argv):
  del argv
  experimental = _read(_EXPERIMENTAL.value)
  for path in _PREDICTED.value:
    if len(set(experimental.chain_index.tolist())) > 1:
      scores = metrics.compare_complexes(_read(path), experimental)
      print(f'{path}: lDDT-Ca {100 * scores["lddt_ca"]:.1f}  interface '
            f'lDDT-Ca {100 * scores["interface_lddt"]:.1f}  DockQ '
            f'{scores["dockq"]:.3f}  ({scores["num_chains"]} chains, '
            f'{scores["num_residues"]} residues vs {_EXPERIMENTAL.value})')
      continue
    scores = metrics.compare_structures(_read(path), experimental)
    print(f'{path}: lDDT-Ca {100 * scores["lddt_ca"]:.1f}  TM-score '
          f'{scores["tm_score"]:.3f}  ({scores["num_residues"]} residues vs '
          f'{_EXPERIMENTAL.value})')


if __name__ == '__main__':
  flags.mark_flags_as_required(['predicted', 'experimental'])
  app.run(main)
