"""Import Graph JSON into the store: stream records from a file, validate, upsert them at once.

``read_records`` accepts a JSON array, a Graph collection (``{"value": [...]}``) or NDJSON and never
holds more than one record and one read buffer. ``import_records`` checks every record against the
EDM (:meth:`Store.to_row`) and upserts by key within one tenant; one bad record means nothing is
written. Expanded navigation members (PIM ``$expand=*``, incidents with ``alerts``) go to their
own sets.
"""

from __future__ import annotations

import collections
import contextlib
import json
import multiprocessing
import os
import re
import sqlite3
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

import orjson
import psycopg
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError

from alertgraph.schema.endpoints import BY_NAME, ENTITY_SETS, EntitySet
from alertgraph.store.database import Store, quote_name, uses_citus
from alertgraph.store.loader import (
    MAX_DEPTH,
    TOO_DEEP,
    Batch,
    RowCodec,
    TableWriter,
    Validator,
    table_is_empty,
)
from alertgraph.store.transaction import tick

#: Collections a file can be imported into (contained and fixed sets arrive inside these).
IMPORT_PATHS = (
    "security/alerts_v2",
    "security/incidents",
    "security/partner/securityAlerts",
    "identityGovernance/roleManagementAlerts/alerts",
)
BATCH_SIZE = 1000
MAX_LISTED = 20
CHUNK = 1 << 20
#: NDJSON files from this size on are validated by a process per core (a pool costs ~1 s to start).
PARALLEL_MIN_BYTES = 16 << 20
PARALLEL_CHUNK = 2 << 20  # bytes of NDJSON one worker validates at a time
SQLITE_IMPORT_CACHE_KIB = 256 << 10

_WHITESPACE = re.compile(r"[ \t\n\r]*")
_NESTING = re.compile(r'"(?:[^"\\]|\\.)*"|[\[\]{}]')  # strings are skipped whole
_DECODER = json.JSONDecoder()


class ImportFailed(Exception):
    """The import wrote nothing; ``problems`` lists the first few reasons, ``total`` counts all."""

    def __init__(self, problems: list[str], total: int | None = None) -> None:
        self.problems = problems[:MAX_LISTED]
        self.total = len(problems) if total is None else total
        more = self.total - len(self.problems)
        lines = [f"  {problem}" for problem in self.problems]
        if more > 0:
            lines.append(f"  ... and {more} more")
        noun = "problem" if self.total == 1 else "problems"
        super().__init__(f"{self.total} {noun}; nothing was imported:\n" + "\n".join(lines))


@dataclass(slots=True)
class ImportResult:
    """What an import wrote: input records read and rows upserted per entity set name."""

    into: str
    records: int = 0
    counts: dict[str, int] = field(default_factory=dict)


# --- reading ------------------------------------------------------------------------------------


class _Reader:
    """A sliding window over a text stream that decodes one JSON value at a time."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.buf = ""
        self.pos = 0
        self.eof = False
        self.line = 1  # line number at ``counted``
        self.counted = 0  # buffer position up to which newlines are counted
        self.column_base = 0  # characters of the buffer's first line that were dropped

    def fill(self) -> bool:
        """Drop what was consumed and read another chunk; False at end of input."""
        if self.pos:
            self.line += self.buf.count("\n", self.counted, self.pos)
            last = self.buf.rfind("\n", 0, self.pos)
            self.column_base = self.pos - last - 1 if last >= 0 else self.column_base + self.pos
            self.buf = self.buf[self.pos :]
            self.pos = self.counted = 0
        if self.eof:
            return False
        try:
            chunk = self.stream.read(CHUNK)
        except UnicodeDecodeError as exc:
            line = self.line + self.buf.count("\n", self.counted)
            raise ImportFailed(
                [f"after line {line}: the file is not UTF-8 text ({exc.reason}); save it as UTF-8"]
            ) from None
        if not chunk:
            self.eof = True
            return False
        self.buf += chunk
        return True

    def peek(self) -> str:
        """The next character that is not whitespace ("" at end of input), left unconsumed."""
        while True:
            match = _WHITESPACE.match(self.buf, self.pos)
            assert match is not None
            self.pos = match.end()
            if self.pos < len(self.buf):
                return self.buf[self.pos]
            if not self.fill():
                return ""

    def line_here(self) -> int:
        self.line += self.buf.count("\n", self.counted, self.pos)
        self.counted = self.pos
        return self.line

    def decode(self, where: str, depth: int = 0) -> Any:
        """The next JSON value; ``depth``: the arrays and objects of its record it is inside."""
        self.peek()
        while True:
            try:
                value, end = _DECODER.raw_decode(self.buf, self.pos)
            except json.JSONDecodeError as exc:
                if not self.eof:  # maybe just cut off by the buffer: retry with more input
                    self.fill()
                    continue
                raise self.error(where, exc.pos, f"invalid JSON: {exc.msg}") from None
            except RecursionError:  # the decoder recurses per level; more input can't help
                place = _too_deep_at(self.buf, self.pos, depth)
                raise self.error(where, place, TOO_DEEP) from None
            # A value that ends at the buffer's end (a number) may continue in the next chunk.
            if end == len(self.buf) and not self.eof:
                self.fill()
                continue
            self.pos = end
            return value

    def decode_line(self, where: str) -> Any:
        """One NDJSON record: orjson on the line when it is whole, the general path otherwise."""
        newline = self.buf.find("\n", self.pos)
        while newline < 0 and not self.eof:
            if not self.fill():
                break
            newline = self.buf.find("\n", self.pos)
        end = newline if newline >= 0 else len(self.buf)
        try:
            value = orjson.loads(self.buf[self.pos : end])
        except orjson.JSONDecodeError:
            return self.decode(where)  # a record spread over lines, or bad JSON: exact position
        self.pos = end
        return value

    def expect(self, chars: str, where: str, what: str) -> str:
        found = self.peek()
        if found == "" or found not in chars:
            shown = f"'{found}'" if found else "the end of the input"
            raise self.error(where, self.pos, f"expected {what}, found {shown}")
        self.pos += 1
        return found

    def error(self, where: str, pos: int, message: str) -> ImportFailed:
        line = self.line + self.buf.count("\n", self.counted, pos)
        last = self.buf.rfind("\n", 0, pos)
        column = pos - last if last >= 0 else pos + 1 + self.column_base
        place = f"line {line}, column {column}"
        prefix = f"{where} ({place})" if where and where != f"line {line}" else place
        return ImportFailed([f"{prefix}: {message}"])


def _too_deep_at(text: str, start: int, depth: int) -> int:
    """Where the JSON value at ``start``, ``depth`` levels deep in its record, opens an array or
    object deeper than MAX_DEPTH."""
    outer = depth
    for token in _NESTING.finditer(text, start):
        bracket = token.group()
        if bracket in "[{":
            depth += 1
            if depth > MAX_DEPTH:
                return token.start()
        elif bracket in "]}":
            depth -= 1
            if depth <= outer:
                break
    return start


def read_records(path: Path) -> Iterator[tuple[str, dict[str, Any]]]:
    """Yield ``(where, record)`` from a JSON array, a Graph collection or NDJSON file.

    ``where`` is "record N" (0-based) inside an array or collection, "line N" in NDJSON. The format
    is detected from the content. Raises :class:`ImportFailed` naming the place of bad JSON.
    """
    with open(path, encoding="utf-8-sig", newline="") as stream:
        yield from _read(_Reader(stream))


def _read(reader: _Reader) -> Iterator[tuple[str, dict[str, Any]]]:
    first = reader.peek()
    if first == "":
        return
    if first == "[":
        reader.pos += 1
        yield from _array(reader)
        _expect_end(reader)
        return
    if first != "{":
        raise reader.error("", reader.pos, "expected a JSON array, a JSON object or NDJSON")
    # An object: either a Graph collection ({"value": [...]}) or the first NDJSON record. Read it
    # member by member so that a collection's value array streams instead of loading whole.
    where = f"line {reader.line_here()}"
    reader.pos += 1
    members: dict[str, Any] = {}
    collection = False
    if reader.peek() == "}":
        reader.pos += 1
    else:
        while True:
            if reader.peek() != '"':
                raise reader.error(where, reader.pos, "expected a member name in double quotes")
            key = reader.decode(where)
            reader.expect(":", where, "':' after a member name")
            if key == "value" and reader.peek() == "[" and not collection:
                reader.pos += 1
                collection = True
                yield from _array(reader)
            else:
                members[key] = reader.decode(where, depth=1)
            if reader.expect(",}", where, "',' or '}'") == "}":
                break
    if collection:
        _expect_end(reader)
        return
    yield where, members
    while reader.peek():
        where = f"line {reader.line_here()}"
        value = reader.decode_line(where)
        yield where, _object(reader, value, where)


def _array(reader: _Reader) -> Iterator[tuple[str, dict[str, Any]]]:
    if reader.peek() == "]":
        reader.pos += 1
        return
    index = 0
    while True:
        where = f"record {index}"
        reader.peek()
        value = reader.decode(where)
        yield where, _object(reader, value, where)
        if reader.expect(",]", f"after record {index}", "',' or ']'") == "]":
            return
        index += 1


def _object(reader: _Reader, value: Any, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ImportFailed([f"{where}: expected a JSON object, got {type(value).__name__}"])
    return value


def _expect_end(reader: _Reader) -> None:
    found = reader.peek()
    if found:
        raise reader.error("", reader.pos, f"unexpected '{found}' after the end of the JSON value")


# --- validating and writing ---------------------------------------------------------------------


class _Restart(Exception):
    """A first load met a key twice: start again with upserts (the transaction was lost)."""


class _Unreadable(Exception):
    """A line is not one JSON object (or the workers failed): read the file in this process.

    The general reader names the place of bad JSON and reads records spread over lines.
    """


_DB_ERRORS: tuple[type[BaseException], ...] = (DBAPIError, sqlite3.Error, psycopg.Error)


def _validated(
    store: Store, root: EntitySet, tenant: str, records: Iterable[tuple[str, dict[str, Any]]]
) -> Iterator[Batch]:
    """Batches of BATCH_SIZE validated records, validated in this process."""
    validator = Validator(store, root, tenant, MAX_LISTED)
    batch = Batch()
    try:
        for where, record in records:
            validator.add(batch, where, record)
            if batch.records >= BATCH_SIZE:
                yield batch
                batch = Batch()
    except ImportFailed as exc:  # unreadable input: report it after the problems seen so far
        for problem in exc.problems:
            validator.problem(batch, problem)
        batch.failed += 1
    yield batch


def _load(
    store: Store,
    root: EntitySet,
    tenant: str,
    batches: Callable[[], Iterator[Batch]],
    progress: Callable[[int], None] | None,
    *,
    restartable: bool = True,
    conn: Connection | None = None,
    own_store: bool = False,
) -> ImportResult:
    """Write ``batches`` in one transaction; restart once with upserts if a first load must.

    ``own_store``: no one else in this process uses ``store`` (the import command), so a first
    load into SQLite may take the database for itself (:func:`_rollback_journal`).
    """
    if conn is not None:  # the caller's transaction: plain upserts, nothing to restart
        return _load_once(store, root, batches(), progress, allow_freeze=False, conn=conn)
    try:
        return _load_once(
            store, root, batches(), progress, allow_freeze=restartable, own_store=own_store
        )
    except _Restart:
        return _load_once(store, root, batches(), progress, allow_freeze=False)


def _load_once(
    store: Store,
    root: EntitySet,
    batches: Iterator[Batch],
    progress: Callable[[int], None] | None,
    *,
    allow_freeze: bool,
    conn: Connection | None = None,
    own_store: bool = False,
) -> ImportResult:
    result = ImportResult(into=root.path)
    writers: dict[str, TableWriter] = {}
    allow_freeze = allow_freeze and _may_freeze(store)
    if conn is not None:
        _fill(store, root, conn, batches, progress, result, writers, allow_freeze)
        return result
    sqlite_db = store.dialect == "sqlite"
    take_file = sqlite_db and own_store and allow_freeze and _sqlite_file(store)
    if take_file:
        store.engine.dispose()  # pooled idle connections would keep the database shared
    with store.engine.connect() as own:
        dbapi = own.connection.driver_connection
        journal = take_file and _rollback_journal(dbapi, store.tables[root.name].name)
        try:
            with own.begin():
                if sqlite_db:
                    # A page cache that holds the indexes being filled (the default is 2 MB).
                    own.exec_driver_sql(f"PRAGMA cache_size = -{SQLITE_IMPORT_CACHE_KIB}")
                try:
                    _fill(store, root, own, batches, progress, result, writers, allow_freeze)
                finally:
                    if sqlite_db:
                        own.exec_driver_sql("PRAGMA cache_size = -2000")  # SQLite's default
        finally:
            if journal:
                # Refused only if another connection opened meanwhile: every connection sets
                # WAL as it opens (Store's connect hook), so the database returns to WAL with it.
                with contextlib.suppress(sqlite3.OperationalError):
                    _pragma(dbapi, "PRAGMA journal_mode = WAL")
    _make_ready(store, writers.values())
    return result


def _sqlite_file(store: Store) -> bool:
    """Whether the store is a SQLite file (an in-memory database lives only in its connection,
    so its pool must not be disposed of)."""
    database = store.engine.url.database or ""
    return database not in ("", ":memory:") and "mode=memory" not in str(store.engine.url)


def _pragma(dbapi: Any, sql: str) -> Any:
    cursor = dbapi.cursor()
    try:
        row = cursor.execute(sql).fetchone()
    finally:
        cursor.close()
    return None if row is None else row[0]


def _rollback_journal(dbapi: Any, table: str) -> bool:
    """Switch SQLite to a rollback journal for a first load; True if it switched.

    In WAL mode every page of a first load is written twice: to the WAL, then again into the
    database at the checkpoint after the commit (a million alerts: 7.7 GB each time). With a
    rollback journal, pages added to the file are written once and journaled not at all (there
    was nothing there to restore): 1.2-1.5x the rate at 50,000 alerts (docs/performance.md).
    Only for a first load (the table empty at the start: upserts into a full table journal every
    page they change either way), and only when no other connection has the database open:
    SQLite refuses the switch otherwise and the import stays in WAL mode. The connection goes
    back to WAL after the commit; until then other processes opening the database wait, as
    readers of a table a PostgreSQL first load fills wait for its commit.
    """
    if not table_is_empty(dbapi, table):
        return False
    if _pragma(dbapi, "PRAGMA journal_mode") != "wal":
        return False
    timeout = _pragma(dbapi, "PRAGMA busy_timeout")
    _pragma(dbapi, "PRAGMA busy_timeout = 0")  # another connection: give up at once, stay WAL
    try:
        return bool(_pragma(dbapi, "PRAGMA journal_mode = DELETE") == "delete")
    except sqlite3.OperationalError:  # "database is locked": the database is shared
        return False
    finally:
        _pragma(dbapi, f"PRAGMA busy_timeout = {int(timeout)}")


def _fill(
    store: Store,
    root: EntitySet,
    conn: Connection,
    batches: Iterator[Batch],
    progress: Callable[[int], None] | None,
    result: ImportResult,
    writers: dict[str, TableWriter],
    allow_freeze: bool,
) -> None:
    """Validate-and-write every batch in ``conn``; ImportFailed (nothing kept) on any problem."""
    problems: list[str] = []
    total = 0
    codecs: dict[str, RowCodec] = {}
    try:
        for batch in batches:
            result.records += batch.records
            if batch.problem_count:
                problems.extend(batch.problems[: MAX_LISTED - len(problems)])
                total += batch.problem_count
            if not total:
                _write(store, conn, batch, writers, codecs, allow_freeze)
            if progress is not None:
                progress(result.records)
    finally:
        close = getattr(batches, "close", None)
        if close is not None:
            close()
    if total:
        raise ImportFailed(problems, total=total)
    for writer in writers.values():
        writer.finish()
    # the tenant's data changed: move its change clock in the same transaction, so a count
    # remembered before this import is not given again once it is committed (odata.counts)
    for tenant in sorted({writer.codec.tenant for writer in writers.values()}):
        tick(conn, tenant)
    result.counts = {name: writer.written for name, writer in writers.items()}
    if root.name not in result.counts:
        result.counts = {root.name: 0, **result.counts}


def _write(
    store: Store,
    conn: Connection,
    batch: Batch,
    writers: dict[str, TableWriter],
    codecs: dict[str, RowCodec],
    allow_freeze: bool,
) -> None:
    try:
        for name, rows in batch.tables.items():
            writer = writers.get(name)
            if writer is None:
                codec = codecs.get(name) or RowCodec(store.tables[name], store.dialect, rows.tenant)
                writer = writers[name] = TableWriter(conn, codec, allow_freeze=allow_freeze)
            writer.write(rows)
    except psycopg.errors.UniqueViolation as exc:
        if any(writer.frozen for writer in writers.values()):
            raise _Restart from exc
        raise _refused(batch, exc) from exc
    except _DB_ERRORS as exc:
        # Values the EDM allows but a database refuses.
        raise _refused(batch, exc) from exc


def _refused(batch: Batch, exc: BaseException) -> ImportFailed:
    orig = getattr(exc, "orig", None) or exc
    reason = (str(orig).strip().splitlines() or [type(orig).__name__])[0]
    span = batch.first if batch.first == batch.last else f"{batch.first} to {batch.last}"
    return ImportFailed([f"{span}: the database refused a record: {reason}"])


def _may_freeze(store: Store) -> bool:
    """Whether a first load may take its shortcuts (deferred indexes; COPY FREEZE on PostgreSQL).

    Not on Citus, which distributes tables and copies on its own.
    """
    if store.dialect != "postgresql":
        return True
    with store.engine.connect() as conn:
        return not uses_citus(conn)


def _make_ready(store: Store, writers: Iterable[TableWriter]) -> None:
    """Leave PostgreSQL planned and index-only-scan ready: statistics, and the visibility map.

    Rows loaded with COPY FREEZE are already all-visible, so ANALYZE is enough; upserted rows
    need a VACUUM to set the visibility map (without it a ``$count`` visits every heap row). A
    VACUUM reads the whole table, so it runs when the import wrote at least a tenth of the
    table's rows; a smaller import is left to autovacuum, as any other write is.
    """
    if store.dialect != "postgresql":
        return
    with store.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        for writer in writers:
            if not writer.written:
                continue
            table = quote_name(writer.table.name)
            if writer.frozen:
                conn.exec_driver_sql("ANALYZE " + table)
                continue
            rows = conn.exec_driver_sql(
                "SELECT reltuples FROM pg_class WHERE oid = to_regclass(%(t)s)", {"t": table}
            ).scalar()
            if rows is None or writer.written >= 0.1 * max(float(rows), 1.0):
                conn.exec_driver_sql("VACUUM (ANALYZE) " + table)


# --- NDJSON on every core -----------------------------------------------------------------------

_WORKER: Validator | None = None


def _start_worker(root: str, tenant: str, dialect: str) -> None:
    global _WORKER
    from sqlalchemy import create_engine

    # an engine of the target's dialect that never connects: rows (their _json text included)
    # must be built as that database will give them back
    url = "postgresql+psycopg://" if dialect == "postgresql" else "sqlite://"
    store = Store(create_engine(url))
    _WORKER = Validator(store, BY_NAME[root], tenant, MAX_LISTED, dialect=dialect)


def _validate_lines(first_line: int, blob: bytes) -> Batch | None:
    """Validate the NDJSON lines of ``blob`` (numbered from ``first_line``); None if unreadable."""
    validator = _WORKER
    assert validator is not None
    batch = Batch()
    loads = orjson.loads
    for offset, line in enumerate(blob.split(b"\n")):
        if first_line == 1 and offset == 0 and line.startswith(b"\xef\xbb\xbf"):
            line = line[3:]
        if not line.strip():
            continue
        try:
            record = loads(line)
        except orjson.JSONDecodeError:
            return None
        if not isinstance(record, dict):
            return None
        validator.add(batch, f"line {first_line + offset}", record)
    validator.finish(batch)
    return batch


def _looks_like_ndjson(path: Path) -> bool:
    """One JSON object per line, as far as the first line tells (the workers check the rest)."""
    with open(path, "rb") as stream:
        head = stream.read(CHUNK)
    first = head.removeprefix(b"\xef\xbb\xbf").lstrip(b" \t\r\n")
    line = first.split(b"\n", 1)[0]
    if not line.startswith(b"{"):
        return False
    try:
        record = orjson.loads(line)
    except orjson.JSONDecodeError:
        return False
    return isinstance(record, dict) and not isinstance(record.get("value"), list)


def _parallel(
    store: Store, root: EntitySet, tenant: str, path: Path, workers: int
) -> Iterator[Batch]:
    """Batches validated by ``workers`` processes, in file order; raises _Unreadable."""
    context = multiprocessing.get_context("spawn")
    pool = ProcessPoolExecutor(
        workers,
        mp_context=context,
        initializer=_start_worker,
        initargs=(root.name, tenant, store.dialect),
    )
    pending: collections.deque[Future[Batch | None]] = collections.deque()
    try:
        with open(path, "rb") as stream:
            line = 1
            rest = b""
            while True:
                chunk = stream.read(PARALLEL_CHUNK)
                blob = rest + chunk
                if chunk:
                    cut = blob.rfind(b"\n") + 1
                    blob, rest = blob[:cut], blob[cut:]
                if blob:
                    pending.append(pool.submit(_validate_lines, line, blob))
                    line += blob.count(b"\n")
                while pending and (len(pending) > 2 * workers or not chunk or pending[0].done()):
                    try:
                        batch = pending.popleft().result()
                    except BrokenProcessPool:
                        # A worker could not start (a script that spawns without a main guard,
                        # no /dev/shm): validate in this process instead.
                        raise _Unreadable from None
                    if batch is None:
                        raise _Unreadable
                    yield batch
                if not chunk and not pending:
                    return
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def _default_workers(path: Path) -> int:
    """A process per core for a large NDJSON file, when the machine has cores to spare.

    On a machine whose every core is already busy (load average at least the number of cores) the
    workers would only share the CPU time one process gets, and pay for starting and for passing
    rows: measured 2x slower there (docs/performance.md), so the import validates in its own
    process. Below that they pay: the load average lags a minute behind, and a stricter rule
    turned the pool off on an idle 2-core machine just after a test run (load 1.5).
    """
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    if path.stat().st_size < PARALLEL_MIN_BYTES or not cores or cores < 2:
        return 0
    if os.getloadavg()[0] >= cores:
        return 0
    return cores


def _entity_set_for(into: str) -> EntitySet:
    path = into.strip("/")
    for entity_set in ENTITY_SETS:
        if entity_set.path == path and path in IMPORT_PATHS:
            return entity_set
    raise ValueError(f"can't import into '{into}'; use one of: {', '.join(IMPORT_PATHS)}")


def import_records(
    store: Store,
    into: str,
    records: Iterable[tuple[str, dict[str, Any]]],
    *,
    tenant: str,
    progress: Callable[[int], None] | None = None,
    conn: Connection | None = None,
) -> ImportResult:
    """Validate and upsert ``records`` into the collection at path ``into`` for ``tenant``.

    Everything happens in one transaction: on any invalid record (or bad JSON from the reader)
    nothing is written and :class:`ImportFailed` lists the problems. Re-importing the same records
    leaves the same rows. ``progress`` receives the number of records handled so far. On
    PostgreSQL the tables written are analyzed (and vacuumed where needed) afterwards. With
    ``conn``, the caller's transaction is used (several imports commit or fail together; no
    first-load shortcuts, and the caller leaves the statistics to autovacuum).
    """
    root = _entity_set_for(into)
    # A first load on PostgreSQL starts over if a key comes twice: that needs the records again.
    again = isinstance(records, list | tuple)
    return _load(
        store,
        root,
        tenant,
        lambda: _validated(store, root, tenant, records),
        progress,
        restartable=again,
        conn=conn,
    )


def import_file(
    store: Store,
    path: Path,
    into: str,
    *,
    tenant: str,
    progress: Callable[[int], None] | None = None,
    workers: int | None = None,
) -> ImportResult:
    """Read ``path`` (array, collection or NDJSON) and import it; see :func:`import_records`.

    NDJSON files of some size are validated by ``workers`` processes (default: one per core)
    while this process writes; other forms, and NDJSON with a record spread over lines or bad
    JSON, take the general reader, which names the place of a problem. ``store`` is taken to be
    the caller's alone: on SQLite a first load closes its idle pooled connections and, if no
    other connection has the database open, writes through a rollback journal until it commits.
    """
    root = _entity_set_for(into)
    count = _default_workers(path) if workers is None else workers
    if count > 0 and _looks_like_ndjson(path):
        try:
            return _load(
                store,
                root,
                tenant,
                lambda: _parallel(store, root, tenant, path, count),
                progress,
                own_store=True,
            )
        except _Unreadable:
            pass
    return _load(
        store,
        root,
        tenant,
        lambda: _validated(store, root, tenant, read_records(path)),
        progress,
        own_store=True,
    )
