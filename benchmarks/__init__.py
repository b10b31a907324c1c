"""Benchmark scripts, run as `python benchmarks/<name>.py`; their results are in benchmarks/results/."""
