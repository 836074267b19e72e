"""Benchmarks (``python -m benchmarks``): speed and memory of products on full-size inputs.

Results go to ``docs/benchmarks.md``; tests never assert timings.
"""
