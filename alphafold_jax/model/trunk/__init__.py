"""The trunk: Evoformer blocks, the template and extra-MSA stacks, embeddings."""
