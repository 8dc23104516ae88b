"""Citus layout: which tables are sharded by tenant and which are copied to every node.

Every table that has the ``_tenant`` column is distributed by it, and all of them share one
colocation group, so a tenant's alerts, incidents, PIM rows and audit entries live on the same
shard and joins (``$expand``, incident → alerts) never cross nodes. Tables without ``_tenant``
hold deployment-wide data and become reference tables (one full copy per node).

PIM alert definitions are distributed, not reference tables: although every tenant has the same
catalogue of alert kinds, Graph gives each tenant its own rows (ids are
``DirectoryRole_{tenantId}_{AlertName}``) and every read filters by tenant. A reference table
would grow by one copy of the catalogue per tenant on every node and gain nothing.

The statements are derived from the SQLAlchemy metadata, so a table added to store/database.py
is covered without editing this file. ``python -m alertgraph.ops.citus`` prints the whole
script.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import Index, MetaData, Table, UniqueConstraint
from sqlalchemy.dialects import postgresql
from sqlalchemy.schema import CreateIndex, CreateTable

from alertgraph.console import sessions as console_sessions
from alertgraph.emulator import tables as emulator_tables
from alertgraph.identity import keys
from alertgraph.schema.endpoints import ENTITY_SETS
from alertgraph.store.database import METADATA, TENANT, inline_storage_statement

#: Modules that add tables to METADATA when imported; listed so the layout covers all of them.
TABLE_MODULES = (keys, emulator_tables, console_sessions)

DIALECT = postgresql.dialect()  # type: ignore[no-untyped-call]


def is_tenant_table(table: Table) -> bool:
    return TENANT in table.c


def layout_problems(metadata: MetaData = METADATA) -> list[str]:
    """What stops a table from being distributed by ``_tenant`` (empty when all is well).

    Citus requires the distribution column in every primary key and unique constraint; leading
    with it also lets one tenant's range scans use the index on a single shard.
    """
    problems: list[str] = []
    for table in metadata.sorted_tables:
        if not is_tenant_table(table):
            continue
        key = [column.name for column in table.primary_key.columns]
        if not key or key[0] != TENANT:
            problems.append(f"{table.name}: primary key {key} does not start with {TENANT}")
        for constraint in table.constraints:
            if isinstance(constraint, UniqueConstraint) and TENANT not in constraint.columns:
                problems.append(f"{table.name}: unique constraint {constraint.name} lacks {TENANT}")
        for index in table.indexes:
            first = next(iter(index.expressions), None)
            name = getattr(first, "name", None) or getattr(
                getattr(first, "element", None), "name", None
            )
            if name != TENANT:
                problems.append(f"{table.name}: index {index.name} does not start with {TENANT}")
    return problems


def _regclass(table: Table) -> str:
    """The table as a regclass string literal (quoted as PostgreSQL needs it)."""
    name = DIALECT.identifier_preparer.format_table(table)
    return "'" + name.replace("'", "''") + "'"


_ENTITY_TABLES = [entity_set.table for entity_set in ENTITY_SETS]


def _order(table: Table) -> tuple[int, str]:
    """Entity tables in endpoint order (alerts anchor the colocation group), then the rest."""
    if table.name in _ENTITY_TABLES:
        return _ENTITY_TABLES.index(table.name), ""
    return len(_ENTITY_TABLES), table.name


def distribution_statements(
    metadata: MetaData = METADATA, *, shard_count: int | None = None
) -> list[str]:
    """``create_reference_table`` / ``create_distributed_table`` calls, one per table.

    Reference tables come first (distributed tables may refer to them); the first distributed
    table anchors the colocation group the others join.
    """
    problems = layout_problems(metadata)
    if problems:
        raise ValueError("tables cannot be distributed by tenant: " + "; ".join(problems))
    tables = sorted(metadata.sorted_tables, key=_order)
    statements = [
        f"SELECT create_reference_table({_regclass(table)});"
        for table in tables
        if not is_tenant_table(table)
    ]
    anchor: Table | None = None
    for table in tables:
        if not is_tenant_table(table):
            continue
        options = ""
        if anchor is None:
            anchor = table
            if shard_count is not None:
                options = f", shard_count => {int(shard_count)}"
        else:
            options = f", colocate_with => {_regclass(anchor)}"
        statements.append(
            f"SELECT create_distributed_table({_regclass(table)}, '{TENANT}'{options});"
        )
    return statements


def schema_statements(metadata: MetaData = METADATA) -> list[str]:
    """CREATE TABLE and CREATE INDEX statements for PostgreSQL, as ``create_all`` would emit,
    with the entity tables' long columns kept in the row (``Store`` sets that itself except under
    Citus)."""
    statements: list[str] = []
    for table in metadata.sorted_tables:
        statements.append(str(CreateTable(table).compile(dialect=DIALECT)).strip() + ";")
        storage = inline_storage_statement(table)  # before distributing: shards copy the table
        if storage is not None:
            statements.append(storage + ";")
        for index in sorted(table.indexes, key=lambda index: index.name or ""):
            if not _on_postgresql(index):
                continue
            statements.append(str(CreateIndex(index).compile(dialect=DIALECT)).strip() + ";")
    return statements


def _on_postgresql(index: Index) -> bool:
    """False for an index that ``ddl_if`` limits to another engine."""
    condition = getattr(index, "_ddl_if", None)
    return condition is None or condition.dialect in (None, "postgresql")


def script(metadata: MetaData = METADATA, *, shard_count: int | None = None) -> str:
    """The full Citus setup: schema, then distribution, to run on the coordinator."""
    parts: Iterable[str] = (
        "CREATE EXTENSION IF NOT EXISTS citus;",
        *schema_statements(metadata),
        *distribution_statements(metadata, shard_count=shard_count),
    )
    return "\n\n".join(parts) + "\n"


if __name__ == "__main__":
    import sys

    sys.stdout.write(script())
