"""The emulator's tables (throttle counters, per-tenant controls, snapshots, journal) in the store's
METADATA; snapshot tables mirror store/database.py's entity tables column for column."""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    BigInteger,
    Column,
    Float,
    Index,
    Integer,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
)

from alertgraph.store.database import JSON_TYPE, KEY_TEXT, METADATA, TABLES, TENANT, TEXT, Store

SNAPSHOT = "_snapshot"

#: one row per (rule, tenant, app): a two-window sliding counter (see throttle.py)
counters_table = Table(
    "emulator_counters",
    METADATA,
    Column("scope", String(600), nullable=False),
    Column("window", BigInteger, nullable=False),
    Column("previous", Integer, nullable=False),
    Column("current", Integer, nullable=False),
    PrimaryKeyConstraint("scope"),
)

#: run-time controls per tenant (set through the admin API) and each tenant's request sequence
controls_table = Table(
    "emulator_controls",
    METADATA,
    Column(TENANT, KEY_TEXT, nullable=False),
    Column("settings", JSON_TYPE),
    Column("sequence", BigInteger, nullable=False),
    PrimaryKeyConstraint(TENANT),
)

snapshots_table = Table(
    "emulator_snapshots",
    METADATA,
    Column(TENANT, KEY_TEXT, nullable=False),
    Column("name", String(200), nullable=False),
    Column("created_at", BigInteger, nullable=False),
    Column("counts", JSON_TYPE, nullable=False),
    PrimaryKeyConstraint(TENANT, "name"),
)

journal_table = Table(
    "emulator_journal",
    METADATA,
    # INTEGER PRIMARY KEY is SQLite's rowid, the only column it numbers by itself
    Column("seq", BigInteger().with_variant(Integer(), "sqlite"), autoincrement=True),
    # a plain column, not _tenant: one numbering across tenants (a Citus reference table)
    Column("tenant", KEY_TEXT, nullable=False),
    Column("at", Float, nullable=False),
    Column("method", String(16), nullable=False),
    Column("url", TEXT, nullable=False),
    Column("status", Integer, nullable=False),
    Column("latency_ms", Float, nullable=False),
    Column("app_id", TEXT),
    Column("request_id", String(100), nullable=False),
    Column("client_request_id", TEXT),
    Column("request_headers", JSON_TYPE, nullable=False),
    Column("response_headers", JSON_TYPE, nullable=False),
    Column("request_body", Text),
    Column("response_body", Text),
    PrimaryKeyConstraint("seq"),
)
Index("ix_emulator_journal_tenant", journal_table.c.tenant, journal_table.c.seq)


def _mirror(name: str, table: Table) -> Table:
    columns: list[Column[Any]] = [Column(SNAPSHOT, String(200), nullable=False)]
    columns += [Column(column.name, column.type, nullable=True) for column in table.columns]
    # _tenant first, as Citus needs to shard the mirror with its table (ops/citus.py)
    rest = [column.name for column in table.primary_key.columns if column.name != TENANT]
    key = [TENANT, SNAPSHOT, *rest]
    return Table(f"emusnap_{table.name}", METADATA, *columns, PrimaryKeyConstraint(*key))


#: entity set name → (its table, the table its snapshots are copied into)
SNAPSHOT_TABLES: dict[str, tuple[Table, Table]] = {
    name: (table, _mirror(name, table)) for name, table in TABLES.items()
}

OWN_TABLES = [
    counters_table,
    controls_table,
    snapshots_table,
    journal_table,
    *(mirror for _, mirror in SNAPSHOT_TABLES.values()),
]


def ensure_schema(store: Store) -> None:
    """Create the emulator's tables if the database predates them (idempotent)."""
    METADATA.create_all(store.engine, tables=OWN_TABLES, checkfirst=True)
