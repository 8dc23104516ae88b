"""Counts remembered until the tenant's data changes: a repeated ``$count`` skips the counting.

A filtered ``$count`` is SQLite or PostgreSQL stepping through every matching index entry (90,000
entries take about 5 ms), and connectors and dashboards ask the same count on every poll. Every
change to a tenant's entities moves the tenant's change clock in the transaction that makes it
(:func:`alertgraph.store.transaction.tick`: Graph writes, imports, snapshot restores and resets),
so a count is remembered with the clock value read *before* it was counted and given again only
while the clock still reads that value. The answer stays exact, in every process: a count taken
after a change was committed may be remembered under the clock value before it (the reader read
the clock first), but no reader sees that value again once the change is committed.

The memory is per process and bounded; the clock lives in the database, so replicas that share it
never serve each other's stale counts.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable, Hashable
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from alertgraph.odata.plans import Bounded, per_store
from alertgraph.store.database import Store, meta_table
from alertgraph.store.prepared import Prepared
from alertgraph.store.transaction import clock_key

#: counts remembered per store, least recently used dropped first (each entry is a few hundred
#: bytes: the statement's text is shared with its plan)
COUNTS_KEPT = 4096

T = TypeVar("T")


class CountMemory(Bounded):
    """A bounded, thread-safe map from (tenant, count statement, values) to (clock, count).

    The console's tallies (alerts by severity, status and day) are remembered here the same way,
    as a value of their own.
    """

    def __init__(self, store: Store, size: int = COUNTS_KEPT) -> None:
        super().__init__(size)
        clock = sa.select(meta_table.c.value).where(meta_table.c.key == sa.bindparam("clock", ""))
        self._clock = Prepared(clock, store.engine.dialect)

    def clock(self, conn: Connection, tenant: str) -> str | None:
        """The tenant's change clock as stored (None before its first change)."""
        rows = self._clock.run(conn, self._clock.parameters({"clock": clock_key(tenant)}))
        return str(rows[0][0]) if rows else None

    def get(self, key: Hashable, clock: str | None) -> Any:
        """The count remembered under ``key`` if it was counted at ``clock``, else None."""
        found = self._recall(key)
        return found[1] if found is not None and found[0] == clock else None

    def remember(self, key: Hashable, clock: str | None, count: Any) -> None:
        """Keep ``count``, counted after the tenant's clock read ``clock``."""
        self.put(key, (clock, count))

    def remembered(self, conn: Connection, tenant: str, key: Hashable, count: Callable[[], T]) -> T:
        """``count()`` as remembered under ``key`` at the tenant's clock, read first; counted
        (and remembered) when nothing is remembered at that clock."""
        clock = self.clock(conn, tenant)
        found: T | None = self.get(key, clock)
        if found is None:
            found = count()
            self.remember(key, clock, found)
        return found


_MEMORIES: weakref.WeakKeyDictionary[Store, CountMemory] = weakref.WeakKeyDictionary()


def counts_of(store: Store) -> CountMemory:
    """The count memory of ``store`` (one per store, made on first use)."""
    return per_store(_MEMORIES, store, lambda: CountMemory(store))


def clock_column(tenant: str) -> Any:
    """The tenant's change clock as a column (a scalar subquery), for a page's first statement."""
    value = sa.select(meta_table.c.value).where(meta_table.c.key == clock_key(tenant))
    return value.scalar_subquery().label("_clock")


def statement_key(tenant: str, prepared: Prepared, parameters: object) -> Hashable | None:
    """What a count depends on besides the data: its tenant, SQL text and values (None when a
    value can't be part of a key)."""
    values = tuple(sorted(parameters.items())) if isinstance(parameters, dict) else parameters
    key = (tenant, prepared.sql, values)
    try:
        hash(key)
    except TypeError:
        return None
    return key
