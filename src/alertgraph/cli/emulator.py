"""Emulator commands: ``snapshot``, ``reset``, ``journal``, and the emulator options of ``serve``.

The work is done by alertgraph.emulator; this module parses options, opens the store and prints.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click
import orjson

from alertgraph.cli.common import _open_store, _settings, db_option, tenant_option
from alertgraph.settings import Settings

F = TypeVar("F", bound=Callable[..., Any])


def emulator_options(function: F) -> F:
    """The emulator options of ``serve`` (each also has an ALERTGRAPH_* variable)."""
    options = [
        click.option(
            "--throttle",
            metavar="off|graph|N/S",
            help="Throttle like Graph: 'graph' applies Graph's published limits, N/S allows N "
            "requests per S seconds per app per tenant (default: off).",
        ),
        click.option(
            "--faults",
            metavar="rate=R,status=CODE,seed=N[,latency=MS]",
            help="Inject faults into a share R of requests (CODE 429, 500, 502, 503 or 504), "
            "deterministic under the seed; see docs/testing-connectors.md for more keys.",
        ),
        click.option("--journal", is_flag=True, default=None, help="Record every Graph request."),
        click.option(
            "--journal-bodies",
            is_flag=True,
            default=None,
            help="Record request and response bodies in the journal too.",
        ),
        click.option(
            "--admin-api/--no-admin-api",
            default=None,
            help="Serve the admin API under /_alertgraph/ (default: on; admin tokens only).",
        ),
    ]
    for option in reversed(options):
        function = option(function)
    return function


def check_emulator_settings(settings: Settings) -> None:
    """One clear line for a malformed --throttle or --faults value."""
    from alertgraph.emulator.spec import parse_faults_option, parse_throttle

    try:
        parse_throttle(settings.throttle)
    except ValueError as exc:
        hint = "--throttle (or ALERTGRAPH_THROTTLE)"  # the value may come from either
        raise click.BadParameter(str(exc), param_hint=hint) from None
    if settings.faults:
        try:
            parse_faults_option(settings.faults)
        except ValueError as exc:
            message = str(exc).removeprefix("faults: ")
            hint = "--faults (or ALERTGRAPH_FAULTS)"
            raise click.BadParameter(message, param_hint=hint) from None


def emulator_environment(settings: Settings) -> dict[str, str]:
    """The variables that carry the emulator settings to uvicorn's worker processes."""
    flag = {True: "true", False: "false"}
    return {
        "ALERTGRAPH_THROTTLE": settings.throttle,
        "ALERTGRAPH_FAULTS": settings.faults or "",
        "ALERTGRAPH_JOURNAL": flag[settings.journal],
        "ALERTGRAPH_JOURNAL_BODIES": flag[settings.journal_bodies],
        "ALERTGRAPH_ADMIN_API": flag[settings.admin_api],
    }


def emulator_banner(settings: Settings) -> list[str]:
    lines = []
    if settings.throttle != "off":
        lines.append(f"Throttle:  {settings.throttle}")
    if settings.faults:
        lines.append(f"Faults:    {settings.faults}")
    if settings.journal:
        lines.append(f"Journal:   on (newest {settings.journal_max_entries} requests kept)")
    if settings.admin_api:
        lines.append("Admin API: /_alertgraph/ (token: alertgraph token --admin)")
    return lines


def _store_for(database_url: str | None, tenant: str | None) -> tuple[Any, str]:
    from alertgraph.emulator.tables import ensure_schema
    from alertgraph.identity.auth import valid_tenant

    settings = _settings(database_url=database_url, default_tenant=tenant)
    if not valid_tenant(settings.default_tenant):
        raise click.BadParameter(
            f"'{settings.default_tenant}' is not a tenant id (letters, digits, '-', '.')",
            param_hint="--tenant",
        )
    store = _open_store(settings)
    ensure_schema(store)
    return store, settings.default_tenant


def _counts(counts: dict[str, int]) -> str:
    return ", ".join(f"{count} {name}" for name, count in counts.items() if count) or "no rows"


@click.group()
def snapshot() -> None:
    """Save and restore a tenant's data, for test isolation (kept in the database)."""


@snapshot.command(name="save")
@click.argument("name")
@db_option
@tenant_option
def snapshot_save(name: str, database_url: str | None, tenant: str | None) -> None:
    """Save the tenant's current data as NAME (replacing a snapshot of that name).

    \b
    Example:
      alertgraph snapshot save clean --tenant $TENANT
    """
    from alertgraph.emulator.snapshots import SnapshotError, save

    store, tid = _store_for(database_url, tenant)
    try:
        saved = save(store, tid, name)
    except SnapshotError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"Saved snapshot '{name}' of tenant {tid}: {_counts(saved.counts)}.")


@snapshot.command(name="restore")
@click.argument("name")
@db_option
@tenant_option
def snapshot_restore(name: str, database_url: str | None, tenant: str | None) -> None:
    """Replace the tenant's data by snapshot NAME, in one transaction.

    Running servers serve the restored data from their next request; other tenants are untouched.
    """
    from alertgraph.emulator.snapshots import SnapshotError, restore

    store, tid = _store_for(database_url, tenant)
    started = time.perf_counter()
    try:
        restored = restore(store, tid, name)
    except SnapshotError as exc:
        raise click.ClickException(str(exc)) from None
    took = time.perf_counter() - started
    click.echo(
        f"Restored snapshot '{name}' into tenant {tid} in {took:.2f} s: {_counts(restored.counts)}."
    )


@snapshot.command(name="list")
@db_option
@tenant_option
def snapshot_list(database_url: str | None, tenant: str | None) -> None:
    """List the snapshots (of one tenant with --tenant)."""
    from datetime import UTC, datetime

    from alertgraph.emulator.snapshots import listing

    store, _ = _store_for(database_url, None)
    found = listing(store, tenant)
    if not found:
        click.echo("No snapshots.")
        return
    for item in found:
        when = datetime.fromtimestamp(item.created_at, UTC).strftime("%Y-%m-%d %H:%M:%SZ")
        click.echo(f"{item.name}\t{item.tenant}\t{when}\t{_counts(item.counts)}")


@snapshot.command(name="delete")
@click.argument("name")
@db_option
@tenant_option
def snapshot_delete(name: str, database_url: str | None, tenant: str | None) -> None:
    """Delete snapshot NAME of the tenant."""
    from alertgraph.emulator.snapshots import SnapshotError, delete

    store, tid = _store_for(database_url, tenant)
    try:
        delete(store, tid, name)
    except SnapshotError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"Deleted snapshot '{name}' of tenant {tid}.")


@click.command()
@db_option
@tenant_option
@click.option("--demo", is_flag=True, help="Seed the demo data after emptying the tenant.")
def reset(database_url: str | None, tenant: str | None, demo: bool) -> None:
    """Empty the tenant (its data, throttle counters and fault numbering); other tenants stay.

    \b
    Examples:
      alertgraph reset --tenant $TENANT
      alertgraph reset --demo
    """
    from alertgraph.emulator.snapshots import reset as reset_tenant

    store, tid = _store_for(database_url, tenant)
    counts = reset_tenant(store, tid, demo=demo)
    click.echo(f"Tenant {tid} reset: {_counts(counts)}.")


@click.group()
def journal() -> None:
    """Read the request journal that "serve --journal" records."""


@journal.command(name="export")
@click.argument("file", type=click.Path(dir_okay=False, writable=True, path_type=Path))
@db_option
@tenant_option
def journal_export(file: Path, database_url: str | None, tenant: str | None) -> None:
    """Write the journal (one tenant's with --tenant) to FILE as HAR 1.2.

    Browser dev tools and HAR viewers open the file. Authorization headers are never recorded.
    """
    from importlib.metadata import version

    from alertgraph.emulator.journal import entries, har

    store, _ = _store_for(database_url, None)
    rows = entries(store, tenant=tenant)
    try:
        file.write_bytes(
            orjson.dumps(har(rows, version=version("alertgraph")), option=orjson.OPT_INDENT_2)
        )
    except OSError as exc:
        raise click.ClickException(f"can't write {file}: {exc.strerror}") from None
    click.echo(f"Wrote {len(rows)} requests to {file} (HAR 1.2).")


@journal.command(name="tail")
@db_option
@tenant_option
@click.option("--lines", "-n", default=10, show_default=True, help="Earlier requests to show.")
@click.option("--follow/--no-follow", default=True, help="Keep printing new requests.")
def journal_tail(database_url: str | None, tenant: str | None, lines: int, follow: bool) -> None:
    """Print the latest requests and follow new ones (Ctrl-C stops)."""
    from alertgraph.emulator.journal import entries, last_sequence, latest

    store, _ = _store_for(database_url, None)
    recent = latest(store, tenant=tenant, count=lines)
    for row in recent:
        click.echo(_line(row))
    after = recent[-1]["seq"] if recent else last_sequence(store)
    sys.stdout.flush()
    try:
        while follow:
            time.sleep(0.5)
            for row in entries(store, tenant=tenant, after=after, limit=500):
                click.echo(_line(row))
                after = row["seq"]
            sys.stdout.flush()
    except KeyboardInterrupt:
        pass


def _line(row: dict[str, Any]) -> str:
    from datetime import UTC, datetime

    when = datetime.fromtimestamp(float(row["at"]), UTC).strftime("%H:%M:%S.%f")[:-3]
    app = row["app_id"] or "-"
    return (
        f"{when} {row['tenant'][:8]} {app[:8]} {row['status']} {row['method']:6} "
        f"{row['url']} {row['latency_ms']:.1f} ms"
    )


COMMANDS = (snapshot, reset, journal)
