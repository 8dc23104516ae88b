"""Benchmark suite: alertgraph against datasette and a plain-sqlite3 floor, on the same data.

Run ``python -m bench.run --help``; docs/performance.md explains the method and shows results.
This is a measuring tool, not a test suite: nothing here asserts a target.
"""
