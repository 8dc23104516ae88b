"""``alertgraph import``: load Graph JSON records into the store."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from alertgraph.cli.common import IMPORT_PATHS, _open_store, _settings, db_option, tenant_option


@click.command(name="import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--into", required=True, type=click.Choice(IMPORT_PATHS), help="Collection to load into."
)
@db_option
@tenant_option
def import_command(file: Path, into: str, database_url: str | None, tenant: str | None) -> None:
    """Load Graph JSON records: a JSON array, a {"value": [...]} collection, or NDJSON.

    Every record is validated against the schema first; one bad record means nothing is written.
    Records are upserted by id, so importing the same file twice changes nothing. PIM alerts are
    read in their $expand=* shape (alertDefinition, alertConfiguration, alertIncidents inline).

    \b
    Example:
      alertgraph import alerts.json --into security/alerts_v2
    """
    from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn

    from alertgraph.store.importer import ImportFailed, import_file

    settings = _settings(database_url=database_url, default_tenant=tenant)
    store = _open_store(settings)
    with Progress(
        TextColumn("[bold]importing[/bold] {task.fields[name]}"),
        BarColumn(),
        TaskProgressColumn(),
        TextColumn("{task.fields[records]} records"),
        transient=False,
        disable=not sys.stderr.isatty(),
    ) as progress:
        # The total is unknown while streaming, so the bar pulses and the record count moves.
        task = progress.add_task("import", total=None, name=file.name, records=0)

        def advance(done: int) -> None:
            progress.update(task, records=done)

        try:
            result = import_file(
                store, file, into, tenant=settings.default_tenant, progress=advance
            )
        except ImportFailed as exc:
            raise click.ClickException(str(exc)) from None
        except ValueError as exc:
            raise click.ClickException(str(exc)) from None
        progress.update(task, total=1, completed=1)
    written = ", ".join(f"{count} {name}" for name, count in result.counts.items())
    records = "1 record" if result.records == 1 else f"{result.records} records"
    click.echo(f"Imported {records} into {result.into} ({written}).")
