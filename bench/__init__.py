"""Benchmarks (`make bench`): speed and memory measured side by side in one run, never asserted in tests.

Each ``bench/bench_*.py`` module has a ``main() -> dict`` that measures, prints its figures and returns
them; ``python -m bench`` runs them all and writes ``bench/results/<name>.json`` and ``.md``.
"""
