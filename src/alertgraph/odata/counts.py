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

import threading
import weakref
from collections import OrderedDict
from collections.abc import Hashable
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from alertgraph.store.database import Store, meta_table
from alertgraph.store.prepared import Prepared
from alertgraph.store.transaction import clock_key

#: counts remembered per store, least recently used dropped first (each entry is a few hundred
#: bytes: the statement's text is shared with its plan)
COUNTS_KEPT = 4096


class CountMemory:
    """A bounded, thread-safe map from (tenant, count statement, values) to (clock, count).

    The console's tallies (alerts by severity, status and day) are remembered here the same way,
    as a value of their own.
    """

    def __init__(self, store: Store, size: int = COUNTS_KEPT) -> None:
        self._size = size
        self._counts: OrderedDict[Hashable, tuple[str | None, Any]] = OrderedDict()
        self._lock = threading.Lock()
        clock = sa.select(meta_table.c.value).where(meta_table.c.key == sa.bindparam("clock", ""))
        self._clock = Prepared(clock, store.engine.dialect)

    def clock(self, conn: Connection, tenant: str) -> str | None:
        """The tenant's change clock as stored (None before its first change)."""
        rows = self._clock.run(conn, self._clock.parameters({"clock": clock_key(tenant)}))
        return str(rows[0][0]) if rows else None

    def knows(self, key: Hashable) -> bool:
        """Whether a count is remembered under ``key`` (at whatever clock)."""
        return key in self._counts

    def get(self, key: Hashable, clock: str | None) -> Any:
        """The count remembered under ``key`` if it was counted at ``clock``, else None."""
        with self._lock:
            found = self._counts.get(key)
            if found is None or found[0] != clock:
                return None
            self._counts.move_to_end(key)
            return found[1]

    def put(self, key: Hashable, clock: str | None, count: Any) -> None:
        with self._lock:
            self._counts[key] = (clock, count)
            self._counts.move_to_end(key)
            while len(self._counts) > self._size:
                self._counts.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._counts.clear()

    def __len__(self) -> int:
        return len(self._counts)


_MEMORIES: weakref.WeakKeyDictionary[Store, CountMemory] = weakref.WeakKeyDictionary()
_MEMORIES_LOCK = threading.Lock()


def counts_of(store: Store) -> CountMemory:
    """The count memory of ``store`` (one per store, made on first use)."""
    memory = _MEMORIES.get(store)
    if memory is None:
        with _MEMORIES_LOCK:
            memory = _MEMORIES.get(store)
            if memory is None:
                memory = _MEMORIES[store] = CountMemory(store)
    return memory


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
