"""Data pipeline: parsers, MSA and template search, feature processing.

Suppl. 1.2 (data pipeline) and Suppl. 1.2.5-1.2.9 (input features, MSA
clustering, masking, cropping) in numpy; nothing here imports TensorFlow.
"""
