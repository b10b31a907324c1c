"""Helpers that several subpackages share, below all of them: feature orders, images encoded in
batches, plots, and where a clip-train run keeps its options. They import no host."""
