"""The ``alertgraph`` command line: one module per command family, assembled in main.py.

Each command's docstring is its ``--help``. Settings come from flags, then ALERTGRAPH_* environment
variables, then defaults (see settings.py).
"""

from alertgraph.cli.main import main

__all__ = ["main"]
