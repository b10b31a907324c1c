"""Measuring what the methods promise: importance order, sparsity, identifiability, probes."""
