"""Import Graph JSON into the store: stream records from a file, validate, upsert them at once.

``read_records`` accepts a JSON array, a Graph collection (``{"value": [...]}``) or NDJSON and never
holds more than one record and one read buffer. ``import_records`` checks every record against the
EDM (:meth:`Store.to_row`) and upserts by key within one tenant; one bad record means nothing is
written. Expanded navigation members (PIM ``$expand=*``, incidents with ``alerts``) go to their
own sets.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

import orjson
from sqlalchemy import Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError

from alertgraph.schema.endpoints import BY_NAME, ENTITY_SETS, EntitySet, Navigation
from alertgraph.store.database import PARENT, TENANT, RecordError, Store

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

_WHITESPACE = re.compile(r"[ \t\n\r]*")
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

    def decode(self, where: str) -> Any:
        self.peek()
        while True:
            try:
                value, end = _DECODER.raw_decode(self.buf, self.pos)
            except json.JSONDecodeError as exc:
                if not self.eof:  # maybe just cut off by the buffer: retry with more input
                    self.fill()
                    continue
                raise self.error(where, exc.pos, f"invalid JSON: {exc.msg}") from None
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
                members[key] = reader.decode(where)
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


# --- writing ------------------------------------------------------------------------------------


class _Writer:
    """Upserts the rows of one table in batches; the last of several rows with one key wins."""

    def __init__(self, store: Store, entity_set: EntitySet, tenant: str) -> None:
        self.entity_set = entity_set
        self.table: Table = store.tables[entity_set.name]
        self.tenant = tenant
        self.key = [column.name for column in self.table.primary_key.columns]
        self.template: dict[str, Any] = {column.name: None for column in self.table.columns}
        insert = postgresql.insert if store.dialect == "postgresql" else sqlite.insert
        statement = insert(self.table)
        self.statement = statement.on_conflict_do_update(
            index_elements=self.key,
            set_={name: statement.excluded[name] for name in self.template if name not in self.key},
        )
        self.pending: dict[tuple[Any, ...], dict[str, Any]] = {}
        self.replace_parents: set[str] = set()
        self.written = 0

    def add(self, row: dict[str, Any]) -> None:
        full = self.template.copy()
        full.update(row)
        full[TENANT] = self.tenant
        self.pending[tuple(full[name] for name in self.key)] = full

    def flush(self, conn: Connection) -> None:
        if self.replace_parents:
            # An expanded collection is the whole truth about its parent: drop members it lacks.
            table = self.table
            conn.execute(
                table.delete().where(
                    table.c[TENANT] == self.tenant,
                    table.c[PARENT].in_(sorted(self.replace_parents)),
                )
            )
            self.replace_parents.clear()
        if self.pending:
            conn.execute(self.statement, list(self.pending.values()))
            self.written += len(self.pending)
            self.pending.clear()


class _Importer:
    def __init__(self, store: Store, root: EntitySet, tenant: str) -> None:
        self.store = store
        self.root = root
        self.tenant = tenant
        self.writers: dict[str, _Writer] = {}
        self.problems: list[str] = []  # the first MAX_LISTED
        self.problem_count = 0
        self.failed = 0
        self.batch_start: str | None = None  # where the records of the pending batch begin
        self.batch_end = ""
        self.writer(root)

    def writer(self, entity_set: EntitySet) -> _Writer:
        found = self.writers.get(entity_set.name)
        if found is None:
            found = self.writers[entity_set.name] = _Writer(self.store, entity_set, self.tenant)
        return found

    def add(self, where: str, record: dict[str, Any]) -> None:
        if self.batch_start is None:
            self.batch_start = where
        self.batch_end = where
        rows: list[tuple[_Writer, dict[str, Any]]] = []
        before = self.problem_count
        self.collect(self.root, where, "", record, None, rows)
        if self.problem_count > before:
            self.failed += 1
            return
        if self.failed:
            return  # nothing will be written; keep validating to report every problem
        for writer, row in rows:
            writer.add(row)

    def collect(
        self,
        entity_set: EntitySet,
        where: str,
        path: str,
        record: dict[str, Any],
        parent: str | None,
        rows: list[tuple[_Writer, dict[str, Any]]],
    ) -> None:
        nested: list[tuple[Navigation, Any]] = []
        if entity_set.navigations and isinstance(record, dict):
            record = dict(record)
            for nav in entity_set.navigations:
                if nav.name in record:
                    nested.append((nav, record.pop(nav.name)))
        try:
            row = self.store.to_row(entity_set, record, where=path)
        except RecordError as exc:
            for problem in exc.problems:
                self.problem(f"{where}: {problem}")
            return
        if parent is not None:
            row[PARENT] = parent
        rows.append((self.writer(entity_set), row))
        for nav, value in nested:
            target = BY_NAME[nav.target]
            member = f"{path}.{nav.name}" if path else nav.name
            if value is None:
                continue
            key = record.get(nav.local)
            contained = nav.remote == PARENT
            if nav.collection:
                if not isinstance(value, list):
                    self.problem(f"{where}: {member}: expected a JSON array")
                    continue
                if contained and isinstance(key, str):
                    self.writer(target).replace_parents.add(key)
                for index, item in enumerate(value):
                    if not contained and isinstance(item, dict) and isinstance(key, str):
                        item = {**item, nav.remote: item.get(nav.remote, key)}
                    self.collect(
                        target,
                        where,
                        f"{member}[{index}]",
                        item,
                        key if contained else None,
                        rows,
                    )
            else:
                self.collect(target, where, member, value, None, rows)

    def problem(self, text: str) -> None:
        self.problem_count += 1
        if len(self.problems) < MAX_LISTED:
            self.problems.append(text)

    def flush(self, conn: Connection) -> None:
        start, self.batch_start = self.batch_start, None
        if self.failed:
            return
        try:
            for writer in self.writers.values():
                writer.flush(conn)
        except DBAPIError as exc:
            # Values the EDM allows but a database refuses (PostgreSQL: NUL characters in text).
            reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
            span = start if start == self.batch_end else f"{start} to {self.batch_end}"
            raise ImportFailed([f"{span}: the database refused a record: {reason}"]) from exc


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
    leaves the same rows. ``progress`` receives the number of records handled so far. With
    ``conn``, the caller's transaction is used (several imports commit or fail together).
    """
    if conn is None:
        with store.engine.begin() as own:
            return import_records(store, into, records, tenant=tenant, progress=progress, conn=own)
    root = _entity_set_for(into)
    importer = _Importer(store, root, tenant)
    result = ImportResult(into=root.path)
    count = 0
    try:
        for where, record in records:
            importer.add(where, record)
            count += 1
            if count % BATCH_SIZE == 0:
                importer.flush(conn)
                if progress is not None:
                    progress(count)
    except ImportFailed as exc:  # unreadable input: report it after the problems seen so far
        for problem in exc.problems:
            importer.problem(problem)
        importer.failed += 1
    importer.flush(conn)
    if importer.failed:
        raise ImportFailed(importer.problems, total=importer.problem_count)
    if progress is not None:
        progress(count)
    result.records = count
    result.counts = {name: writer.written for name, writer in importer.writers.items()}
    return result


def import_file(
    store: Store,
    path: Path,
    into: str,
    *,
    tenant: str,
    progress: Callable[[int], None] | None = None,
) -> ImportResult:
    """Read ``path`` (array, collection or NDJSON) and import it; see :func:`import_records`."""
    return import_records(store, into, read_records(path), tenant=tenant, progress=progress)
