"""Inference: FASTA -> ranked, relaxed structures with confidence outputs.

The library behind `run_alphafold.py`: model running with length buckets
(runner, padding), the output files of the released AlphaFold2 (outputs,
plots), Amber relaxation (relax/), input checks (inputs) and the
per-target driver (predict).
"""
