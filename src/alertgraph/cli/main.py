"""The ``alertgraph`` group: every command registered in one place."""

from __future__ import annotations

import click

from alertgraph.cli.data import import_command
from alertgraph.cli.emulator import COMMANDS as EMULATOR_COMMANDS
from alertgraph.cli.serve import serve
from alertgraph.cli.simulate import simulate
from alertgraph.cli.sync import sync
from alertgraph.cli.tokens import app, token


@click.group()
@click.version_option(package_name="alertgraph")
def main() -> None:
    """A self-hosted, Microsoft Graph-compatible security alerts service."""


for command in (serve, token, app, import_command, simulate, sync, *EMULATOR_COMMANDS):
    main.add_command(command)
