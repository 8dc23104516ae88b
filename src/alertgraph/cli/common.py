"""What every command shares: settings from flags and environment, opening the store, options.

Every option that takes a value a user can get wrong is checked here, before anything runs, so
each command refuses bad input with one clear line (click's ``Error: Invalid value ...``).
"""

from __future__ import annotations

import os
import re
from typing import Any

import click

from alertgraph.settings import Settings

IMPORT_PATHS = (
    "security/alerts_v2",
    "security/incidents",
    "security/partner/securityAlerts",
    "identityGovernance/roleManagementAlerts/alerts",
)

#: database URL schemes alertgraph runs on (SQLAlchemy dialect[+driver])
DB_SCHEMES = ("sqlite", "sqlite+pysqlite", "postgresql", "postgresql+psycopg")
_GUID = re.compile(r"[0-9a-fA-F]{8}-(?:[0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}")
#: the longest lifetime ``token --expires-in`` mints (a year; dev tokens, not credentials to keep)
MAX_EXPIRES_IN = 366 * 24 * 3600


def check_database_url(url: str) -> str | None:
    """Why ``url`` cannot be an alertgraph database URL, or None when it can."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    allowed = (
        f"use one of the schemes {', '.join(s + '://' for s in DB_SCHEMES)}, like "
        "sqlite:///alertgraph.db or postgresql+psycopg://user@host/db"
    )
    try:
        parsed = make_url(url)
    except (ArgumentError, ValueError):
        return f"'{url}' is not a database URL; {allowed}"
    scheme = parsed.drivername
    if scheme not in DB_SCHEMES:
        return f"'{scheme}' in '{url}' is not a supported database; {allowed}"
    if scheme.startswith("sqlite") and _in_memory(parsed.database, parsed.query):
        # it ends with the command: what it stores is lost, a token it mints is signed by a key
        # no server will ever know
        return (
            f"'{url}' is an in-memory SQLite database, gone when this command ends; "
            "use a database file, like sqlite:///alertgraph.db"
        )
    return None


def _in_memory(database: str | None, query: Any) -> bool:
    """Whether SQLite keeps the database named so in memory only (no file, or a memory URI)."""
    name = database or ""
    return (
        name in ("", ":memory:")
        or name.startswith("file::memory:")
        or query.get("mode") == "memory"
        or "mode=memory" in name
    )


def is_guid(text: str) -> bool:
    return _GUID.fullmatch(text) is not None


def check_tenant(tenant: str) -> str | None:
    """Why ``tenant`` is not a tenant id (a GUID, as Entra tenant ids are), or None."""
    if _GUID.fullmatch(tenant) is None:
        return (
            f"'{tenant}' is not a tenant id; a tenant id is a GUID like "
            "00000000-0000-4000-8000-000000000001"
        )
    return None


def _settings(**overrides: Any) -> Settings:
    try:
        settings = Settings.from_env(os.environ, **overrides)
    except ValueError as exc:
        raise click.UsageError(str(exc)) from None
    # the flags were checked by their callbacks; values from the environment are checked here
    if overrides.get("database_url") is None:
        problem = check_database_url(settings.database_url)
        if problem is not None:
            raise click.UsageError(f"ALERTGRAPH_DATABASE_URL: {problem}")
    if overrides.get("default_tenant") is None:
        problem = check_tenant(settings.default_tenant)
        if problem is not None:
            raise click.UsageError(f"ALERTGRAPH_TENANT: {problem}")
    return settings


def _open_store(settings: Settings) -> Any:
    import sqlite3

    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError, DBAPIError

    from alertgraph.store.database import Store

    url = settings.database_url
    try:
        return Store.open(url)
    except DBAPIError as exc:  # refused, missing, not a database, no permission to create tables
        reason = (str(exc.orig or exc).strip().splitlines() or [type(exc).__name__])[0]
        if isinstance(exc.orig, sqlite3.DatabaseError) and not isinstance(
            exc.orig, sqlite3.OperationalError
        ):  # "file is not a database", "database disk image is malformed"
            reason = (
                f"{make_url(url).database} is not an alertgraph database "
                f"(not a SQLite database file: {reason})"
            )
        raise click.ClickException(
            f"can't open the database {url}: {reason}. Check --db or ALERTGRAPH_DATABASE_URL."
        ) from None
    except (ArgumentError, RuntimeError) as exc:  # a malformed URL, a newer schema
        reason = str(exc).strip().splitlines()[0]
        raise click.ClickException(f"can't open the database {url}: {reason}") from None


def _database_url(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    if value is not None:
        problem = check_database_url(value)
        if problem is not None:
            raise click.BadParameter(problem, ctx=ctx, param=param)
    return value


def _tenant(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    if value is not None:
        problem = check_tenant(value)
        if problem is not None:
            raise click.BadParameter(problem, ctx=ctx, param=param)
    return value


def known_permission(ctx: click.Context, param: click.Parameter, value: Any) -> Any:
    """Callback for --scope and --role: every name must be a permission some operation accepts."""
    from alertgraph.identity.auth import known_application_permissions

    known = known_application_permissions()
    unknown = [name for name in value if name not in known]
    if unknown:
        raise click.BadParameter(
            f"unknown permission {', '.join(unknown)}; known: {', '.join(sorted(known))}",
            ctx=ctx,
            param=param,
        )
    return value


db_option = click.option(
    "--db",
    "database_url",
    metavar="URL",
    callback=_database_url,
    help="Database URL (default: sqlite:///alertgraph.db; env ALERTGRAPH_DATABASE_URL).",
)
tenant_option = click.option(
    "--tenant",
    metavar="TID",
    callback=_tenant,
    help="Tenant id, a GUID (default: env ALERTGRAPH_TENANT or the demo tenant).",
)
