"""Tenant snapshots and resets in the database: copies with INSERT ... SELECT, restores in one
transaction that writes only the difference, other tenants untouched. Used by the CLI, admin.py."""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Table, and_, exists, func, literal, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.exc import OperationalError

from alertgraph.emulator.tables import (
    SNAPSHOT,
    SNAPSHOT_TABLES,
    controls_table,
    counters_table,
    snapshots_table,
)
from alertgraph.store.database import TENANT, Store
from alertgraph.store.transaction import tick

_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")


class SnapshotError(ValueError):
    """A snapshot that can't be saved, found or restored; the message says which and why."""


@dataclass(frozen=True, slots=True)
class Snapshot:
    tenant: str
    name: str
    created_at: float
    counts: dict[str, int]

    def as_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "tenant": self.tenant,
            "createdAt": self.created_at,
            "counts": self.counts,
        }


def check_name(name: str) -> str:
    if not _NAME.fullmatch(name):
        raise SnapshotError(
            f"'{name}' is not a valid snapshot name: 1 to 100 letters, digits, '.', '_' or '-', "
            "starting with a letter or digit"
        )
    return name


def save(store: Store, tenant: str, name: str) -> Snapshot:
    """Copy the tenant's current state under ``name`` (replacing a snapshot of that name)."""
    check_name(name)
    counts: dict[str, int] = {}
    with store.engine.begin() as conn:
        _drop(conn, tenant, name)
        for set_name, (table, mirror) in SNAPSHOT_TABLES.items():
            columns = [column.name for column in table.columns]
            conn.execute(
                mirror.insert().from_select(
                    [SNAPSHOT, *columns],
                    select(literal(name), *table.c).where(table.c[TENANT] == tenant),
                )
            )
            counts[set_name] = conn.execute(
                select(func.count())
                .select_from(mirror)
                .where(mirror.c[SNAPSHOT] == name, mirror.c[TENANT] == tenant)
            ).scalar_one()
        if store.dialect == "postgresql":
            # Fresh statistics for the copies: planned on a mirror it believes empty, a restore
            # compared every row with every row (28 s at 10,000 alerts, 0.4 s after ANALYZE).
            for set_name, (_, mirror) in SNAPSHOT_TABLES.items():
                if counts[set_name]:
                    conn.exec_driver_sql(
                        "ANALYZE " + conn.dialect.identifier_preparer.format_table(mirror)
                    )
        # whole seconds, as stored: the answer to a save equals what listing and restore give
        created = int(time.time())
        conn.execute(
            snapshots_table.insert().values(
                {TENANT: tenant, "name": name, "created_at": created, "counts": counts}
            )
        )
    return Snapshot(tenant, name, float(created), counts)


def restore(store: Store, tenant: str, name: str) -> Snapshot:
    """Replace the tenant's state by the snapshot, in one transaction; other tenants untouched.

    On PostgreSQL a writer holding one table while wanting another can deadlock with the restore's
    table locks; the database then aborts one of them, and the restore is simply tried again.
    """
    check_name(name)
    for attempt in range(5):
        try:
            return _restore(store, tenant, name)
        except OperationalError as exc:
            if getattr(exc.orig, "sqlstate", None) != "40P01" or attempt == 4:
                raise
    raise AssertionError("unreachable")


def _restore(store: Store, tenant: str, name: str) -> Snapshot:
    meta = snapshots_table
    with store.engine.begin() as conn:
        # A write first: it takes SQLite's write lock at once and locks the snapshot's row on
        # PostgreSQL (no concurrent delete); no row means no such snapshot.
        found = conn.execute(
            update(meta)
            .where(meta.c[TENANT] == tenant, meta.c.name == name)
            .values(created_at=meta.c.created_at)
            .returning(meta.c.created_at, meta.c.counts)
        ).one_or_none()
        if found is None:
            raise SnapshotError(_unknown(conn, tenant, name))
        # the tenant's change clock before the tables, in the order every Graph write takes
        # them (no deadlock); it tells remembered counts that the data changed
        tick(conn, tenant)
        if store.dialect == "postgresql":
            # writers of any tenant wait for the few milliseconds of the copy; readers don't
            quoted = ", ".join(
                conn.dialect.identifier_preparer.format_table(table)
                for table, _ in SNAPSHOT_TABLES.values()
            )
            conn.exec_driver_sql(f"LOCK TABLE {quoted} IN SHARE ROW EXCLUSIVE MODE")
        for table, mirror in SNAPSHOT_TABLES.values():
            _copy_back(conn, table, mirror, tenant, name)
    return Snapshot(tenant, name, float(found.created_at), dict(found.counts))


def delete(store: Store, tenant: str, name: str) -> None:
    check_name(name)
    with store.engine.begin() as conn:
        if not _drop(conn, tenant, name):
            raise SnapshotError(_unknown(conn, tenant, name))


def listing(store: Store, tenant: str | None = None) -> list[Snapshot]:
    meta = snapshots_table
    query = select(meta).order_by(meta.c[TENANT], meta.c.name)
    if tenant is not None:
        query = query.where(meta.c[TENANT] == tenant)
    with store.engine.connect() as conn:
        return [
            Snapshot(row._mapping[TENANT], row.name, float(row.created_at), dict(row.counts))
            for row in conn.execute(query)
        ]


def reset(store: Store, tenant: str, *, demo: bool = False) -> dict[str, int]:
    """Empty the tenant (its data, request numbering and throttle counters); with ``demo``, seed
    the demo data afterwards. Returns the number of rows per entity set now stored."""
    with store.engine.begin() as conn:
        tick(conn, tenant)  # the data changes (remembered counts are not given again)
        conn.execute(controls_table.delete().where(controls_table.c[TENANT] == tenant))
        conn.execute(
            counters_table.delete().where(
                counters_table.c.scope.contains(f"|{tenant}|", autoescape=True)
            )
        )
        for table, _ in SNAPSHOT_TABLES.values():
            conn.execute(table.delete().where(table.c[TENANT] == tenant))
    if demo:
        from alertgraph.seed.records import demo_data
        from alertgraph.store.importer import import_records

        for into, records in demo_data(tenant_id=tenant).items():
            import_records(
                store, into, ((f"record {n}", r) for n, r in enumerate(records)), tenant=tenant
            )
    with store.engine.connect() as conn:
        return {
            set_name: int(
                conn.execute(
                    select(func.count()).select_from(table).where(table.c[TENANT] == tenant)
                ).scalar_one()
            )
            for set_name, (table, _) in SNAPSHOT_TABLES.items()
        }


def _copy_back(conn: Connection, table: Table, mirror: Table, tenant: str, name: str) -> None:
    """Make the tenant's rows of ``table`` equal to the snapshot's, writing only the difference:
    rows the test changed or added are deleted, rows it changed or deleted are copied back. A test
    changes few rows, so a restore mostly reads."""
    columns = [column.name for column in table.columns]
    keys = [column.name for column in table.primary_key.columns]
    in_snapshot = and_(mirror.c[SNAPSHOT] == name, mirror.c[TENANT] == tenant)
    same_key = and_(*(table.c[key] == mirror.c[key] for key in keys))
    # The key as plain equality (keys are never null) lets PostgreSQL join on it; compared only
    # with IS NOT DISTINCT FROM, it compared every row with every row (25 s at 10,000 alerts).
    same_row = and_(
        same_key,
        *(
            mirror.c[column].is_not_distinct_from(table.c[column])
            for column in columns
            if column not in keys
        ),
    )
    conn.execute(
        table.delete().where(
            table.c[TENANT] == tenant,
            ~exists().where(in_snapshot, same_row),
        )
    )
    conn.execute(
        table.insert().from_select(
            columns,
            select(*(mirror.c[column] for column in columns)).where(
                in_snapshot, ~exists().where(same_key)
            ),
        )
    )


def _drop(conn: Connection, tenant: str, name: str) -> bool:
    for _, mirror in SNAPSHOT_TABLES.values():
        conn.execute(mirror.delete().where(mirror.c[SNAPSHOT] == name, mirror.c[TENANT] == tenant))
    meta = snapshots_table
    gone = conn.execute(meta.delete().where(meta.c[TENANT] == tenant, meta.c.name == name))
    return bool(gone.rowcount)


def _unknown(conn: Connection, tenant: str, name: str) -> str:
    meta = snapshots_table
    names = conn.execute(
        select(meta.c.name).where(meta.c[TENANT] == tenant).order_by(meta.c.name)
    ).scalars()
    known = ", ".join(names) or "none"
    return f"no snapshot named '{name}' for tenant {tenant} (its snapshots: {known})"
