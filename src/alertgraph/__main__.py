"""``python -m alertgraph`` runs the CLI."""

from alertgraph.cli import main

main()
