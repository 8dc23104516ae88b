"""``alertgraph serve``: run the HTTP server (optionally seeding demo data first)."""

from __future__ import annotations

import os
import sys
from typing import Any

import click

from alertgraph.cli.common import IMPORT_PATHS, _open_store, _settings, db_option
from alertgraph.cli.emulator import (
    check_emulator_settings,
    emulator_banner,
    emulator_environment,
    emulator_options,
)


@click.command()
@db_option
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option(
    "--port",
    default=8000,
    show_default=True,
    type=click.IntRange(1, 65535),
    help="Port to listen on (1-65535).",
)
@click.option("--demo", is_flag=True, help="Seed demo data into an empty database first.")
@click.option(
    "--workers",
    default=1,
    show_default=True,
    type=click.IntRange(min=1),
    help="Worker processes (at least 1).",
)
@click.option("--tls", is_flag=True, help="Serve HTTPS with a generated local CA (kept in the DB).")
@click.option(
    "--strict-graph", is_flag=True, default=None, help="Reject what Graph does not document."
)
@click.option(
    "--simulate",
    "simulate_rate",
    type=click.FloatRange(min=0, min_open=True),
    metavar="EVENTS_PER_MINUTE",
    help="Also keep the tenant alive, as `alertgraph simulate --rate` does, in this process.",
)
@emulator_options
def serve(
    database_url: str | None,
    host: str,
    port: int,
    demo: bool,
    workers: int,
    tls: bool,
    strict_graph: bool | None,
    simulate_rate: float | None,
    **emulator: Any,
) -> None:
    """Start the server.

    \b
    Examples:
      alertgraph serve --demo
      alertgraph serve --db postgresql+psycopg://postgres@127.0.0.1/alertgraph --workers 4
    """
    import uvicorn

    from alertgraph.identity.auth import Authenticator, AuthSettings, default_dev_grants

    settings = _settings(database_url=database_url, strict_graph=strict_graph, **emulator)
    check_emulator_settings(settings)
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
    console = f"{scheme}://{shown_host}:{port}/console"
    if demo:  # a one-time code, so the token itself never sits in a URL or a browser history
        from alertgraph.console.sessions import create_signin_code

        console += f"/signin?code={create_signin_code(store, token)}"
        click.echo(f"Console:   {console}  (signs you in once)")
    else:
        click.echo(f"Console:   {console}  (sign in with a token)")
    trust = f"--cacert '{ssl_options['ca_file']}' " if tls else ""
    click.echo("Try:")
    click.echo(
        f"  curl -s {trust}-H 'Authorization: Bearer {token}' '{base}/security/alerts_v2?$top=2'"
    )
    for line in emulator_banner(settings):
        click.echo(line)
    sys.stdout.flush()
    store.engine.dispose()
    os.environ["ALERTGRAPH_DATABASE_URL"] = settings.database_url
    os.environ["ALERTGRAPH_STRICT_GRAPH"] = "true" if settings.strict_graph else "false"
    os.environ.update(emulator_environment(settings))
    if simulate_rate is not None:
        from alertgraph.simulate.pace import run_in_background

        run_in_background(settings.database_url, settings.default_tenant, rate=simulate_rate)
        click.echo(f"Simulating tenant {settings.default_tenant} at {simulate_rate:g} events/min.")
    # uvloop + httptools (chosen by measurement, docs/performance.md), with protocols that answer
    # unparsable requests with Graph's envelope and request ids (alertgraph.http.server).
    uvicorn.run(
        "alertgraph.http.server:app_from_environment",
        factory=True,
        http="alertgraph.http.server:HTTP_PROTOCOL",
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
