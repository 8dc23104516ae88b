"""The ``alertgraph`` command: serve, token, import, app.

Each command's docstring is its ``--help``. Settings come from flags, then ALERTGRAPH_* environment
variables, then defaults (see settings.py).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

import click

from alertgraph.settings import Settings

IMPORT_PATHS = (
    "security/alerts_v2",
    "security/incidents",
    "security/partner/securityAlerts",
    "identityGovernance/roleManagementAlerts/alerts",
)


def _settings(**overrides: Any) -> Settings:
    try:
        return Settings.from_env(os.environ, **overrides)
    except ValueError as exc:
        raise click.UsageError(str(exc)) from None


def _open_store(settings: Settings) -> Any:
    from sqlalchemy.exc import OperationalError

    from alertgraph.store.database import Store

    try:
        return Store.open(settings.database_url)
    except OperationalError as exc:
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
        raise click.ClickException(
            f"can't open the database {settings.database_url}: {reason}. "
            "Check --db or ALERTGRAPH_DATABASE_URL."
        ) from None


db_option = click.option(
    "--db",
    "database_url",
    metavar="URL",
    help="Database URL (default: sqlite:///alertgraph.db; env ALERTGRAPH_DATABASE_URL).",
)
tenant_option = click.option(
    "--tenant", metavar="TID", help="Tenant id (default: env ALERTGRAPH_TENANT or the demo tenant)."
)


@click.group()
@click.version_option(package_name="alertgraph")
def main() -> None:
    """A self-hosted, Microsoft Graph-compatible security alerts service."""


@main.command()
@db_option
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8000, show_default=True, type=int, help="Port to listen on.")
@click.option("--demo", is_flag=True, help="Seed demo data into an empty database first.")
@click.option("--workers", default=1, show_default=True, type=int, help="Worker processes.")
@click.option("--tls", is_flag=True, help="Serve HTTPS with a generated local CA (kept in the DB).")
@click.option(
    "--strict-graph", is_flag=True, default=None, help="Reject what Graph does not document."
)
def serve(
    database_url: str | None,
    host: str,
    port: int,
    demo: bool,
    workers: int,
    tls: bool,
    strict_graph: bool | None,
) -> None:
    """Start the server.

    \b
    Examples:
      alertgraph serve --demo
      alertgraph serve --db postgresql+psycopg://postgres@127.0.0.1/alertgraph --workers 4
    """
    import uvicorn

    from alertgraph.identity.auth import Authenticator, AuthSettings, default_dev_grants

    settings = _settings(database_url=database_url, strict_graph=strict_graph)
    store = _open_store(settings)
    if demo:
        _seed_demo(store, settings.default_tenant)
    scopes, roles = default_dev_grants()
    token = Authenticator(store, AuthSettings()).mint(
        tenant=settings.default_tenant,
        user="admin@alertgraph.dev",
        scopes=scopes,
        directory_roles=roles,
        expires_in=12 * 3600,
    )
    ssl_options: dict[str, Any] = {}
    scheme = "http"
    if tls:
        from alertgraph.identity.tls import ensure_local_tls

        files = ensure_local_tls(store, [host, "127.0.0.1", "localhost"])
        ssl_options = {
            "ssl_certfile": str(files.certfile),
            "ssl_keyfile": str(files.keyfile),
            "ca_file": str(files.ca_file),
        }
        scheme = "https"
        click.echo(files.trust_instructions)
    shown_host = "127.0.0.1" if host in ("0.0.0.0", "::") else host
    base = f"{scheme}://{shown_host}:{port}/beta"
    click.echo(f"alertgraph {store.dialect} database: {settings.database_url}")
    click.echo(f"Base URL:  {base}")
    click.echo(f"Tenant:    {settings.default_tenant}")
    click.echo(f"Dev token (12 h, every permission): {token}")
    trust = f"--cacert '{ssl_options['ca_file']}' " if tls else ""
    click.echo("Try:")
    click.echo(
        f"  curl -s {trust}-H 'Authorization: Bearer {token}' '{base}/security/alerts_v2?$top=2'"
    )
    sys.stdout.flush()
    store.engine.dispose()
    os.environ["ALERTGRAPH_DATABASE_URL"] = settings.database_url
    os.environ["ALERTGRAPH_STRICT_GRAPH"] = "true" if settings.strict_graph else "false"
    uvicorn.run(
        "alertgraph.http.app:app_from_environment",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level="info",
        proxy_headers=True,
        ssl_certfile=ssl_options.get("ssl_certfile"),
        ssl_keyfile=ssl_options.get("ssl_keyfile"),
    )


def _seed_demo(store: Any, tenant: str) -> None:
    from sqlalchemy import func, select

    from alertgraph.seed.records import demo_data
    from alertgraph.store.importer import import_records

    alerts = store.tables["alerts_v2"]
    with store.engine.connect() as conn:
        existing = conn.execute(
            select(func.count()).select_from(alerts).where(alerts.c._tenant == tenant)
        ).scalar()
    if existing:
        click.echo(f"Demo data: the tenant already has {existing} alerts; nothing seeded.")
        return
    data = demo_data(tenant_id=tenant)
    for into in IMPORT_PATHS:
        records = data.get(into, [])
        import_records(
            store, into, ((f"record {i}", r) for i, r in enumerate(records)), tenant=tenant
        )
    summary = ", ".join(f"{len(v)} {k.rsplit('/', 1)[1]}" for k, v in data.items())
    click.echo(f"Demo data seeded: {summary}.")


@main.command()
@db_option
@tenant_option
@click.option("--user", metavar="UPN", help="Signed-in user (delegated token).")
@click.option("--app-id", metavar="ID", help="Application id (application token).")
@click.option(
    "--scope", "scopes", multiple=True, metavar="PERM", help="Delegated permission (scp)."
)
@click.option(
    "--role", "roles", multiple=True, metavar="PERM", help="Application permission (roles)."
)
@click.option(
    "--directory-role",
    "directory_roles",
    multiple=True,
    metavar="NAME_OR_TEMPLATE_ID",
    help="Entra directory role of the user (wids), by name or template id.",
)
@click.option("--expires-in", default=3600, show_default=True, type=int, metavar="SECONDS")
def token(
    database_url: str | None,
    tenant: str | None,
    user: str | None,
    app_id: str | None,
    scopes: tuple[str, ...],
    roles: tuple[str, ...],
    directory_roles: tuple[str, ...],
    expires_in: int,
) -> None:
    """Print one bearer token that a server on the same database accepts.

    With neither --scope nor --role: every read and write permission of the served APIs, delegated,
    plus the directory roles PIM needs.

    \b
    Examples:
      alertgraph token
      alertgraph token --app-id 11111111-2222-3333-4444-555555555555 --role SecurityAlert.Read.All
      alertgraph token --user analyst@contoso.com --scope SecurityAlert.Read.All \\
          --directory-role "Security Reader"
    """
    from alertgraph.identity.auth import (
        Authenticator,
        AuthSettings,
        default_dev_grants,
        role_template_id,
    )

    settings = _settings(database_url=database_url, default_tenant=tenant)
    store = _open_store(settings)
    wids: list[str] = []
    for name in directory_roles:
        try:
            wids.append(role_template_id(name))
        except ValueError as exc:
            raise click.BadParameter(str(exc), param_hint="--directory-role") from None
    if not scopes and not roles:
        default_scopes, default_roles = default_dev_grants()
        scopes = tuple(default_scopes)
        if not wids:
            wids = list(default_roles)
    if app_id is None and user is None:
        user = "admin@alertgraph.dev"
    minted = Authenticator(store, AuthSettings()).mint(
        tenant=settings.default_tenant,
        user=user,
        app_id=app_id,
        scopes=scopes,
        roles=roles,
        directory_roles=wids,
        expires_in=expires_in,
    )
    click.echo(minted)


@main.group()
def app() -> None:
    """Manage app registrations for the client-credentials flow."""


@app.command(name="add")
@db_option
@tenant_option
@click.option(
    "--role",
    "roles",
    multiple=True,
    required=True,
    metavar="PERM",
    help="Application permission the app gets (repeat for several).",
)
@click.option("--name", metavar="NAME", help="Display name of the app.")
def app_add(
    database_url: str | None, tenant: str | None, roles: tuple[str, ...], name: str | None
) -> None:
    """Register an application; print its client id and secret (shown only once).

    The secret is stored as a salted hash. Exchange it for a token at
    /{tenant}/oauth2/v2.0/token with grant_type=client_credentials and
    scope=https://graph.microsoft.com/.default (see docs/auth.md).

    \b
    Example:
      alertgraph app add --tenant $TENANT --role SecurityAlert.Read.All --name siem
    """
    from alertgraph.identity.auth import add_app, known_application_permissions

    settings = _settings(database_url=database_url, default_tenant=tenant)
    known = known_application_permissions()
    unknown = [role for role in roles if role not in known]
    if unknown:
        raise click.BadParameter(
            f"unknown permission {', '.join(unknown)}; known: {', '.join(sorted(known))}",
            param_hint="--role",
        )
    store = _open_store(settings)
    client_id, secret = add_app(store, tenant=settings.default_tenant, roles=roles, name=name)
    click.echo(f"tenant:        {settings.default_tenant}")
    click.echo(f"client_id:     {client_id}")
    click.echo(f"client_secret: {secret}")


@main.command(name="import")
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


if __name__ == "__main__":
    main()
