"""Reusable layers: linear, layer norm, gated attention, dropout, chunking."""
