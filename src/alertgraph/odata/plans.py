"""Plans of the reads, kept per store: a request seen before skips parse, bind and SQL building.

A page, or an entity answered from stored JSON, depends on its request (set, query string,
tenant, service root, version, preference, limits) and on the rows, nothing else. So what read.py
works out before it touches the database (the page size, the paging binding, the context URL, the
next link's parts, the bound query that shapes rows and the statements, compiled as
:class:`~alertgraph.store.prepared.Prepared`) is kept under all of those and reused; connectors
poll the same URLs over and over. Every page is read through a plan; one that is not kept is
made, run once and dropped. A statement holding the request's instant (``now()``) is never kept,
nor is anything that failed. The plans hold no rows, so a write, an import or a snapshot restore
never makes one stale.
"""

from __future__ import annotations

import threading
import weakref
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Any, TypeVar

from alertgraph.odata.query import Query
from alertgraph.schema.endpoints import EntitySet
from alertgraph.store.database import Store
from alertgraph.store.prepared import Prepared

#: plans kept per store, least recently used dropped first (a plan is a few KB at most)
PLANS_KEPT = 2048


@dataclass(frozen=True, slots=True)
class ListPlan:
    """One page of a collection: stored JSON spliced as it is, or rows shaped by the query.

    A page past a position is read as keyset segments (keyset.seek_segments), one statement
    each, in order, until one row more than the page size says a next page exists.
    """

    entity_set: EntitySet  # the very row it was made for (keys hold its id)
    pages: tuple[Prepared, ...]  # each LIMIT page size + 1
    page_parameters: tuple[Any, ...]
    #: the count alone: SQLite's $count, and PostgreSQL's when the page has no row to carry it
    count: Prepared | None
    count_parameters: Any
    #: what the count is remembered under (odata.counts); None: never remembered
    count_key: Hashable | None
    #: PostgreSQL, run in place of ``pages[0]`` when the request counts: the first page with
    #: the count and the tenant's change clock as its last columns (one round trip), or with
    #: the clock alone when a count is remembered (odata.read._Tally)
    counted_first: Prepared | None
    counted_first_parameters: Any
    clocked_first: Prepared | None
    clocked_first_parameters: Any
    page_size: int
    columns: tuple[str, ...]  # the page's column names: stored JSON and key (or the row's
    # columns), then the sort keys
    shaping: Query | None  # None: the stored JSON is the answer; else $select/$expand shape rows
    projected: bool  # shaping is a $select of the stored JSON (shape.projection_serves)
    first_sort_key: int  # where the sort keys start in a row
    sort_keys: int  # how many: their values in the last row make the next $skiptoken
    context: str
    next_base: str  # the next link up to its '?'
    next_parts: tuple[str, ...]  # the request's options but the paging one
    next_skip: int | None  # $skip paging: the next page's offset; None: keyset $skiptoken
    secret: bytes
    binding: str


@dataclass(frozen=True, slots=True)
class EntityPlan:
    """One entity by key from stored JSON: the body is the prefix, then the stored object."""

    entity_set: EntitySet  # the very row it was made for (keys hold its id)
    row: Prepared  # takes binds "tenant" and "key"; a context's rider is its second column
    prefix: str  # '{"@odata.context":"...",'
    context: str


class Bounded:
    """A bounded, thread-safe map, least recently used dropped first: what the engine keeps per
    store (plans here, remembered counts in odata.counts)."""

    def __init__(self, size: int) -> None:
        self._size = size
        self._kept: OrderedDict[Hashable, Any] = OrderedDict()
        self._lock = threading.Lock()

    def _recall(self, key: Hashable) -> Any:
        """The value kept under ``key`` (now the most recently used), or None."""
        with self._lock:
            value = self._kept.get(key)
            if value is not None:
                self._kept.move_to_end(key)
        return value

    def put(self, key: Hashable, value: Any) -> None:
        with self._lock:
            self._kept[key] = value
            self._kept.move_to_end(key)
            while len(self._kept) > self._size:
                self._kept.popitem(last=False)

    def kept(self) -> list[Any]:
        """The values kept, least recently used first."""
        with self._lock:
            return list(self._kept.values())

    def clear(self) -> None:
        """Forget everything (each is made again when next asked)."""
        with self._lock:
            self._kept.clear()

    def __contains__(self, key: Hashable) -> bool:
        return key in self._kept

    def __len__(self) -> int:
        return len(self._kept)


B = TypeVar("B", bound=Bounded)
_PER_STORE_LOCK = threading.Lock()


def per_store(kept: weakref.WeakKeyDictionary[Store, B], store: Store, make: Callable[[], B]) -> B:
    """The one ``kept[store]``, made by ``make`` on first use (by one thread only)."""
    found = kept.get(store)
    if found is None:
        with _PER_STORE_LOCK:
            found = kept.get(store)
            if found is None:
                found = kept[store] = make()
    return found


class PlanCache(Bounded):
    """A bounded, thread-safe map from a request's key to its plan."""

    def __init__(self, size: int = PLANS_KEPT) -> None:
        super().__init__(size)

    def get(self, key: Hashable, entity_set: EntitySet) -> Any:
        """The plan kept under ``key`` for ``entity_set``, or None."""
        plan = self._recall(key)
        # keys name the entity set by id(); an id can be reused once a set is gone
        return plan if plan is not None and plan.entity_set is entity_set else None


_CACHES: weakref.WeakKeyDictionary[Store, PlanCache] = weakref.WeakKeyDictionary()


def plans_of(store: Store) -> PlanCache:
    """The plan cache of ``store`` (one per store, made on first use)."""
    return per_store(_CACHES, store, PlanCache)
