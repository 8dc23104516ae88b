"""``alertgraph sync``: pull a tenant from Graph or another alertgraph into the local store."""

from __future__ import annotations

import sys

import click

from alertgraph.cli.common import _open_store, _settings, db_option


@click.command()
@click.option(
    "--from",
    "root",
    required=True,
    metavar="ROOT_URL",
    help="Graph root URL: https://graph.microsoft.com, or another alertgraph's base address.",
)
@click.option("--token", metavar="TOKEN", help="Bearer token for the upstream.")
@click.option("--client-id", metavar="ID", help="Application (client) id: get a token instead.")
@click.option("--client-secret", metavar="SECRET", help="Client secret for --client-id.")
@click.option(
    "--authority",
    metavar="URL",
    help="Token authority for --client-id (default: https://login.microsoftonline.com/TENANT).",
)
@db_option
@click.option(
    "--tenant",
    metavar="TID",
    help="Local tenant to write into (default: the token's tenant).",
)
@click.option(
    "--anonymize", is_flag=True, help="Replace people, devices, domains and IPs; keep ids."
)
def sync(
    root: str,
    token: str | None,
    client_id: str | None,
    client_secret: str | None,
    authority: str | None,
    database_url: str | None,
    tenant: str | None,
    anonymize: bool,
) -> None:
    """Copy alerts, incidents, partner alerts and PIM alerts from an upstream into the store.

    Records keep their upstream ids and timestamps. A second run fetches only what changed since
    the last (by lastUpdateDateTime where the API has it). Every record is validated first; one
    bad record stops the run, naming it, and nothing is written.

    \b
    Examples:
      alertgraph sync --from http://127.0.0.1:8000 --token "$TOKEN" --db sqlite:///copy.db
      alertgraph sync --from https://graph.microsoft.com --client-id ID --client-secret S \\
          --authority https://login.microsoftonline.com/TENANT_ID --anonymize
    """
    from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn

    from alertgraph.sync.client import (
        SyncError,
        Upstream,
        client_credentials_token,
        token_tenant,
    )
    from alertgraph.sync.pull import collections
    from alertgraph.sync.pull import sync as run_sync

    if not root.startswith(("http://", "https://")):
        raise click.UsageError(f"--from must be an http:// or https:// URL; got '{root}'.")
    if token and client_id:
        raise click.UsageError("give either --token or --client-id/--client-secret, not both.")
    try:
        if client_id:
            if not client_secret:
                raise click.UsageError("--client-id needs --client-secret.")
            if authority is None:
                if tenant is None:
                    raise click.UsageError("--client-id needs --authority or --tenant.")
                authority = f"https://login.microsoftonline.com/{tenant}"
            token = client_credentials_token(authority, client_id, client_secret)
        if not token:
            raise click.UsageError("give --token, or --client-id with --client-secret.")
        local_tenant = tenant or token_tenant(token)
        settings = _settings(database_url=database_url, default_tenant=local_tenant)
        store = _open_store(settings)
        upstream = Upstream(root, token)
        names = [collection.name for collection in collections(store.model)]
        with Progress(
            SpinnerColumn(),
            TextColumn("[bold]{task.description}[/bold]"),
            BarColumn(),
            TextColumn("{task.completed:.0f} records"),
            disable=not sys.stderr.isatty(),
        ) as progress:
            tasks = {name: progress.add_task(name, total=None) for name in names}

            def advance(name: str, count: int, total: int | None) -> None:
                progress.update(tasks[name], completed=count, total=total)

            try:
                result = run_sync(
                    store,
                    upstream,
                    tenant=settings.default_tenant,
                    anonymize=anonymize,
                    progress=advance,
                )
            finally:
                upstream.close()
                store.engine.dispose()
    except SyncError as exc:
        raise click.ClickException(str(exc)) from None
    fetched = ", ".join(f"{count} {name}" for name, count in result.counts.items())
    click.echo(f"Synced into tenant {result.tenant}: {fetched}.")
    if result.waits:
        click.echo(f"The upstream asked to wait {len(result.waits)} times (Retry-After honoured).")
