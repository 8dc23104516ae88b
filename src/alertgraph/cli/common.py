"""What every command shares: settings from flags and environment, opening the store, options."""

from __future__ import annotations

import os
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
