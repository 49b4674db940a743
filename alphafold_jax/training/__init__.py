"""Training AlphaFold2 (Suppl. 1.11): state, optimiser, step, data, loop."""
