"""``python -m alertgraph.cli`` runs the CLI (the benchmarks start servers this way)."""

from alertgraph.cli import main

main()
