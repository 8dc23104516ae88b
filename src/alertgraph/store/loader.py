"""Bulk loading behind the importer: records → validated rows → encoded batches → the database.

:mod:`alertgraph.store.importer` reads files and decides what runs where; this module validates
records with :meth:`Store.to_row` (expanded navigation members go to their own sets), encodes each
row once for its database (JSON columns serialized, PostgreSQL ``COPY`` text), and writes a batch
with one ``executemany`` (SQLite) or one ``COPY`` (PostgreSQL). The validating half runs unchanged
in the worker processes that check NDJSON files on every core.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import orjson
from sqlalchemy import JSON, Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Dialect

from alertgraph.schema.endpoints import BY_NAME, EntitySet, Navigation
from alertgraph.store.database import (
    PARENT,
    STORED_JSON,
    TENANT,
    RecordError,
    Store,
    quote_name,
)
from alertgraph.store.fastrow import FastRows

#: PostgreSQL text and jsonb cannot hold U+0000. SQLite can, but the import refuses it there too,
#: as the HTTP API does on both: a file imports, or fails, the same way on either database.
NUL_REFUSED = "text can't contain NUL (\\u0000)"
#: orjson serializes at most this many nested arrays and objects (JSON columns, ``_json``)
MAX_DEPTH = 254
TOO_DEEP = f"the JSON nests too deeply (more than {MAX_DEPTH} levels of arrays and objects)"
#: an escaped NUL in JSON text: ``\\u0000`` after an even number of backslashes
_NUL_ESCAPE = re.compile(r"(?<!\\)(?:\\\\)*\\u0000")


def _dialect(name: str) -> Dialect:
    if name == "postgresql":
        return postgresql.psycopg.dialect()  # type: ignore[no-untyped-call]
    return sqlite.pysqlite.dialect()


class RowCodec:
    """One table's rows as tuples in column order, encoded as the table's database stores them.

    JSON columns are serialized with orjson exactly as the engine's ``json_serializer`` does (a
    Python ``None`` becomes JSON ``null``, as SQLAlchemy's JSON type writes it); other columns go
    through the dialect's bind processors, if any.
    """

    def __init__(self, table: Table, dialect_name: str, tenant: str) -> None:
        dialect = _dialect(dialect_name)
        self.postgresql = dialect_name == "postgresql"
        self.table = table
        self.tenant = tenant
        self.names = [column.name for column in table.columns]
        self.key_positions = [self.names.index(c.name) for c in table.primary_key.columns]
        self.json_position = self.names.index(STORED_JSON) if STORED_JSON in self.names else None
        self.converters: list[tuple[str, Callable[[Any], Any] | None, bool]] = []
        for column in table.columns:
            is_json = isinstance(column.type, JSON)
            process = None if is_json else column.type.dialect_impl(dialect).bind_processor(dialect)
            self.converters.append((column.name, process, is_json))

    def encode(self, row: dict[str, Any]) -> tuple[Any, ...]:
        values: list[Any] = []
        append = values.append
        for name, process, is_json in self.converters:
            value = row.get(name)
            if is_json:
                append(orjson.dumps(value).decode())
            elif process is not None and value is not None:
                append(process(value))
            else:
                append(value)
        values[0] = self.tenant  # _tenant leads every table
        return tuple(values)

    def key(self, values: tuple[Any, ...]) -> tuple[Any, ...]:
        return tuple(values[i] for i in self.key_positions)

    def refused(self, values: tuple[Any, ...]) -> bool:
        """Whether a value holds NUL: raw in text, escaped in a JSON column's text."""
        # Every value a row stores is also in its _json text, where orjson escapes a NUL: one
        # search there clears a row (a test checks each string of every set), where testing
        # each column's string took 4x longer, ~5% of an import. A hit is looked at exactly.
        if self.json_position is not None:
            text = values[self.json_position]
            if type(text) is str and "\\u0000" not in text:
                return False
        if not any(type(v) is str and ("\x00" in v or "\\u0000" in v) for v in values):
            return False
        for value, (_, _, is_json) in zip(values, self.converters, strict=True):
            if type(value) is str and (
                "\x00" in value or (is_json and _NUL_ESCAPE.search(value) is not None)
            ):
                return True
        return False  # only a literal backslash-u0000 in text, which is fine

    def copy_text(self, rows: list[tuple[Any, ...]]) -> bytes:
        """Rows in PostgreSQL's ``COPY ... FROM STDIN`` text format."""
        lines: list[str] = []
        for values in rows:
            fields: list[str] = []
            for value in values:
                if value is None:
                    fields.append("\\N")
                elif value is True:
                    fields.append("t")
                elif value is False:
                    fields.append("f")
                elif type(value) is str:
                    if "\\" in value or "\t" in value or "\n" in value or "\r" in value:
                        value = (
                            value.replace("\\", "\\\\")
                            .replace("\t", "\\t")
                            .replace("\n", "\\n")
                            .replace("\r", "\\r")
                        )
                    fields.append(value)
                else:
                    fields.append(repr(value) if type(value) is float else str(value))
            lines.append("\t".join(fields))
        lines.append("")
        return "\n".join(lines).encode()


@dataclass(slots=True)
class TableBatch:
    """The rows of one table from one batch of records, keyed so the last of a key wins."""

    tenant: str
    rows: dict[tuple[Any, ...], tuple[Any, ...]] = field(default_factory=dict)
    replace_parents: set[str] = field(default_factory=set)
    copy: bytes | None = None  # the rows as COPY text, made where they were validated
    count: int = 0


@dataclass(slots=True)
class Batch:
    """What validating a run of records produced: rows per set, or the problems found."""

    records: int = 0
    first: str | None = None  # where the batch's first and last records are
    last: str = ""
    tables: dict[str, TableBatch] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)  # at most ``limit`` of them
    problem_count: int = 0
    failed: int = 0  # records with problems


class Validator:
    """Validates records of one collection for one tenant and encodes their rows."""

    def __init__(
        self, store: Store, root: EntitySet, tenant: str, limit: int, *, dialect: str = ""
    ) -> None:
        self.store = store
        self.root = root
        self.tenant = tenant
        self.limit = limit
        self.dialect = dialect or store.dialect
        self.codecs: dict[str, RowCodec] = {}
        self.fast = FastRows(store)

    def codec(self, entity_set: EntitySet) -> RowCodec:
        found = self.codecs.get(entity_set.name)
        if found is None:
            table = self.store.tables[entity_set.name]
            found = RowCodec(table, self.dialect, self.tenant)
            self.codecs[entity_set.name] = found
        return found

    def add(self, batch: Batch, where: str, record: dict[str, Any]) -> None:
        """Validate one record into ``batch`` (its rows, or its problems)."""
        if batch.first is None:
            batch.first = where
        batch.last = where
        batch.records += 1
        rows: list[tuple[EntitySet, dict[str, Any]]] = []
        replace: list[tuple[EntitySet, str]] = []
        before = batch.problem_count
        encoded = []
        try:
            self.collect(batch, self.root, where, "", record, None, rows, replace)
            if batch.problem_count == before:
                for entity_set, row in rows:
                    codec = self.codec(entity_set)
                    values = codec.encode(row)
                    if codec.refused(values):
                        self.problem(batch, f"{where}: {NUL_REFUSED}")
                        break
                    encoded.append((entity_set.name, codec, values))
        except RecursionError:  # a value nested deeper than Python recurses
            self.problem(batch, f"{where}: {TOO_DEEP}")
        except orjson.JSONEncodeError as exc:  # a value the EDM allows but JSON text cannot hold
            reason = TOO_DEEP if "ecursion" in str(exc) else f"can't be stored: {exc}"
            self.problem(batch, f"{where}: {reason}")
        if batch.problem_count > before:
            batch.failed += 1
            return
        if batch.failed:
            return  # nothing will be written; keep validating to report every problem
        for entity_set, key in replace:
            found = batch.tables.setdefault(entity_set.name, TableBatch(self.tenant))
            found.replace_parents.add(key)
        for name, codec, values in encoded:
            table = batch.tables.get(name)
            if table is None:
                table = batch.tables[name] = TableBatch(self.tenant)
            table.rows[codec.key(values)] = values

    def collect(
        self,
        batch: Batch,
        entity_set: EntitySet,
        where: str,
        path: str,
        record: dict[str, Any],
        parent: str | None,
        rows: list[tuple[EntitySet, dict[str, Any]]],
        replace: list[tuple[EntitySet, str]],
    ) -> None:
        nested: list[tuple[Navigation, Any]] = []
        if entity_set.navigations and isinstance(record, dict):
            record = dict(record)
            for nav in entity_set.navigations:
                if nav.name in record:
                    nested.append((nav, record.pop(nav.name)))
        row = self.fast.row(entity_set, record) if type(record) is dict else None
        if row is None:  # something the compiled plan leaves to to_row, or a problem
            try:
                row = self.store.to_row(entity_set, record, where=path)
            except RecordError as exc:
                for problem in exc.problems:
                    self.problem(batch, f"{where}: {problem}")
                return
        if parent is not None:
            row[PARENT] = parent
        rows.append((entity_set, row))
        for nav, value in nested:
            target = BY_NAME[nav.target]
            member = f"{path}.{nav.name}" if path else nav.name
            if value is None:
                continue
            key = record.get(nav.local)
            contained = nav.remote == PARENT
            if nav.collection:
                if not isinstance(value, list):
                    self.problem(batch, f"{where}: {member}: expected a JSON array")
                    continue
                if contained and isinstance(key, str):
                    # An expanded collection is the whole truth about its parent.
                    replace.append((target, key))
                for index, item in enumerate(value):
                    if not contained and isinstance(item, dict) and isinstance(key, str):
                        item = {**item, nav.remote: item.get(nav.remote, key)}
                    self.collect(
                        batch,
                        target,
                        where,
                        f"{member}[{index}]",
                        item,
                        key if contained else None,
                        rows,
                        replace,
                    )
            else:
                self.collect(batch, target, where, member, value, None, rows, replace)

    def finish(self, batch: Batch) -> None:
        """Encode the batch's PostgreSQL rows as COPY text here (in the validating process)."""
        if self.dialect != "postgresql" or batch.problem_count:
            return
        for name, table in batch.tables.items():
            table.count = len(table.rows)
            table.copy = self.codecs[name].copy_text(list(table.rows.values()))
            table.rows = {}

    def problem(self, batch: Batch, text: str) -> None:
        batch.problem_count += 1
        if len(batch.problems) < self.limit:
            batch.problems.append(text)


# --- writing ------------------------------------------------------------------------------------


def table_is_empty(dbapi: Any, table: str) -> bool:
    """Whether ``table`` has no row, asked on a DBAPI connection (the cursor is closed at once,
    so on SQLite no read is left open to hold a lock)."""
    cursor = dbapi.cursor()
    try:
        cursor.execute(f"SELECT EXISTS (SELECT 1 FROM {quote_name(table)})")
        return not cursor.fetchone()[0]
    finally:
        cursor.close()


class TableWriter:
    """Writes the batches of one table inside the import's transaction.

    SQLite: one ``executemany`` of an upsert per batch. PostgreSQL: when the table is empty at the
    start (a first load) it is truncated in the transaction and filled with ``COPY ... FREEZE``,
    which writes the rows frozen and sets the visibility map, so index-only scans work at once;
    otherwise each batch is copied into a temporary table and upserted from there.

    On both, a first load drops the table's secondary indexes inside the transaction and builds
    them again in :meth:`finish`, before the commit: one sort per index instead of a million
    scattered insertions. Readers keep seeing the committed table, indexes and all.
    """

    def __init__(self, conn: Connection, codec: RowCodec, *, allow_freeze: bool) -> None:
        self.conn = conn
        self.codec = codec
        self.table = codec.table
        self.written = 0
        self.frozen = False
        self.staged = False
        names = codec.names
        key = [names[i] for i in codec.key_positions]
        self.column_list = ", ".join(quote_name(n) for n in names)
        updates = ", ".join(
            f"{quote_name(n)} = excluded.{quote_name(n)}" for n in names if n not in key
        )
        conflict = f"ON CONFLICT ({', '.join(quote_name(k) for k in key)}) DO UPDATE SET {updates}"
        target = quote_name(self.table.name)
        if codec.postgresql:
            self.stage = quote_name(f"_import_{self.table.name}")
            self.upsert = (
                f"INSERT INTO {target} ({self.column_list}) "
                f"SELECT {self.column_list} FROM {self.stage} {conflict}"
            )
            if allow_freeze and self._empty():
                self.raw("TRUNCATE " + target)
                self.frozen = True
        else:
            marks = ", ".join("?" for _ in names)
            self.upsert = f"INSERT INTO {target} ({self.column_list}) VALUES ({marks}) {conflict}"
        self.deferred: list[str] = []  # CREATE INDEX statements to run in finish()
        if allow_freeze and (self.frozen or self._empty()):
            self._defer_indexes()

    def _defer_indexes(self) -> None:
        if self.codec.postgresql:
            found = self.raw(
                "SELECT i.relname, pg_get_indexdef(i.oid) FROM pg_index x "
                "JOIN pg_class i ON i.oid = x.indexrelid "
                "WHERE x.indrelid = to_regclass(%s) AND NOT x.indisprimary AND NOT x.indisunique",
                (quote_name(self.table.name),),
            ).fetchall()
        else:
            dbapi = self.conn.connection.driver_connection
            if not dbapi.in_transaction:  # type: ignore[union-attr]
                # sqlite3 opens a transaction before DML only; DDL alone would commit at once
                self.raw("BEGIN")
            found = self.raw(
                "SELECT name, sql FROM sqlite_master "
                "WHERE type = 'index' AND tbl_name = ? AND sql IS NOT NULL",
                (self.table.name,),
            ).fetchall()
        for name, definition in found:
            self.raw("DROP INDEX " + quote_name(name))
            self.deferred.append(definition)

    def finish(self) -> None:
        """Build the indexes a first load dropped (in the same transaction)."""
        for definition in self.deferred:
            self.raw(definition)
        self.deferred.clear()

    def raw(self, sql: str, params: Any = None) -> Any:
        cursor = self.conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
        if params is None:
            cursor.execute(sql)
        else:
            cursor.execute(sql, params)
        return cursor

    def _empty(self) -> bool:
        return table_is_empty(self.conn.connection.driver_connection, self.table.name)

    def write(self, batch: TableBatch) -> None:
        if batch.replace_parents:
            table = self.table
            self.conn.execute(
                table.delete().where(
                    table.c[TENANT] == self.codec.tenant,
                    table.c[PARENT].in_(sorted(batch.replace_parents)),
                )
            )
        rows = list(batch.rows.values())
        count = batch.count if batch.copy is not None else len(rows)
        if not count:
            return
        if not self.codec.postgresql:
            cursor = self.conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
            cursor.executemany(self.upsert, rows)
        else:
            self._write_postgresql(batch.copy or self.codec.copy_text(rows))
        self.written += count

    def _write_postgresql(self, text: bytes) -> None:
        if self.frozen:
            self._copy(quote_name(self.table.name), text, freeze=True)
        else:
            if not self.staged:
                # IF NOT EXISTS: several imports may share one transaction (sync), and the
                # stage is emptied after every batch, so an earlier writer's table is reusable.
                self.raw(
                    f"CREATE TEMPORARY TABLE IF NOT EXISTS {self.stage} "
                    f"(LIKE {quote_name(self.table.name)} INCLUDING STORAGE) ON COMMIT DROP"
                )
                self.staged = True
            self._copy(self.stage, text, freeze=False)
            self.raw(self.upsert)
            self.raw(f"TRUNCATE {self.stage}")

    def _copy(self, into: str, text: bytes, *, freeze: bool) -> None:
        options = " WITH (FREEZE)" if freeze else ""
        sql = f"COPY {into} ({self.column_list}) FROM STDIN{options}"
        cursor = self.conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
        with cursor.copy(sql) as copy:
            copy.write(text)
