"""Chemistry of the 20 amino acids: the tables every part of AlphaFold2 shares.

Names and numbers follow the reference implementation, since users of
AlphaFold expect them: residue and atom orders (atom37 and the per-residue
atom14 layout), chi-angle definitions, the rigid groups of Suppl. Table 2
with the idealised literature atom positions of Suppl. section 1.8.1 (Engh &
Huber), the default frames of Suppl. Alg. 24, and the bond-length/angle
statistics used by the structural violation loss (Suppl. section 1.9.11).

Rigid groups (Suppl. Table 2), index in the 8-group axis:
  0 backbone, 1 pre-omega, 2 phi, 3 psi, 4..7 chi1..chi4.
"""
import collections
import functools
import importlib.resources
from typing import Dict, List, Mapping, Tuple

import numpy as np

# Distance between consecutive C-alpha atoms of a trans peptide (Å).
ca_ca = 3.80209737096

# Atoms of each chi angle; the angle rotates the group of the 4th atom about
# the bond between the 2nd and 3rd.
chi_angles_atoms = {
    'ALA': [],
    'ARG': [['N', 'CA', 'CB', 'CG'], ['CA', 'CB', 'CG', 'CD'],
            ['CB', 'CG', 'CD', 'NE'], ['CG', 'CD', 'NE', 'CZ']],
    'ASN': [['N', 'CA', 'CB', 'CG'], ['CA', 'CB', 'CG', 'OD1']],
    'ASP': [['N', 'CA', 'CB', 'CG'], ['CA', 'CB', 'CG', 'OD1']],
    'CYS': [['N', 'CA', 'CB', 'SG']],
    'GLN': [['N', 'CA', 'CB', 'CG'], ['CA', 'CB', 'CG', 'CD'],
            ['CB', 'CG', 'CD', 'OE1']],
    'GLU': [['N', 'CA', 'CB', 'CG'], ['CA', 'CB', 'CG', 'CD'],
            ['CB', 'CG', 'CD', 'OE1']],
    'GLY': [],
    'HIS': [['N', 'CA', 'CB', 'CG'], ['CA', 'CB', 'CG', 'ND1']],
    'ILE': [['N', 'CA', 'CB', 'CG1'], ['CA', 'CB', 'CG1', 'CD1']],
    'LEU': [['N', 'CA', 'CB', 'CG'], ['CA', 'CB', 'CG', 'CD1']],
    'LYS': [['N', 'CA', 'CB', 'CG'], ['CA', 'CB', 'CG', 'CD'],
            ['CB', 'CG', 'CD', 'CE'], ['CG', 'CD', 'CE', 'NZ']],
    'MET': [['N', 'CA', 'CB', 'CG'], ['CA', 'CB', 'CG', 'SD'],
            ['CB', 'CG', 'SD', 'CE']],
    'PHE': [['N', 'CA', 'CB', 'CG'], ['CA', 'CB', 'CG', 'CD1']],
    'PRO': [['N', 'CA', 'CB', 'CG'], ['CA', 'CB', 'CG', 'CD']],
    'SER': [['N', 'CA', 'CB', 'OG']],
    'THR': [['N', 'CA', 'CB', 'OG1']],
    'TRP': [['N', 'CA', 'CB', 'CG'], ['CA', 'CB', 'CG', 'CD1']],
    'TYR': [['N', 'CA', 'CB', 'CG'], ['CA', 'CB', 'CG', 'CD1']],
    'VAL': [['N', 'CA', 'CB', 'CG1']],
}

# Which chi angles each residue has, in `restypes` order (20 rows, no UNK).
chi_angles_mask = [
    [0.0, 0.0, 0.0, 0.0],  # ALA
    [1.0, 1.0, 1.0, 1.0],  # ARG
    [1.0, 1.0, 0.0, 0.0],  # ASN
    [1.0, 1.0, 0.0, 0.0],  # ASP
    [1.0, 0.0, 0.0, 0.0],  # CYS
    [1.0, 1.0, 1.0, 0.0],  # GLN
    [1.0, 1.0, 1.0, 0.0],  # GLU
    [0.0, 0.0, 0.0, 0.0],  # GLY
    [1.0, 1.0, 0.0, 0.0],  # HIS
    [1.0, 1.0, 0.0, 0.0],  # ILE
    [1.0, 1.0, 0.0, 0.0],  # LEU
    [1.0, 1.0, 1.0, 1.0],  # LYS
    [1.0, 1.0, 1.0, 0.0],  # MET
    [1.0, 1.0, 0.0, 0.0],  # PHE
    [1.0, 1.0, 0.0, 0.0],  # PRO
    [1.0, 0.0, 0.0, 0.0],  # SER
    [1.0, 0.0, 0.0, 0.0],  # THR
    [1.0, 1.0, 0.0, 0.0],  # TRP
    [1.0, 1.0, 0.0, 0.0],  # TYR
    [1.0, 0.0, 0.0, 0.0],  # VAL
]

# Chi angles whose last group is symmetric under a rotation by pi, so that
# chi and chi + pi describe the same structure (Suppl. section 1.9.1).
# 21 rows: the 20 residues and UNK.
chi_pi_periodic = [
    [0.0, 0.0, 0.0, 0.0],  # ALA
    [0.0, 0.0, 0.0, 0.0],  # ARG
    [0.0, 0.0, 0.0, 0.0],  # ASN
    [0.0, 1.0, 0.0, 0.0],  # ASP
    [0.0, 0.0, 0.0, 0.0],  # CYS
    [0.0, 0.0, 0.0, 0.0],  # GLN
    [0.0, 0.0, 1.0, 0.0],  # GLU
    [0.0, 0.0, 0.0, 0.0],  # GLY
    [0.0, 0.0, 0.0, 0.0],  # HIS
    [0.0, 0.0, 0.0, 0.0],  # ILE
    [0.0, 0.0, 0.0, 0.0],  # LEU
    [0.0, 0.0, 0.0, 0.0],  # LYS
    [0.0, 0.0, 0.0, 0.0],  # MET
    [0.0, 1.0, 0.0, 0.0],  # PHE
    [0.0, 0.0, 0.0, 0.0],  # PRO
    [0.0, 0.0, 0.0, 0.0],  # SER
    [0.0, 0.0, 0.0, 0.0],  # THR
    [0.0, 0.0, 0.0, 0.0],  # TRP
    [0.0, 1.0, 0.0, 0.0],  # TYR
    [0.0, 0.0, 0.0, 0.0],  # VAL
    [0.0, 0.0, 0.0, 0.0],  # UNK
]

# Idealised atom positions (Å) in the frame of their rigid group:
# [atom name, rigid group index, (x, y, z)]. The backbone group puts CA at the
# origin, C on +x and N in the xy-plane; a chi group puts its axis end atom at
# the origin with the axis along -x (Suppl. section 1.8.1, Engh & Huber 2012).
rigid_group_atom_positions = {
    'ALA': [
        ['N', 0, (-0.525, 1.363, 0.000)],
        ['CA', 0, (0.000, 0.000, 0.000)],
        ['C', 0, (1.526, -0.000, -0.000)],
        ['CB', 0, (-0.529, -0.774, -1.205)],
        ['O', 3, (0.627, 1.062, 0.000)],
    ],
    'ARG': [
        ['N', 0, (-0.524, 1.362, -0.000)],
        ['CA', 0, (0.000, 0.000, 0.000)],
        ['C', 0, (1.525, -0.000, -0.000)],
        ['CB', 0, (-0.524, -0.778, -1.209)],
        ['O', 3, (0.626, 1.062, 0.000)],
        ['CG', 4, (0.616, 1.390, -0.000)],
        ['CD', 5, (0.564, 1.414, 0.000)],
        ['NE', 6, (0.539, 1.357, -0.000)],
        ['NH1', 7, (0.206, 2.301, 0.000)],
        ['NH2', 7, (2.078, 0.978, -0.000)],
        ['CZ', 7, (0.758, 1.093, -0.000)],
    ],
    'ASN': [
        ['N', 0, (-0.536, 1.357, 0.000)],
        ['CA', 0, (0.000, 0.000, 0.000)],
        ['C', 0, (1.526, -0.000, -0.000)],
        ['CB', 0, (-0.531, -0.787, -1.200)],
        ['O', 3, (0.625, 1.062, 0.000)],
        ['CG', 4, (0.584, 1.399, 0.000)],
        ['ND2', 5, (0.593, -1.188, 0.001)],
        ['OD1', 5, (0.633, 1.059, 0.000)],
    ],
    'ASP': [
        ['N', 0, (-0.525, 1.362, -0.000)],
        ['CA', 0, (0.000, 0.000, 0.000)],
        ['C', 0, (1.527, 0.000, -0.000)],
        ['CB', 0, (-0.526, -0.778, -1.208)],
        ['O', 3, (0.626, 1.062, -0.000)],
        ['CG', 4, (0.593, 1.398, -0.000)],
        ['OD1', 5, (0.610, 1.091, 0.000)],
        ['OD2', 5, (0.592, -1.101, -0.003)],
    ],
    'CYS': [
        ['N', 0, (-0.522, 1.362, -0.000)],
        ['CA', 0, (0.000, 0.000, 0.000)],
        ['C', 0, (1.524, 0.000, 0.000)],
        ['CB', 0, (-0.519, -0.773, -1.212)],
        ['O', 3, (0.625, 1.062, -0.000)],
        ['SG', 4, (0.728, 1.653, 0.000)],
    ],
    'GLN': [
        ['N', 0, (-0.526, 1.361, -0.000)],
        ['CA', 0, (0.000, 0.000, 0.000)],
        ['C', 0, (1.526, 0.000, 0.000)],
        ['CB', 0, (-0.525, -0.779, -1.207)],
        ['O', 3, (0.626, 1.062, -0.000)],
        ['CG', 4, (0.615, 1.393, 0.000)],
        ['CD', 5, (0.587, 1.399, -0.000)],
        ['NE2', 6, (0.593, -1.189, -0.001)],
        ['OE1', 6, (0.634, 1.060, 0.000)],
    ],
    'GLU': [
        ['N', 0, (-0.528, 1.361, 0.000)],
        ['CA', 0, (0.000, 0.000, 0.000)],
        ['C', 0, (1.526, -0.000, -0.000)],
        ['CB', 0, (-0.526, -0.781, -1.207)],
        ['O', 3, (0.626, 1.062, 0.000)],
        ['CG', 4, (0.615, 1.392, 0.000)],
        ['CD', 5, (0.600, 1.397, 0.000)],
        ['OE1', 6, (0.607, 1.095, -0.000)],
        ['OE2', 6, (0.589, -1.104, -0.001)],
    ],
    'GLY': [
        ['N', 0, (-0.572, 1.337, 0.000)],
        ['CA', 0, (0.000, 0.000, 0.000)],
        ['C', 0, (1.517, -0.000, -0.000)],
        ['O', 3, (0.626, 1.062, -0.000)],
    ],
    'HIS': [
        ['N', 0, (-0.527, 1.360, 0.000)],
        ['CA', 0, (0.000, 0.000, 0.000)],
        ['C', 0, (1.525, 0.000, 0.000)],
        ['CB', 0, (-0.525, -0.778, -1.208)],
        ['O', 3, (0.625, 1.063, 0.000)],
        ['CG', 4, (0.600, 1.370, -0.000)],
        ['CD2', 5, (0.889, -1.021, 0.003)],
        ['ND1', 5, (0.744, 1.160, -0.000)],
        ['CE1', 5, (2.030, 0.851, 0.002)],
        ['NE2', 5, (2.145, -0.466, 0.004)],
    ],
    'ILE': [
        ['N', 0, (-0.493, 1.373, -0.000)],
        ['CA', 0, (0.000, 0.000, 0.000)],
        ['C', 0, (1.527, -0.000, -0.000)],
        ['CB', 0, (-0.536, -0.793, -1.213)],
        ['O', 3, (0.627, 1.062, -0.000)],
        ['CG1', 4, (0.534, 1.437, -0.000)],
        ['CG2', 4, (0.540, -0.785, -1.199)],
        ['CD1', 5, (0.619, 1.391, 0.000)],
    ],
    'LEU': [
        ['N', 0, (-0.520, 1.363, 0.000)],
        ['CA', 0, (0.000, 0.000, 0.000)],
        ['C', 0, (1.525, -0.000, -0.000)],
        ['CB', 0, (-0.522, -0.773, -1.214)],
        ['O', 3, (0.625, 1.063, -0.000)],
        ['CG', 4, (0.678, 1.371, 0.000)],
        ['CD1', 5, (0.530, 1.430, -0.000)],
        ['CD2', 5, (0.535, -0.774, 1.200)],
    ],
    'LYS': [
        ['N', 0, (-0.526, 1.362, -0.000)],
        ['CA', 0, (0.000, 0.000, 0.000)],
        ['C', 0, (1.526, 0.000, 0.000)],
        ['CB', 0, (-0.524, -0.778, -1.208)],
        ['O', 3, (0.626, 1.062, -0.000)],
        ['CG', 4, (0.619, 1.390, 0.000)],
        ['CD', 5, (0.559, 1.417, 0.000)],
        ['CE', 6, (0.560, 1.416, 0.000)],
        ['NZ', 7, (0.554, 1.387, 0.000)],
    ],
    'MET': [
        ['N', 0, (-0.521, 1.364, -0.000)],
        ['CA', 0, (0.000, 0.000, 0.000)],
        ['C', 0, (1.525, 0.000, 0.000)],
        ['CB', 0, (-0.523, -0.776, -1.210)],
        ['O', 3, (0.625, 1.062, -0.000)],
        ['CG', 4, (0.613, 1.391, -0.000)],
        ['SD', 5, (0.703, 1.695, 0.000)],
        ['CE', 6, (0.320, 1.786, -0.000)],
    ],
    'PHE': [
        ['N', 0, (-0.518, 1.363, 0.000)],
        ['CA', 0, (0.000, 0.000, 0.000)],
        ['C', 0, (1.524, 0.000, -0.000)],
        ['CB', 0, (-0.525, -0.776, -1.212)],
        ['O', 3, (0.626, 1.062, -0.000)],
        ['CG', 4, (0.607, 1.377, 0.000)],
        ['CD1', 5, (0.709, 1.195, -0.000)],
        ['CD2', 5, (0.706, -1.196, 0.000)],
        ['CE1', 5, (2.102, 1.198, -0.000)],
        ['CE2', 5, (2.098, -1.201, -0.000)],
        ['CZ', 5, (2.794, -0.003, -0.001)],
    ],
    'PRO': [
        ['N', 0, (-0.566, 1.351, -0.000)],
        ['CA', 0, (0.000, 0.000, 0.000)],
        ['C', 0, (1.527, -0.000, 0.000)],
        ['CB', 0, (-0.546, -0.611, -1.293)],
        ['O', 3, (0.621, 1.066, 0.000)],
        ['CG', 4, (0.382, 1.445, 0.0)],
        # The CB-CG-CD angle is opened by 2 degrees from the literature value
        # (0.427, 1.440) so that the idealised ring closes onto N.
        ['CD', 5, (0.477, 1.424, 0.0)],
    ],
    'SER': [
        ['N', 0, (-0.529, 1.360, -0.000)],
        ['CA', 0, (0.000, 0.000, 0.000)],
        ['C', 0, (1.525, -0.000, -0.000)],
        ['CB', 0, (-0.518, -0.777, -1.211)],
        ['O', 3, (0.626, 1.062, -0.000)],
        ['OG', 4, (0.503, 1.325, 0.000)],
    ],
    'THR': [
        ['N', 0, (-0.517, 1.364, 0.000)],
        ['CA', 0, (0.000, 0.000, 0.000)],
        ['C', 0, (1.526, 0.000, -0.000)],
        ['CB', 0, (-0.516, -0.793, -1.215)],
        ['O', 3, (0.626, 1.062, 0.000)],
        ['CG2', 4, (0.550, -0.718, -1.228)],
        ['OG1', 4, (0.472, 1.353, 0.000)],
    ],
    'TRP': [
        ['N', 0, (-0.521, 1.363, 0.000)],
        ['CA', 0, (0.000, 0.000, 0.000)],
        ['C', 0, (1.525, -0.000, 0.000)],
        ['CB', 0, (-0.523, -0.776, -1.212)],
        ['O', 3, (0.627, 1.062, 0.000)],
        ['CG', 4, (0.609, 1.370, -0.000)],
        ['CD1', 5, (0.824, 1.091, 0.000)],
        ['CD2', 5, (0.854, -1.148, -0.005)],
        ['CE2', 5, (2.186, -0.678, -0.007)],
        ['CE3', 5, (0.622, -2.530, -0.007)],
        ['NE1', 5, (2.140, 0.690, -0.004)],
        ['CH2', 5, (3.028, -2.890, -0.013)],
        ['CZ2', 5, (3.283, -1.543, -0.011)],
        ['CZ3', 5, (1.715, -3.389, -0.011)],
    ],
    'TYR': [
        ['N', 0, (-0.522, 1.362, 0.000)],
        ['CA', 0, (0.000, 0.000, 0.000)],
        ['C', 0, (1.524, -0.000, -0.000)],
        ['CB', 0, (-0.522, -0.776, -1.213)],
        ['O', 3, (0.627, 1.062, -0.000)],
        ['CG', 4, (0.607, 1.382, -0.000)],
        ['CD1', 5, (0.716, 1.195, -0.000)],
        ['CD2', 5, (0.713, -1.194, -0.001)],
        ['CE1', 5, (2.107, 1.200, -0.002)],
        ['CE2', 5, (2.104, -1.201, -0.003)],
        ['OH', 5, (4.168, -0.002, -0.005)],
        ['CZ', 5, (2.791, -0.001, -0.003)],
    ],
    'VAL': [
        ['N', 0, (-0.494, 1.373, -0.000)],
        ['CA', 0, (0.000, 0.000, 0.000)],
        ['C', 0, (1.527, -0.000, -0.000)],
        ['CB', 0, (-0.533, -0.795, -1.213)],
        ['O', 3, (0.627, 1.062, -0.000)],
        ['CG1', 4, (0.540, 1.429, -0.000)],
        ['CG2', 4, (0.533, -0.776, 1.203)],
    ],
}

# Atom names of each residue in its compact atom14 layout ('' = no atom).
restype_name_to_atom14_names = {
    'ALA': ['N', 'CA', 'C', 'O', 'CB', '', '', '', '', '', '', '', '', ''],
    'ARG': ['N', 'CA', 'C', 'O', 'CB', 'CG', 'CD', 'NE', 'CZ', 'NH1', 'NH2',
            '', '', ''],
    'ASN': ['N', 'CA', 'C', 'O', 'CB', 'CG', 'OD1', 'ND2', '', '', '', '', '',
            ''],
    'ASP': ['N', 'CA', 'C', 'O', 'CB', 'CG', 'OD1', 'OD2', '', '', '', '', '',
            ''],
    'CYS': ['N', 'CA', 'C', 'O', 'CB', 'SG', '', '', '', '', '', '', '', ''],
    'GLN': ['N', 'CA', 'C', 'O', 'CB', 'CG', 'CD', 'OE1', 'NE2', '', '', '', '',
            ''],
    'GLU': ['N', 'CA', 'C', 'O', 'CB', 'CG', 'CD', 'OE1', 'OE2', '', '', '', '',
            ''],
    'GLY': ['N', 'CA', 'C', 'O', '', '', '', '', '', '', '', '', '', ''],
    'HIS': ['N', 'CA', 'C', 'O', 'CB', 'CG', 'ND1', 'CD2', 'CE1', 'NE2', '', '',
            '', ''],
    'ILE': ['N', 'CA', 'C', 'O', 'CB', 'CG1', 'CG2', 'CD1', '', '', '', '', '',
            ''],
    'LEU': ['N', 'CA', 'C', 'O', 'CB', 'CG', 'CD1', 'CD2', '', '', '', '', '',
            ''],
    'LYS': ['N', 'CA', 'C', 'O', 'CB', 'CG', 'CD', 'CE', 'NZ', '', '', '', '',
            ''],
    'MET': ['N', 'CA', 'C', 'O', 'CB', 'CG', 'SD', 'CE', '', '', '', '', '',
            ''],
    'PHE': ['N', 'CA', 'C', 'O', 'CB', 'CG', 'CD1', 'CD2', 'CE1', 'CE2', 'CZ',
            '', '', ''],
    'PRO': ['N', 'CA', 'C', 'O', 'CB', 'CG', 'CD', '', '', '', '', '', '', ''],
    'SER': ['N', 'CA', 'C', 'O', 'CB', 'OG', '', '', '', '', '', '', '', ''],
    'THR': ['N', 'CA', 'C', 'O', 'CB', 'OG1', 'CG2', '', '', '', '', '', '',
            ''],
    'TRP': ['N', 'CA', 'C', 'O', 'CB', 'CG', 'CD1', 'CD2', 'NE1', 'CE2', 'CE3',
            'CZ2', 'CZ3', 'CH2'],
    'TYR': ['N', 'CA', 'C', 'O', 'CB', 'CG', 'CD1', 'CD2', 'CE1', 'CE2', 'CZ',
            'OH', '', ''],
    'VAL': ['N', 'CA', 'C', 'O', 'CB', 'CG1', 'CG2', '', '', '', '', '', '',
            ''],
    'UNK': ['', '', '', '', '', '', '', '', '', '', '', '', '', ''],
}
atom14_type_num = 14

# The heavy atoms of each residue (the non-empty atom14 names).
residue_atoms = {
    name: [a for a in atoms if a]
    for name, atoms in restype_name_to_atom14_names.items() if name != 'UNK'}

# Atom pairs whose names swap under the pi-symmetry of the last chi group.
residue_atom_renaming_swaps = {
    'ASP': {'OD1': 'OD2'},
    'GLU': {'OE1': 'OE2'},
    'PHE': {'CD1': 'CD2', 'CE1': 'CE2'},
    'TYR': {'CD1': 'CD2', 'CE1': 'CE2'},
}

# Van der Waals radii (Å) by element, for the clash loss.
van_der_waals_radius = {
    'C': 1.7,
    'N': 1.55,
    'O': 1.52,
    'S': 1.8,
}

# Peptide-bond statistics [non-proline, proline] (Engh & Huber), used by the
# between-residue violation loss (Suppl. section 1.9.11).
between_res_bond_length_c_n = [1.329, 1.341]
between_res_bond_length_stddev_c_n = [0.014, 0.016]
between_res_cos_angles_c_n_ca = [-0.5203, 0.0353]  # 121.352 +- 2.315 degrees
between_res_cos_angles_ca_c_n = [-0.4473, 0.0311]  # 116.568 +- 1.995 degrees

# The 37 heavy-atom types of the atom37 layout.
atom_types = [
    'N', 'CA', 'C', 'CB', 'O', 'CG', 'CG1', 'CG2', 'OG', 'OG1', 'SG', 'CD',
    'CD1', 'CD2', 'ND1', 'ND2', 'OD1', 'OD2', 'SD', 'CE', 'CE1', 'CE2', 'CE3',
    'NE', 'NE1', 'NE2', 'OE1', 'OE2', 'CH2', 'NH1', 'NH2', 'OH', 'CZ', 'CZ2',
    'CZ3', 'NZ', 'OXT'
]
atom_order = {atom_type: i for i, atom_type in enumerate(atom_types)}
atom_type_num = len(atom_types)  # 37

# The 20 amino acids in AlphaFold order (alphabetical by 3-letter code).
restypes = [
    'A', 'R', 'N', 'D', 'C', 'Q', 'E', 'G', 'H', 'I', 'L', 'K', 'M', 'F', 'P',
    'S', 'T', 'W', 'Y', 'V'
]
restype_order = {restype: i for i, restype in enumerate(restypes)}
restype_num = len(restypes)  # 20
unk_restype_index = restype_num  # 'X' and every unknown residue.
restypes_with_x = restypes + ['X']
restype_order_with_x = {restype: i for i, restype in enumerate(restypes_with_x)}

restype_1to3 = {
    'A': 'ALA', 'R': 'ARG', 'N': 'ASN', 'D': 'ASP', 'C': 'CYS', 'Q': 'GLN',
    'E': 'GLU', 'G': 'GLY', 'H': 'HIS', 'I': 'ILE', 'L': 'LEU', 'K': 'LYS',
    'M': 'MET', 'F': 'PHE', 'P': 'PRO', 'S': 'SER', 'T': 'THR', 'W': 'TRP',
    'Y': 'TYR', 'V': 'VAL',
}
restype_3to1 = {v: k for k, v in restype_1to3.items()}
unk_restype = 'UNK'
resnames = [restype_1to3[r] for r in restypes] + [unk_restype]
resname_to_idx = {resname: i for i, resname in enumerate(resnames)}
restype_num_with_x = len(restypes_with_x)  # 21

# HHblits alphabet (alphabetical one-letter codes, then X and gap). The
# ambiguity codes B, Z, J, U and O are folded onto a single residue or X.
HHBLITS_AA_TO_ID = {
    'A': 0, 'B': 2, 'C': 1, 'D': 2, 'E': 3, 'F': 4, 'G': 5, 'H': 6, 'I': 7,
    'J': 20, 'K': 8, 'L': 9, 'M': 10, 'N': 11, 'O': 20, 'P': 12, 'Q': 13,
    'R': 14, 'S': 15, 'T': 16, 'U': 1, 'V': 17, 'W': 18, 'X': 20, 'Y': 19,
    'Z': 3, '-': 21,
}
ID_TO_HHBLITS_AA = {
    0: 'A', 1: 'C', 2: 'D', 3: 'E', 4: 'F', 5: 'G', 6: 'H', 7: 'I', 8: 'K',
    9: 'L', 10: 'M', 11: 'N', 12: 'P', 13: 'Q', 14: 'R', 15: 'S', 16: 'T',
    17: 'V', 18: 'W', 19: 'Y', 20: 'X', 21: '-',
}
restypes_with_x_and_gap = restypes + ['X', '-']
# MAP_HHBLITS_AATYPE_TO_OUR_AATYPE[hhblits_id] = index in restypes_with_x_and_gap.
MAP_HHBLITS_AATYPE_TO_OUR_AATYPE = tuple(
    restypes_with_x_and_gap.index(ID_TO_HHBLITS_AA[i])
    for i in range(len(restypes_with_x_and_gap)))


def sequence_to_onehot(sequence: str, mapping: Mapping[str, int],
                       map_unknown_to_x: bool = False) -> np.ndarray:
  """One-hot encoding [len(sequence), num_classes] (int32) of a sequence.

  Args:
    sequence: residue letters.
    mapping: letter -> class index; the indices must be 0..num_classes-1.
    map_unknown_to_x: encode letters missing from `mapping` as 'X' (which the
      mapping must then hold) instead of raising.
  """
  num_entries = max(mapping.values()) + 1
  if sorted(set(mapping.values())) != list(range(num_entries)):
    raise ValueError('The mapping must have values from 0 to num_unique_aas-1 '
                     f'without any gaps. Got: {sorted(mapping.values())}')
  one_hot = np.zeros((len(sequence), num_entries), dtype=np.int32)
  for position, letter in enumerate(sequence):
    if map_unknown_to_x:
      if letter.isalpha() and letter.isupper():
        index = mapping.get(letter, mapping['X'])
      else:
        raise ValueError(f'Invalid character in the sequence: {letter}')
    else:
      index = mapping[letter]
    one_hot[position, index] = 1
  return one_hot


# --- Tables derived from the definitions above. -----------------------------

num_rigid_groups = 8  # backbone, pre-omega, phi, psi, chi1..chi4


def _make_rigid_transformation_4x4(ex, ey, translation):
  """4x4 transform with x along ex and ey in the xy-plane (Gram-Schmidt)."""
  ex_normalized = ex / np.linalg.norm(ex)
  ey_normalized = ey - np.dot(ey, ex_normalized) * ex_normalized
  ey_normalized /= np.linalg.norm(ey_normalized)
  ez_normalized = np.cross(ex_normalized, ey_normalized)
  m = np.stack([ex_normalized, ey_normalized, ez_normalized, translation],
               axis=-1)
  return np.concatenate([m, np.array([[0., 0., 0., 1.]])], axis=0)


def _make_rigid_group_constants():
  """Per-restype atom->group maps, literature positions and default frames.

  The default frames map each group's frame to its parent (Suppl. Alg. 24):
  backbone and pre-omega are the identity; phi sits on N with x along CA->N;
  psi sits on C with x along CA->C; chi1 sits on its 3rd atom with x along the
  2nd->3rd bond; chi2..chi4 are relative to the previous chi frame, whose
  origin is the start of their rotation axis.
  """
  num = restype_num + 1
  atom37_to_group = np.zeros([num, atom_type_num], dtype=np.int32)
  atom37_mask = np.zeros([num, atom_type_num], dtype=np.float32)
  atom37_positions = np.zeros([num, atom_type_num, 3], dtype=np.float32)
  atom14_to_group = np.zeros([num, atom14_type_num], dtype=np.int32)
  atom14_mask = np.zeros([num, atom14_type_num], dtype=np.float32)
  atom14_positions = np.zeros([num, atom14_type_num, 3], dtype=np.float32)
  default_frame = np.zeros([num, num_rigid_groups, 4, 4], dtype=np.float32)

  for restype, letter in enumerate(restypes):
    resname = restype_1to3[letter]
    atom14_names = restype_name_to_atom14_names[resname]
    for atom_name, group_idx, position in rigid_group_atom_positions[resname]:
      atom37 = atom_order[atom_name]
      atom37_to_group[restype, atom37] = group_idx
      atom37_mask[restype, atom37] = 1
      atom37_positions[restype, atom37] = position
      atom14 = atom14_names.index(atom_name)
      atom14_to_group[restype, atom14] = group_idx
      atom14_mask[restype, atom14] = 1
      atom14_positions[restype, atom14] = position

    pos = {name: np.array(p) for name, _, p in
           rigid_group_atom_positions[resname]}
    default_frame[restype, 0] = np.eye(4)
    default_frame[restype, 1] = np.eye(4)
    default_frame[restype, 2] = _make_rigid_transformation_4x4(
        ex=pos['N'] - pos['CA'], ey=np.array([1., 0., 0.]),
        translation=pos['N'])
    default_frame[restype, 3] = _make_rigid_transformation_4x4(
        ex=pos['C'] - pos['CA'], ey=pos['CA'] - pos['N'],
        translation=pos['C'])
    if chi_angles_mask[restype][0]:
      base = [pos[name] for name in chi_angles_atoms[resname][0]]
      default_frame[restype, 4] = _make_rigid_transformation_4x4(
          ex=base[2] - base[1], ey=base[0] - base[1], translation=base[2])
    for chi_idx in range(1, 4):
      if chi_angles_mask[restype][chi_idx]:
        # In the previous chi frame the axis starts at the origin, so its end
        # atom is both the new x direction and the new origin.
        axis_end = pos[chi_angles_atoms[resname][chi_idx][2]]
        default_frame[restype, 4 + chi_idx] = _make_rigid_transformation_4x4(
            ex=axis_end, ey=np.array([-1., 0., 0.]), translation=axis_end)
  return (atom37_to_group, atom37_mask, atom37_positions, atom14_to_group,
          atom14_mask, atom14_positions, default_frame)


# [21, 37], [21, 37], [21, 37, 3], [21, 14], [21, 14], [21, 14, 3],
# [21, 8, 4, 4]; the UNK row (20) is all zeros.
(restype_atom37_to_rigid_group,
 restype_atom37_mask,
 restype_atom37_rigid_group_positions,
 restype_atom14_to_rigid_group,
 restype_atom14_mask,
 restype_atom14_rigid_group_positions,
 restype_rigid_group_default_frame) = _make_rigid_group_constants()

# [21, 37] int32: the reference's name for the atom37 existence table.
STANDARD_ATOM_MASK = restype_atom37_mask.astype(np.int32)


def _make_atom14_atom37_maps():
  """Index maps [21, 14] atom14 -> atom37 and [21, 37] atom37 -> atom14."""
  to37 = np.zeros([restype_num + 1, atom14_type_num], dtype=np.int32)
  to14 = np.zeros([restype_num + 1, atom_type_num], dtype=np.int32)
  for restype, resname in enumerate(resnames):
    for i, name in enumerate(restype_name_to_atom14_names[resname]):
      if name:
        to37[restype, i] = atom_order[name]
        to14[restype, atom_order[name]] = i
  return to37, to14


# Absent atoms map to index 0; mask with restype_atom14_mask / atom37_mask.
restype_atom14_to_atom37, restype_atom37_to_atom14 = _make_atom14_atom37_maps()


def _make_atom14_ambiguity_feats():
  """[21, 14] ambiguity mask and the atom14 index each atom swaps with."""
  ambiguous = np.zeros([restype_num + 1, atom14_type_num], dtype=np.float32)
  swap_idx = np.tile(np.arange(atom14_type_num, dtype=np.int32),
                     [restype_num + 1, 1])
  for resname, pairs in residue_atom_renaming_swaps.items():
    restype = restype_order[restype_3to1[resname]]
    names = restype_name_to_atom14_names[resname]
    for atom1, atom2 in pairs.items():
      i, j = names.index(atom1), names.index(atom2)
      ambiguous[restype, [i, j]] = 1
      swap_idx[restype, i], swap_idx[restype, j] = j, i
  return ambiguous, swap_idx


(restype_atom14_ambiguous_atoms,
 restype_atom14_ambiguous_atoms_swap_idx) = _make_atom14_ambiguity_feats()


def get_chi_atom_indices() -> np.ndarray:
  """atom37 indices [21, 4 chis, 4 atoms] of each chi angle's atoms.

  Undefined chis (and UNK) point at atom 0; mask them with chi_angles_mask.
  """
  indices = np.zeros([restype_num + 1, 4, 4], dtype=np.int32)
  for restype, letter in enumerate(restypes):
    for chi_idx, atoms in enumerate(chi_angles_atoms[restype_1to3[letter]]):
      indices[restype, chi_idx] = [atom_order[a] for a in atoms]
  return indices


chi_atom_indices = get_chi_atom_indices()


# --- Bond lengths and angles (Engh & Huber), for the violation loss. --------

Bond = collections.namedtuple(
    'Bond', ['atom1_name', 'atom2_name', 'length', 'stddev'])
BondAngle = collections.namedtuple(
    'BondAngle',
    ['atom1_name', 'atom2_name', 'atom3name', 'angle_rad', 'stddev'])


def _bond_key(atom1_name: str, atom2_name: str) -> str:
  return '-'.join(sorted([atom1_name, atom2_name]))


@functools.lru_cache(maxsize=None)
def load_stereo_chemical_props() -> Tuple[Mapping[str, List[Bond]],
                                          Mapping[str, List[Bond]],
                                          Mapping[str, List[BondAngle]]]:
  """Reads the packaged stereo_chemical_props.txt.

  Returns:
    residue_bonds: resname -> list of Bond (lengths in Å).
    residue_virtual_bonds: resname -> list of Bond between the outer atoms of
      each bond angle, its length and stddev from the law of cosines (the
      stddev propagated to first order from the bonds' and the angle's).
    residue_bond_angles: resname -> list of BondAngle (radians).
    Each maps 'UNK' to an empty list.
  """
  text = importlib.resources.files('alphafold_jax.common').joinpath(
      'stereo_chemical_props.txt').read_text()
  lines = iter(text.splitlines())

  residue_bonds: Dict[str, List[Bond]] = {}
  next(lines)  # Header.
  for line in lines:
    if line.strip() == '-':
      break
    bond, resname, length, stddev = line.split()
    atom1, atom2 = bond.split('-')
    residue_bonds.setdefault(resname, []).append(
        Bond(atom1, atom2, float(length), float(stddev)))
  residue_bonds['UNK'] = []

  residue_bond_angles: Dict[str, List[BondAngle]] = {}
  next(lines)  # Empty line.
  next(lines)  # Header.
  for line in lines:
    if line.strip() == '-':
      break
    angle, resname, angle_degree, stddev_degree = line.split()
    atom1, atom2, atom3 = angle.split('-')
    residue_bond_angles.setdefault(resname, []).append(
        BondAngle(atom1, atom2, atom3, float(angle_degree) / 180. * np.pi,
                  float(stddev_degree) / 180. * np.pi))
  residue_bond_angles['UNK'] = []

  residue_virtual_bonds: Dict[str, List[Bond]] = {}
  for resname, angles in residue_bond_angles.items():
    bonds = {_bond_key(b.atom1_name, b.atom2_name): b
             for b in residue_bonds[resname]}
    residue_virtual_bonds[resname] = []
    for ba in angles:
      bond1 = bonds[_bond_key(ba.atom1_name, ba.atom2_name)]
      bond2 = bonds[_bond_key(ba.atom2_name, ba.atom3name)]
      gamma = ba.angle_rad
      length = np.sqrt(bond1.length**2 + bond2.length**2 -
                       2 * bond1.length * bond2.length * np.cos(gamma))
      dl_outer = 0.5 / length
      dl_dgamma = (2 * bond1.length * bond2.length * np.sin(gamma)) * dl_outer
      dl_db1 = (2 * bond1.length - 2 * bond2.length * np.cos(gamma)) * dl_outer
      dl_db2 = (2 * bond2.length - 2 * bond1.length * np.cos(gamma)) * dl_outer
      stddev = np.sqrt((dl_dgamma * ba.stddev)**2 +
                       (dl_db1 * bond1.stddev)**2 +
                       (dl_db2 * bond2.stddev)**2)
      residue_virtual_bonds[resname].append(
          Bond(ba.atom1_name, ba.atom3name, length, stddev))
  return residue_bonds, residue_virtual_bonds, residue_bond_angles


def make_atom14_dists_bounds(overlap_tolerance: float = 1.5,
                             bond_length_tolerance_factor: float = 15
                             ) -> Dict[str, np.ndarray]:
  """Allowed intra-residue atom14 distances (Suppl. section 1.9.11).

  Non-bonded pairs must be at least the sum of their van der Waals radii
  minus `overlap_tolerance`; bonded pairs (and the outer atoms of a bond
  angle) must be within `bond_length_tolerance_factor` stddevs of the
  literature length.

  Returns:
    dict of float32 [21, 14, 14] arrays: lower_bound, upper_bound, stddev
    (zeros for UNK and absent atoms).
  """
  shape = [restype_num + 1, atom14_type_num, atom14_type_num]
  lower_bound = np.zeros(shape, dtype=np.float32)
  upper_bound = np.zeros(shape, dtype=np.float32)
  stddev = np.zeros(shape, dtype=np.float32)
  residue_bonds, residue_virtual_bonds, _ = load_stereo_chemical_props()
  for restype, letter in enumerate(restypes):
    resname = restype_1to3[letter]
    atom_list = restype_name_to_atom14_names[resname]
    for i, name1 in enumerate(atom_list):
      if not name1:
        continue
      for j, name2 in enumerate(atom_list):
        if not name2 or i == j:
          continue
        lower_bound[restype, i, j] = (van_der_waals_radius[name1[0]] +
                                      van_der_waals_radius[name2[0]] -
                                      overlap_tolerance)
        upper_bound[restype, i, j] = 1e10
    for bond in residue_bonds[resname] + residue_virtual_bonds[resname]:
      i = atom_list.index(bond.atom1_name)
      j = atom_list.index(bond.atom2_name)
      lower = bond.length - bond_length_tolerance_factor * bond.stddev
      upper = bond.length + bond_length_tolerance_factor * bond.stddev
      for a, b in ((i, j), (j, i)):
        lower_bound[restype, a, b] = lower
        upper_bound[restype, a, b] = upper
        stddev[restype, a, b] = bond.stddev
  return {'lower_bound': lower_bound, 'upper_bound': upper_bound,
          'stddev': stddev}
