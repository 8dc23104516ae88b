"""What a sync fetches, and writing it: one transaction, every record validated, cursors inside.

Collections are fetched side by side (the upstream bounds the requests in flight) into temporary
NDJSON files, then imported through :func:`alertgraph.store.importer.import_records` in one
transaction that also stores each collection's new cursor. A bad record fails the import and so
rolls back everything, cursors included; an interrupted run left nothing behind and the next run
starts from the last committed cursors. Records keep their upstream ids and timestamps.
"""

from __future__ import annotations

import hashlib
import tempfile
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection

from alertgraph.schema.edm import Model
from alertgraph.schema.endpoints import ENTITY_SETS
from alertgraph.store.codec import parse_datetime
from alertgraph.store.database import Store, meta_table
from alertgraph.store.importer import IMPORT_PATHS, ImportFailed, import_records, read_records
from alertgraph.sync.anonymize import Anonymizer
from alertgraph.sync.client import SyncError, Upstream

#: Progress callback: collection name, records fetched so far, total if known.
Progress = Callable[[str, int, int | None], None]


@dataclass(frozen=True, slots=True)
class Collection:
    """One upstream collection: where it is, where it goes, how to ask for what changed."""

    name: str
    path: str  # below /beta, and the import path
    params: tuple[tuple[str, str], ...] = ()
    changed: str | None = None  # the property a cursor follows; None: fetched whole each run
    countable: bool = False  # Graph documents $count here: the progress bar gets a total


#: The property a cursor follows where a collection's type has it.
CHANGED = "lastUpdateDateTime"
SCOPE_FILTER = "scopeId eq '/' and scopeType eq 'DirectoryRole'"


def collections(model: Model) -> tuple[Collection, ...]:
    """What a sync reads: every importable collection, asked for as the schema says.

    A set whose type has lastUpdateDateTime is read incrementally; a set with navigations is read
    with ``$expand=*`` (the shape the importer takes); a set that requires Graph's scope filter
    gets it.
    """
    found = []
    for path in IMPORT_PATHS:
        es = next(es for es in ENTITY_SETS if es.path == path)
        params: list[tuple[str, str]] = []
        if es.requires_scope_filter:
            params.append(("$filter", SCOPE_FILTER))
        if es.navigations:
            params.append(("$expand", "*"))
        changed = CHANGED if CHANGED in model.all_properties(es.type_name) else None
        countable = "$count" in es.documented_options
        name = path.split("/", 1)[1]
        found.append(Collection(name, path, tuple(params), changed, countable))
    return tuple(found)


@dataclass(slots=True)
class Pulled:
    """What one collection brought: records fetched, and the cursor to store after writing."""

    collection: Collection
    file: Path
    records: int = 0
    total: int | None = None  # @odata.count of the first page, where the API gives it
    cursor: str | None = None


@dataclass(slots=True)
class SyncResult:
    tenant: str
    counts: dict[str, int] = field(default_factory=dict)
    cursors: dict[str, str | None] = field(default_factory=dict)
    waits: list[float] = field(default_factory=list)


def cursor_key(root: str, tenant: str, collection: Collection) -> str:
    """The meta row of one collection's cursor, per upstream root and local tenant."""
    digest = hashlib.sha256(root.rstrip("/").encode()).hexdigest()[:16]
    return f"sync/{tenant}/{digest}/{collection.name}"


def _fetch(
    upstream: Upstream,
    collection: Collection,
    cursor: str | None,
    folder: Path,
    progress: Progress,
) -> Pulled:
    params = dict(collection.params)
    if collection.countable:
        params["$count"] = "true"
    if collection.changed and cursor:
        # Only $filter: Graph documents no $orderby for alerts_v2; the newest stamp is tracked.
        params["$filter"] = f"{collection.changed} ge {cursor}"
    pulled = Pulled(
        collection, folder / f"{collection.name.replace('/', '-')}.ndjson", cursor=cursor
    )
    newest = parse_datetime(cursor) if cursor else None
    with pulled.file.open("wb") as sink:
        for body in upstream.pages(collection.path, params):
            page = [item for item in body["value"] if isinstance(item, dict)]
            total = body.get("@odata.count")
            if isinstance(total, int):
                pulled.total = total
            for record in page:
                sink.write(orjson.dumps(record) + b"\n")
                stamp = record.get(collection.changed) if collection.changed else None
                if isinstance(stamp, str):
                    try:
                        ticks = parse_datetime(stamp)
                    except ValueError:
                        ticks = None  # the importer names the bad value
                    if ticks is not None and (newest is None or ticks > newest):
                        newest, pulled.cursor = ticks, stamp
            pulled.records += len(page)
            progress(collection.name, pulled.records, pulled.total)
    return pulled


def _store_cursor(conn: Connection, key: str, value: str) -> None:
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    statement = dialect.insert(meta_table).values(key=key, value=value)
    conn.execute(statement.on_conflict_do_update(index_elements=["key"], set_={"value": value}))


def sync(
    store: Store,
    upstream: Upstream,
    *,
    tenant: str,
    anonymize: bool = False,
    progress: Progress = lambda _name, _count, _total: None,
    concurrency: int = 4,
) -> SyncResult:
    """Pull every collection changed since the stored cursors and write it for ``tenant``."""
    result = SyncResult(tenant=tenant)
    wanted = collections(store.model)
    keys = {c.name: cursor_key(upstream.root, tenant, c) for c in wanted}
    with tempfile.TemporaryDirectory(prefix="alertgraph-sync-") as temp:
        folder = Path(temp)
        with ThreadPoolExecutor(max_workers=concurrency) as pool:
            futures = [
                pool.submit(_fetch, upstream, c, store.get_meta(keys[c.name]), folder, progress)
                for c in wanted
            ]
            pulled = [future.result() for future in futures]
        anonymizer = Anonymizer() if anonymize else None
        if anonymizer is not None:
            for item in pulled:
                for _, record in read_records(item.file):
                    anonymizer.learn(record)
        try:
            with store.engine.begin() as conn:
                for item in pulled:
                    records = (
                        (_where(item.collection, n, record), _apply(anonymizer, record))
                        for n, (_, record) in enumerate(read_records(item.file))
                    )
                    import_records(store, item.collection.path, records, tenant=tenant, conn=conn)
                    if item.cursor is not None:
                        _store_cursor(conn, keys[item.collection.name], item.cursor)
                    result.counts[item.collection.name] = item.records
                    result.cursors[item.collection.name] = item.cursor
        except ImportFailed as exc:
            raise SyncError(f"a record from the upstream is not valid; {exc}") from None
    result.waits = list(upstream.waits)
    return result


def _where(collection: Collection, number: int, record: dict[str, Any]) -> str:
    return f"{collection.path} record {number + 1} (id '{record.get('id')}')"


#: Navigation properties: entities that arrive inside another ($expand=*), stored in their own sets.
EXPANDED = tuple(sorted({nav.name for es in ENTITY_SETS for nav in es.navigations}))


def _without_nulls(record: dict[str, Any]) -> dict[str, Any]:
    """Drop null properties: stored, an absent property reads back as the null it was.

    An upstream serves null for properties it never had, non-nullable ones included (a record
    imported there without them); storing them as absent keeps the copy answering the same.
    """
    kept = {key: value for key, value in record.items() if value is not None}
    for name in EXPANDED:
        value = kept.get(name)
        if isinstance(value, dict):
            kept[name] = _without_nulls(value)
        elif isinstance(value, list):
            kept[name] = [_without_nulls(v) if isinstance(v, dict) else v for v in value]
    return kept


def _apply(anonymizer: Anonymizer | None, record: dict[str, Any]) -> dict[str, Any]:
    record = _without_nulls(record)
    if anonymizer is None:
        return record
    rewritten: dict[str, Any] = anonymizer.record(record)
    return rewritten
