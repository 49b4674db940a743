"""Training datasets (Suppl. 1.2.4-1.2.5, 1.3): the PDB chain set and the
self-distillation set as TFDS ArrayRecord datasets, streamed with grain."""
