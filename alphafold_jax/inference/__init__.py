"""Inference: FASTA -> ranked, relaxed structures with confidence outputs.

The library behind `run_alphafold.py`: model running with length buckets
(runner, padding; runner_multimer for AlphaFold-Multimer), the output files
of the released AlphaFold2 (outputs, plots), Amber relaxation (relax/),
input checks (inputs) and the per-target driver (predict); run and
run_multimer drive a whole run of single chains or of complexes.
"""
