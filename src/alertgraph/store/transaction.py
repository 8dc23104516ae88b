"""Write transactions: row locks, the audit record, and row access in Graph JSON.

Every write runs through :func:`run_write`: one transaction that locks the rows it changes, applies
the change and appends one audit record per changed entity, so both are committed or neither is.
Callers above (alertgraph.rules) work in Graph JSON; conversion to columns happens here.
"""

from __future__ import annotations

import uuid
import weakref
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

from sqlalchemy import BigInteger, Engine, Text, cast, delete, event, func, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection
from sqlalchemy.sql.elements import ColumnElement

from alertgraph.errors import NotFound, entity_not_found
from alertgraph.schema.endpoints import EntitySet
from alertgraph.store.codec import format_datetime, now_ticks
from alertgraph.store.database import (
    PARENT,
    STORED_JSON,
    TENANT,
    Store,
    audit_table,
    meta_table,
)

T = TypeVar("T")

#: How often a write is retried when a row it planned on changed before it got the lock.
MAX_ATTEMPTS = 5


@dataclass(frozen=True, slots=True)
class Actor:
    """Who writes: the tenant whose rows change and the name stamped on them."""

    tenant: str
    #: UPN of a user or app id of an application: createdByDisplayName, updatedBy, lastModifiedBy
    name: str
    app_id: str | None
    request_id: str


class Replan(Exception):
    """A locked row no longer matches what the write planned on; the transaction starts over."""


@dataclass(slots=True)
class Tx:
    """One write transaction of one actor; every read through it is locked until commit."""

    store: Store
    conn: Connection
    actor: Actor
    now_ticks: int
    #: rows this transaction read or wrote, as stored, by (set, id): an update computes the
    #: row's new stored JSON from them instead of reading the row back
    _stored: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)

    @property
    def now(self) -> str:
        """The transaction's time as Graph JSON (one instant for every field it stamps)."""
        return format_datetime(self.now_ticks)

    def _where(
        self, es: EntitySet, key: str | None, parent: str | None
    ) -> list[ColumnElement[bool]]:
        table = self.store.tables[es.name]
        where: list[ColumnElement[bool]] = [table.c[TENANT] == self.actor.tenant]
        if key is not None:
            where.append(table.c.id == key)
        if parent is not None:
            where.append(table.c[PARENT] == parent)
        return where

    def rows(
        self,
        es: EntitySet,
        *conditions: ColumnElement[bool],
        keys: Iterable[str] | None = None,
        parent: str | None = None,
        lock: bool = True,
    ) -> list[dict[str, Any]]:
        """Entities of ``es`` in the actor's tenant as Graph JSON, in key order.

        With ``lock`` the rows stay locked until commit (PostgreSQL ``FOR UPDATE``; SQLite holds
        its database-wide write lock from the start of the transaction). Locking in key order
        keeps two writers from waiting on each other.
        """
        table = self.store.tables[es.name]
        where = self._where(es, None, parent)
        if keys is not None:
            wanted = sorted(set(keys))
            if not wanted:
                return []
            where.append(table.c.id.in_(wanted))
        query = select(table).where(*where, *conditions).order_by(table.c.id)
        if lock and self.conn.dialect.name == "postgresql":
            query = query.with_for_update()
        found = [dict(row) for row in self.conn.execute(query).mappings()]
        if lock or self.conn.dialect.name == "sqlite":  # no other writer can change these rows
            for row in found:
                self._stored[(es.name, str(row["id"]))] = row
        return [self.to_json(es, row) for row in found]

    def stored_json(self, es: EntitySet, key: str) -> str | None:
        """A row's stored JSON as this transaction last read or wrote it (None: it has none, or
        the transaction did not hold the row), so a write can answer without reading it back."""
        row = self._stored.get((es.name, key))
        return None if row is None else row.get(STORED_JSON)

    def serialize(self, topic: str) -> None:
        """Hold the tenant's lock on ``topic`` until commit (SQLite: its write lock already does).

        For writes that reshape several rows whose set is only known once some are locked (moving
        alerts, merging incidents): one at a time per tenant, they can't lock in crossing orders.
        """
        if self.conn.dialect.name == "postgresql":
            key = func.hashtextextended(f"{self.actor.tenant}/{topic}", 0)
            self.conn.execute(select(func.pg_advisory_xact_lock(key)))

    def get(
        self, es: EntitySet, key: str, *, parent: str | None = None, lock: bool = True
    ) -> dict[str, Any] | None:
        found = self.rows(es, keys=[key], parent=parent, lock=lock)
        return found[0] if found else None

    def require(
        self, es: EntitySet, key: str, *, parent: str | None = None, lock: bool = True
    ) -> dict[str, Any]:
        """The entity, or NotFound (another tenant's id is not found either)."""
        found = self.get(es, key, parent=parent, lock=lock)
        if found is None:
            raise not_found(es, key)
        return found

    def to_json(self, es: EntitySet, row: Mapping[str, Any]) -> dict[str, Any]:
        record = self.store.to_json(es, row)
        if PARENT in row:
            record[PARENT] = row[PARENT]
        return record

    def update(
        self,
        es: EntitySet,
        before: Mapping[str, Any],
        changes: Mapping[str, Any],
        *,
        action: str,
        extra: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        """Write the properties in ``changes`` (Graph JSON) that differ from ``before``.

        Returns the entity after the change; records the differences in the audit log. ``extra``
        is stored with the audit record (e.g. an action's parameters).
        """
        properties = self.store.properties(es.name)
        codec = self.store.codec
        diff: dict[str, dict[str, Any]] = {}
        values: dict[str, Any] = {}
        for name, value in changes.items():
            prop = properties[name]
            column = codec.to_column(prop.type, value, name)
            normalized = codec.from_column(prop.type, column)
            if normalized == before.get(name):
                continue
            values[name] = column
            diff[name] = {"before": before.get(name), "after": normalized}
        after = dict(before)
        for name, change in diff.items():
            after[name] = change["after"]
        if values:
            table = self.store.tables[es.name]
            where = self._where(es, str(before["id"]), before.get(PARENT))
            known = self._stored.get((es.name, str(before["id"])))
            if known is not None:
                # the row as it will be stored: its stored JSON goes into the same UPDATE
                row = {**known, **values}
                values[STORED_JSON] = self.store.stored_json(es, row, stored=False)
                self.conn.execute(update(table).where(*where).values(**values))
                row[STORED_JSON] = values[STORED_JSON]
                self._stored[(es.name, str(before["id"]))] = row
            else:
                self._update_reading_back(es, where, values)
        if diff or extra:
            self.audit(es, str(before["id"]), action, diff, extra)
        return after

    def _update_reading_back(
        self, es: EntitySet, where: list[ColumnElement[bool]], values: Mapping[str, Any]
    ) -> None:
        """UPDATE a row this transaction has not read, then its stored JSON from the result."""
        table = self.store.tables[es.name]
        changed = (
            self.conn.execute(
                update(table).where(*where).values(**values).returning(*table.columns)
            )
            .mappings()
            .one()
        )
        # keep the row's serialized Graph JSON current, from the values as stored
        stored = self.store.stored_json(es, dict(changed))
        self.conn.execute(update(table).where(*where).values({STORED_JSON: stored}))

    def insert(
        self,
        es: EntitySet,
        record: Mapping[str, Any],
        *,
        action: str,
        extra: Mapping[str, Any] | None = None,
    ) -> None:
        """Insert a validated Graph JSON record and audit it as created."""
        row = self.store.to_row(es, {k: v for k, v in record.items() if k != PARENT})
        row[TENANT] = self.actor.tenant
        if es.parent is not None:
            row[PARENT] = record[PARENT]
        self.conn.execute(insert(self.store.tables[es.name]).values(**row))
        created = {
            name: {"before": None, "after": value}
            for name, value in record.items()
            if not name.startswith("@") and name != PARENT and value not in (None, [])
        }
        self.audit(es, str(record["id"]), action, created, extra)

    def delete(self, es: EntitySet, before: Mapping[str, Any], *, action: str) -> None:
        table = self.store.tables[es.name]
        where = self._where(es, str(before["id"]), before.get(PARENT))
        self.conn.execute(delete(table).where(*where))
        gone = {
            name: {"before": value, "after": None}
            for name, value in before.items()
            if not name.startswith("@") and name != PARENT and value not in (None, [])
        }
        self.audit(es, str(before["id"]), action, gone)

    def audit(
        self,
        es: EntitySet,
        key: str,
        action: str,
        changes: Mapping[str, Any],
        extra: Mapping[str, Any] | None = None,
    ) -> None:
        record: dict[str, Any] = {
            TENANT: self.actor.tenant,
            "id": uuid.uuid4().hex,
            "at": self.now_ticks,
            "request_id": self.actor.request_id,
            "actor": self.actor.name,
            "app_id": self.actor.app_id,
            "entity_set": es.name,
            "entity_id": key,
            "action": action,
            "changes": {"fields": dict(changes), **({"parameters": dict(extra)} if extra else {})},
        }
        _insert_audit(self.conn, record)


def _insert_audit(conn: Connection, record: dict[str, Any]) -> None:
    """Append one audit record (a separate function so tests can make it fail)."""
    conn.execute(insert(audit_table).values(**record))


def clock_key(tenant: str) -> str:
    """The meta row holding the last instant stamped in ``tenant`` (its change clock)."""
    return f"clock/{tenant}"


def tick(conn: Connection, tenant: str) -> int:
    """Take the tenant's change clock until commit and return this transaction's instant.

    The instant is the server time, or one tick (100 ns) after the tenant's last instant when the
    clock has not moved past it. Every write of a tenant holds the clock row's lock from here to
    its commit, so instants grow in commit order: a reader that sees a change stamped ``t`` also
    sees every change stamped before ``t``. That is what makes a ``ge`` cursor on
    lastUpdateDateTime safe (docs/motion.md). SQLite already serializes writers.
    """
    key = clock_key(tenant)
    now = now_ticks()
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    highest = func.greatest if conn.dialect.name == "postgresql" else func.max
    last = cast(meta_table.c.value, BigInteger)
    # one statement: create the row or move it past its last instant, locking it either way
    statement = (
        dialect.insert(meta_table)
        .values(key=key, value=str(now))
        .on_conflict_do_update(
            index_elements=[meta_table.c.key],
            set_={"value": cast(highest(last + 1, now), Text)},
        )
        .returning(meta_table.c.value)
    )
    return int(conn.execute(statement).scalar_one())


def run_write(store: Store, actor: Actor, work: Callable[[Tx], T]) -> T:
    """Run ``work`` in one transaction; start over (a few times) when it raises :class:`Replan`.

    On SQLite the transaction first takes the database's write lock with an UPDATE that touches a
    row, so nothing is read before the lock is held (SQLite serializes writers; a read-then-write
    transaction could otherwise fail when another writer commits in between). On PostgreSQL the
    reads of :class:`Tx` lock the rows they return. On both, the tenant's change clock
    (:func:`tick`) is taken first and gives the transaction its one instant. The commit does not
    wait for the WAL flush unless ``store.durable_commits`` (the durability SQLite's WAL mode
    with synchronous=NORMAL has).
    """
    _follow_durability(store)
    for attempt in range(MAX_ATTEMPTS):
        try:
            with store.engine.begin() as conn:
                if conn.dialect.name == "sqlite":
                    conn.execute(
                        update(meta_table)
                        .where(meta_table.c.key == "schema_version")
                        .values(value=meta_table.c.value)
                    )
                return work(Tx(store, conn, actor, tick(conn, actor.tenant)))
        except Replan:
            if attempt == MAX_ATTEMPTS - 1:
                raise
    raise AssertionError("unreachable")


_DURABILITY_SET: weakref.WeakSet[Engine] = weakref.WeakSet()


def _follow_durability(store: Store) -> None:
    """Give each pooled PostgreSQL connection the ``synchronous_commit`` the store asks for.

    Off (the default) is SQLite's durability in WAL mode with synchronous=NORMAL: a crash may lose
    the last commits, never half of one; waiting for the WAL flush cost ~17 ms a write on the
    benchmark machine. It is set when a connection is checked out and differs, outside any
    transaction (a SET inside one is undone by its rollback), so it costs no round trip per write.
    """
    engine = store.engine
    if engine.dialect.name != "postgresql" or engine in _DURABILITY_SET:
        return
    _DURABILITY_SET.add(engine)

    def checkout(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        wanted = "on" if store.durable_commits else "off"
        if record.info.get("synchronous_commit") != wanted:
            cursor = dbapi_connection.cursor()
            cursor.execute(f"SET synchronous_commit TO {wanted}")
            cursor.close()
            dbapi_connection.commit()
            record.info["synchronous_commit"] = wanted

    event.listen(engine, "checkout", checkout)


def not_found(es: EntitySet, key: str) -> NotFound:
    return entity_not_found(es.path, key)
