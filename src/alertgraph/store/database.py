"""Storage: tables derived from the EDM, the engine, and row conversion.

Every entity set of :mod:`alertgraph.schema.endpoints` gets one table. Primitive and enum
properties become columns, complex and collection properties one JSON column each (JSONB on
PostgreSQL), and the properties of every derived type join the base type's table. System columns
start with ``_``: ``_tenant`` leads every primary key and index (so PostgreSQL can be sharded by
tenant), ``_parent`` holds the key of the containing entity for contained sets, ``_type`` the
runtime type where the declared type has subtypes, ``_json`` the entity's Graph JSON as a read
without $select/$expand sends it (kept current by every write, see :meth:`Store.stored_json`).
Storage forms of values are described in :mod:`alertgraph.store.codec`.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

import orjson
from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Engine,
    Float,
    Index,
    Integer,
    MetaData,
    Numeric,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    create_engine,
    event,
    inspect,
    select,
    text,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.schema import CreateIndex
from sqlalchemy.types import TypeEngine

from alertgraph.errors import did_you_mean
from alertgraph.schema.edm import Model, Property, StructuredType, TypeRef, load_model
from alertgraph.schema.endpoints import BY_NAME, ENTITY_SETS, LATER_INDEXES, EntitySet
from alertgraph.store import sqlfunctions
from alertgraph.store.codec import Codec, Converter, Problem, Reader, ValueProblem

#: 2: the ``_json`` column (an older alertgraph would update rows without refreshing it)
SCHEMA_VERSION = 2
TENANT = "_tenant"
PARENT = "_parent"
TYPE = "_type"
STORED_JSON = "_json"

#: Text compares by code point on both engines: SQLite's default BINARY collation does; PostgreSQL
#: needs the "C" collation, since OData string comparison is ordinal.
TEXT: TypeEngine[str] = Text().with_variant(Text(collation="C"), "postgresql")
KEY_TEXT: TypeEngine[str] = String(400).with_variant(Text(collation="C"), "postgresql")
JSON_TYPE: TypeEngine[Any] = JSON().with_variant(postgresql.JSONB(), "postgresql")


def _json_dumps(value: Any) -> str:
    return orjson.dumps(value).decode()


def column_type(model: Model, type_ref: TypeRef) -> TypeEngine[Any]:
    """The SQL type that stores values of an EDM type (see codec for the forms)."""
    if type_ref.collection or type_ref.name in model.types:
        return JSON_TYPE
    if type_ref.name in model.enums:
        return BigInteger() if model.enums[type_ref.name].is_flags else Integer()
    match type_ref.name:
        case "Edm.DateTimeOffset" | "Edm.Duration" | "Edm.Int64":
            return BigInteger()
        case "Edm.Int32" | "Edm.Int16" | "Edm.Byte" | "Edm.SByte":
            return Integer()
        case "Edm.Boolean":
            return Boolean()
        case "Edm.Double" | "Edm.Single":
            return Float(53)
        case "Edm.Decimal":
            return Numeric()
        case _:
            return TEXT


def build_tables(model: Model, metadata: MetaData) -> dict[str, Table]:
    """One table per entity set, derived from the EDM and the set's row in endpoints."""
    tables: dict[str, Table] = {}
    for entity_set in ENTITY_SETS:
        struct = model.types[entity_set.type_name]
        columns: list[Column[Any]] = [Column(TENANT, KEY_TEXT, nullable=False)]
        key = [TENANT]
        if entity_set.parent is not None:
            columns.append(Column(PARENT, KEY_TEXT, nullable=False))
            key.append(PARENT)
        if struct.derived:
            columns.append(Column(TYPE, TEXT, nullable=False))
        for name, prop in model.all_properties(entity_set.type_name).items():
            kind = KEY_TEXT if name == "id" else column_type(model, prop.type)
            columns.append(Column(name, kind, nullable=name != "id"))
        key.append("id")
        columns.append(Column(STORED_JSON, Text, nullable=True))
        table = Table(entity_set.table, metadata, *columns, PrimaryKeyConstraint(*key))
        for number, index_columns in enumerate(entity_set.indexes):
            expressions: list[Any] = [table.c[TENANT]]
            for column_name in index_columns:
                if column_name.startswith("-"):
                    expressions.append(table.c[column_name[1:]].desc())
                else:
                    expressions.append(table.c[column_name])
            Index(index_name(entity_set, number), *expressions)
        _default_order_index(entity_set, table)
        tables[entity_set.name] = table
    return tables


def index_name(entity_set: EntitySet, number: int) -> str:
    """The name of the ``number``-th index declared on ``entity_set``'s row in endpoints."""
    return f"ix_{entity_set.table}_{number}"


def _default_order_index(entity_set: EntitySet, table: Table) -> None:
    """On PostgreSQL, an index in exactly the set's default order, nulls placed as we sort them.

    alertgraph sorts nulls first ascending and last descending (SQLite's rule, which PostgreSQL is
    told with NULLS FIRST/LAST). A plain PostgreSQL index puts nulls the other way round, so it
    could not give the default listing its order and every page sorted all of the tenant's rows
    (150 ms at 100,000 alerts). SQLite's own indexes already match. The twins of
    :func:`order_twins` and :func:`count_twins` are made here too.
    """
    if entity_set.default_order == (("id", False),):
        return  # the primary key is the order
    order = entity_set.default_order
    expressions: list[Any] = [table.c[TENANT]]
    for name, descending in entity_set.default_order:
        column = table.c[name]
        if not column.nullable:
            expressions.append(column.desc() if descending else column)
        else:
            expressions.append(column.desc().nulls_last() if descending else column.nulls_first())
    Index(f"ix_{entity_set.table}_order", *expressions).ddl_if(dialect="postgresql")
    for (number, name), (_, count_name) in zip(
        order_twins(entity_set), count_twins(entity_set), strict=True
    ):
        prefix = [table.c[column] for column in entity_set.indexes[number][: -len(order)]]
        Index(name, table.c[TENANT], *prefix, *expressions[1:]).ddl_if(dialect="postgresql")
        Index(count_name, table.c[TENANT], *prefix).ddl_if(dialect="postgresql")


def order_twins(entity_set: EntitySet) -> list[tuple[int, str]]:
    """(number, name) of the PostgreSQL twin of each declared index that filters by some columns
    and ends in the set's default order, e.g. ``(severity, status, createdDateTime, id)``.

    For the same reason as ``ix_<table>_order``: a plain PostgreSQL index cannot give the order
    ``createdDateTime DESC NULLS LAST, id``, so a filtered page walked the default-order index
    and discarded the rows that did not match (1.25 ms against 0.34 ms at a million alerts).
    """
    order = tuple(name for name, _ in entity_set.default_order)
    if order == ("id",):
        return []
    return [
        (number, f"{index_name(entity_set, number)}_order")
        for number, columns in enumerate(entity_set.indexes)
        if len(columns) > len(order) and tuple(columns[-len(order) :]) == order
    ]


def count_twins(entity_set: EntitySet) -> list[tuple[int, str]]:
    """(number, name) of the PostgreSQL count twin of the same indexes as :func:`order_twins`:
    the filtered columns alone, e.g. ``(_tenant, severity, status)``.

    PostgreSQL counts a filter through an index-only scan, which checks the visibility map for
    every entry. In an index ordered by date the entries' heap pages are scattered, so the check
    switches visibility-map pages nearly every entry (73,932 buffer hits to count 90,417 alerts:
    20 ms at a million). An index of the filtered columns alone keeps each value's entries
    deduplicated in heap order: the same count reads 257 buffers in 6 ms.
    """
    return [
        (number, f"{index_name(entity_set, number)}_count") for number, _ in order_twins(entity_set)
    ]


METADATA = MetaData()
TABLES = build_tables(load_model(), METADATA)

meta_table = Table(
    "alertgraph_meta",
    METADATA,
    Column("key", String(200), primary_key=True),
    Column("value", Text, nullable=False),
)

audit_table = Table(
    "audit_log",
    METADATA,
    Column(TENANT, KEY_TEXT, nullable=False),
    Column("id", String(64), nullable=False),
    Column("at", BigInteger, nullable=False),
    Column("request_id", String(100), nullable=False),
    Column("actor", TEXT),
    Column("app_id", TEXT),
    Column("entity_set", String(100), nullable=False),
    Column("entity_id", KEY_TEXT, nullable=False),
    Column("action", String(100), nullable=False),
    Column("changes", JSON_TYPE, nullable=False),
    PrimaryKeyConstraint(TENANT, "id"),
)
Index(
    "ix_audit_log_entity", audit_table.c[TENANT], audit_table.c.entity_set, audit_table.c.entity_id
)


class RecordError(ValueError):
    """A record that does not fit the EDM; ``problems`` lists every offending property."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        super().__init__("; ".join(str(problem) for problem in problems))
        self.problems = list(problems)


def create_db_engine(url: str) -> Engine:
    """An engine for ``url`` with the settings alertgraph relies on (WAL for SQLite, pooling)."""
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    if url.startswith("sqlite"):
        engine = create_engine(
            url,
            json_serializer=_json_dumps,
            json_deserializer=orjson.loads,
            connect_args={"check_same_thread": False, "timeout": 30},
        )

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.close()
            sqlfunctions.register(dbapi_connection)

        return engine
    engine = create_engine(
        url,
        json_serializer=_json_dumps,
        json_deserializer=orjson.loads,
        pool_size=10,
        max_overflow=20,
        pool_recycle=POOL_RECYCLE_SECONDS,
    )
    _check_after_idle(engine)
    _prefer_lz4(engine)
    return engine


def _prefer_lz4(engine: Engine) -> None:
    """Have PostgreSQL compress the values this process writes with LZ4, where it can.

    Rows carry kilobytes of JSON, so PostgreSQL compresses most of them; with its default
    (pglz) a COPY of 50,000 alerts took 7.4 s, with LZ4 4.2 s at the same size, and LZ4 also
    decompresses faster on every read (docs/performance.md). A session setting, not a column
    option: nothing to migrate, and a server built without LZ4 keeps its default.
    """

    @event.listens_for(engine, "connect")
    def _set(dbapi_connection: Any, _record: Any) -> None:
        with dbapi_connection.cursor() as cursor:
            cursor.execute(
                "SELECT set_config('default_toast_compression', 'lz4', false) FROM pg_settings "
                "WHERE name = 'default_toast_compression' AND 'lz4' = ANY(enumvals)"
            )
        dbapi_connection.commit()


#: A pooled PostgreSQL connection older than this is replaced at checkout (server or proxy
#: timeouts, failovers); one idle longer than IDLE_CHECK_SECONDS is pinged before use.
POOL_RECYCLE_SECONDS = 1800
IDLE_CHECK_SECONDS = 10.0


def _check_after_idle(engine: Engine) -> None:
    """Ping a pooled connection at checkout only when it sat idle; a busy pool pays nothing.

    ``pool_pre_ping`` costs a round trip on every checkout, i.e. every request. A connection in
    steady use was alive a moment ago; one that has been idle may have been dropped by the server
    or a proxy, so it is pinged, and a failed ping makes the pool open a fresh one. A connection
    that dies while in use raises a disconnect error, on which SQLAlchemy discards the pool's
    connections; the next request gets new ones.
    """

    @event.listens_for(engine, "checkin")
    def _returned(_dbapi_connection: Any, record: Any) -> None:
        if record is not None:
            record.info["returned_at"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _check(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        returned = record.info.get("returned_at")
        if returned is None or time.monotonic() - returned < IDLE_CHECK_SECONDS:
            return
        try:
            engine.dialect.do_ping(dbapi_connection)
        except Exception as exc:
            raise DisconnectionError(f"pooled connection failed its idle check: {exc}") from exc


class Store:
    """The database of one alertgraph deployment: engine, tables and conversions."""

    def __init__(self, engine: Engine, model: Model | None = None) -> None:
        self.engine = engine
        self.model = model or load_model()
        self.codec = Codec(self.model)
        self._column_plans: dict[str, dict[str, tuple[bool, Converter]]] = {}
        self.tables = TABLES
        self.metadata = METADATA
        self._json_plans: dict[tuple[str, bool], list[tuple[str, Reader]]] = {}
        #: PostgreSQL: API writes wait for the WAL flush (else SQLite's WAL/NORMAL durability)
        self.durable_commits = False

    @classmethod
    def open(cls, url: str, *, create: bool = True) -> Store:
        store = cls(create_db_engine(url))
        if create:
            store.create_schema()
        return store

    @contextmanager
    def reading(self) -> Iterator[Connection]:
        """A pooled connection for statements that only read.

        On PostgreSQL it runs in autocommit: each statement sees its own snapshot, as it does in
        a READ COMMITTED transaction, without the BEGIN and ROLLBACK round trips around it.
        """
        with self.engine.connect() as conn:
            if self.engine.dialect.name == "postgresql":
                conn.execution_options(isolation_level="AUTOCOMMIT")
            yield conn

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    def create_schema(self) -> None:
        """Create missing tables and record the schema version (idempotent)."""
        self.metadata.create_all(self.engine, checkfirst=True)
        with self.engine.begin() as conn:
            _add_stored_json(conn)
            _add_later_indexes(conn)
            _keep_values_inline(conn)
            current = conn.execute(
                select(meta_table.c.value).where(meta_table.c.key == "schema_version")
            ).scalar()
            if current is None:
                conn.execute(
                    meta_table.insert().values(key="schema_version", value=str(SCHEMA_VERSION))
                )
            elif int(current) > SCHEMA_VERSION:
                raise RuntimeError(
                    f"the database has schema version {current}, newer than this alertgraph "
                    f"({SCHEMA_VERSION}); upgrade alertgraph"
                )
            elif int(current) < SCHEMA_VERSION:
                conn.execute(
                    meta_table.update()
                    .where(meta_table.c.key == "schema_version")
                    .values(value=str(SCHEMA_VERSION))
                )

    # ---- meta values ----------------------------------------------------------------------

    def get_meta(self, key: str, conn: Connection | None = None) -> str | None:
        query = select(meta_table.c.value).where(meta_table.c.key == key)
        if conn is not None:
            return conn.execute(query).scalar()
        with self.engine.connect() as own:
            return own.execute(query).scalar()

    def set_meta_if_absent(self, key: str, value: str) -> str:
        """Store ``value`` unless a value exists; return the stored one (race-safe)."""
        table = meta_table
        with self.engine.begin() as conn:
            insert = (
                postgresql.insert(table) if self.dialect == "postgresql" else sqlite.insert(table)
            )
            conn.execute(insert.values(key=key, value=value).on_conflict_do_nothing())
            stored = conn.execute(select(table.c.value).where(table.c.key == key)).scalar_one()
        return str(stored)

    def set_meta(self, key: str, value: str) -> None:
        table = meta_table
        with self.engine.begin() as conn:
            insert = (
                postgresql.insert(table) if self.dialect == "postgresql" else sqlite.insert(table)
            )
            conn.execute(
                insert.values(key=key, value=value).on_conflict_do_update(
                    index_elements=["key"], set_={"value": value}
                )
            )

    # ---- conversion -----------------------------------------------------------------------

    @functools.cache  # noqa: B019 - one Store per process; the cache holds EDM lookups only
    def properties(self, set_name: str) -> dict[str, Property]:
        return self.model.all_properties(BY_NAME[set_name].type_name)

    def _columns(self, actual: StructuredType) -> dict[str, tuple[bool, Converter]]:
        """Per property of ``actual``: (null is refused, converter to the column value)."""
        found = self._column_plans.get(actual.name)
        if found is None:
            found = self._column_plans[actual.name] = {
                name: (
                    not prop.nullable and not prop.type.collection,
                    self.codec.column_converter(prop.type),
                )
                for name, prop in actual.properties.items()
            }
        return found

    def to_row(
        self, entity_set: EntitySet, record: Mapping[str, Any], *, where: str = ""
    ) -> dict[str, Any]:
        """Validate a Graph JSON record and convert it to column values.

        Raises :class:`RecordError` naming every problem (unknown property, wrong type, enum value
        that is not a member, missing id, a date-time without a zone...).
        """
        problems: list[Problem] = []
        if not isinstance(record, Mapping):
            raise RecordError([Problem(where, "expected a JSON object")])
        struct = self.model.types[entity_set.type_name]
        actual = struct
        odata_type = record.get("@odata.type")
        if odata_type is not None:
            found = self.model.find_type(str(odata_type).lstrip("#"))
            if found is None or not self.model.is_subtype(found.name, struct.name):
                derived = ", ".join("#" + name for name in struct.derived[:8]) or "none"
                problems.append(
                    Problem(
                        _join(where, "@odata.type"),
                        f"'{odata_type}' is not {struct.name} or derived from it "
                        f"(derived types: {derived})",
                    )
                )
            else:
                actual = found
        if actual.abstract and not problems:
            choices = ", ".join("#" + name for name in struct.derived)
            problems.append(
                Problem(
                    _join(where, "@odata.type"),
                    f"{struct.name} is abstract; name the record's type, one of: {choices}",
                )
            )
        row: dict[str, Any] = {}
        if struct.derived:
            row[TYPE] = actual.name
        record_id = record.get("id")
        if not isinstance(record_id, str) or not record_id:
            problems.append(
                Problem(_join(where, "id"), "is required and must be a non-empty string")
            )
        columns = self._columns(actual)
        prefix = where + "." if where else ""
        for key, value in record.items():
            entry = columns.get(key)
            if entry is None:
                if key.startswith("@") or ("@odata." in key):
                    continue
                hint = did_you_mean(key, actual.properties)
                message = f"is not a property of {actual.name}" + ("." + hint if hint else "")
                problems.append(Problem(prefix + key, message))
                continue
            if value is None:
                if entry[0]:
                    problems.append(Problem(prefix + key, "cannot be null"))
                else:
                    row[key] = None
                continue
            try:
                row[key] = entry[1](value, prefix + key)
            except ValueProblem as problem:
                problems.append(Problem(problem.path, problem.message))
        if problems:
            raise RecordError(problems)
        row[STORED_JSON] = self.stored_json(entity_set, row, stored=False)
        return row

    def stored_json(
        self, entity_set: EntitySet, row: Mapping[str, Any], *, stored: bool = True
    ) -> str | None:
        """The ``_json`` column of a row: its Graph JSON, serialized as a read sends it.

        That is the /beta shape without the evolvable-enum preference, from the values as the
        database gives them back: ``stored=False`` (a row about to be written) first applies what
        PostgreSQL's JSONB does to JSON columns (object keys by length, then bytes; integral
        floats beyond 1e16 read back as integers), so the text is the same either way. None
        when the JSON cannot be serialized (reads then shape the row from its columns).
        """
        if not stored and self.dialect == "postgresql":
            row = {
                name: _as_jsonb(value) if isinstance(value, dict | list) else value
                for name, value in row.items()
            }
        try:
            return orjson.dumps(self.to_json(entity_set, row, evolvable=False)).decode()
        except TypeError:  # e.g. an integer beyond 64 bits, as JSONB reads 1e20 back
            return None

    def to_json(
        self, entity_set: EntitySet, row: Mapping[str, Any], *, evolvable: bool = True
    ) -> dict[str, Any]:
        """A stored row → the entity's full Graph JSON, with ``@odata.type`` where needed."""
        struct = self.model.types[entity_set.type_name]
        actual = struct
        result: dict[str, Any] = {}
        runtime = row.get(TYPE)
        if runtime:
            actual = self.model.types[runtime]
            result["@odata.type"] = "#" + actual.name
        elif entity_set.type_name.startswith("microsoft.graph.security."):
            # The security examples type every alert and incident; harmless and what SDKs expect.
            result["@odata.type"] = "#" + actual.name
        for name, read in self._json_plan(actual.name, evolvable):
            result[name] = read(row.get(name))
        return result

    def _json_plan(self, type_name: str, evolvable: bool) -> list[tuple[str, Reader]]:
        """Each property of the runtime type with its column reader (built once per type)."""
        key = (type_name, evolvable)
        plan = self._json_plans.get(key)
        if plan is None:
            properties = self.model.types[type_name].properties.items()
            plan = [(name, self.codec.column_reader(p.type, evolvable)) for name, p in properties]
            self._json_plans[key] = plan
        return plan


#: values _as_jsonb may change (the rest read back from JSONB as they are)
_NESTED = (dict, list, float)


def _as_jsonb(value: Any) -> Any:
    """A JSON value as it reads back from a PostgreSQL JSONB column."""
    if isinstance(value, dict):
        # JSONB orders keys by byte length, then bytes. UTF-8 sorts as code points do, so a
        # stable sort by length after a plain sort gives that order (import runs this per row).
        ordered = sorted(value)
        if all(key.isascii() for key in ordered):
            ordered.sort(key=len)
        else:
            ordered.sort(key=_utf8_length)
        return {
            key: _as_jsonb(item) if isinstance(item, _NESTED) else item
            for key in ordered
            for item in (value[key],)
        }
    if isinstance(value, list):
        return [_as_jsonb(item) if isinstance(item, _NESTED) else item for item in value]
    if isinstance(value, float) and value.is_integer() and abs(value) >= 1e16:
        return int(value)
    return value


def _utf8_length(key: str) -> int:
    return len(key.encode())


def _add_stored_json(conn: Connection) -> None:
    """Add the ``_json`` column to entity tables created before it existed (rows keep NULL,
    which reads shape from the columns)."""
    inspector = inspect(conn)
    for table in TABLES.values():
        present = {column["name"] for column in inspector.get_columns(table.name)}
        if STORED_JSON not in present:
            column = quote_name(STORED_JSON)
            conn.execute(text(f"ALTER TABLE {quote_name(table.name)} ADD COLUMN {column} TEXT"))


def quote_name(name: str) -> str:
    """A table, index or column name as an SQL identifier (both databases quote alike)."""
    return '"' + name.replace('"', '""') + '"'


def uses_citus(conn: Connection) -> bool:
    """Whether this PostgreSQL database has the citus extension (it distributes tables itself)."""
    found = conn.exec_driver_sql("SELECT 1 FROM pg_extension WHERE extname = 'citus'").first()
    return found is not None


def _keep_values_inline(conn: Connection) -> None:
    """On PostgreSQL, store every variable-length column of the entity tables as ``MAIN``.

    By default PostgreSQL compresses a row's long values once the row passes 2 KB and, if it is
    still longer, moves them to the table's TOAST table, which an alert always reaches: its
    stored JSON alone is 3.5 KB. Every row a page sends then costs a lookup in the TOAST index and
    more pages, and every row an import writes costs TOAST rows and their index entries. ``MAIN``
    still compresses but moves a value out only if the compressed row would not fit in a page
    (docs/performance.md has the figures). Existing rows stay where they are until they are next
    written. Only columns still set otherwise are altered, so opening the database again takes no
    lock (and one catalog query). Not under Citus, which may refuse the change on a distributed
    table: its setup script makes it before distributing (:func:`inline_storage_statement`).
    """
    if conn.dialect.name != "postgresql" or uses_citus(conn):
        return
    movable = conn.execute(
        text(
            "SELECT c.relname, a.attname FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid "
            "WHERE a.attrelid = ANY (SELECT to_regclass(name) FROM unnest(CAST(:names AS text[])) "
            "AS name) AND a.attnum > 0 AND NOT a.attisdropped AND a.attstorage = 'x' "
            "ORDER BY c.relname, a.attnum"
        ),
        {"names": [quote_name(table.name) for table in TABLES.values()]},
    ).all()
    by_table: dict[str, list[str]] = {}
    for table_name, column in movable:
        by_table.setdefault(table_name, []).append(column)
    for table_name, columns in by_table.items():
        conn.execute(text(_storage_main(table_name, columns)))


def inline_storage_statement(table: Table) -> str | None:
    """The ``ALTER TABLE`` that sets an entity table's text and JSONB columns to ``MAIN``
    (see :func:`_keep_values_inline`); None for other tables."""
    if table.name not in {entity.name for entity in TABLES.values()}:
        return None
    dialect = postgresql.dialect()  # type: ignore[no-untyped-call]
    names = [
        column.name
        for column in table.columns
        if column.type.compile(dialect=dialect).split()[0] in ("TEXT", "JSONB")
    ]
    return _storage_main(table.name, names) if names else None


def _storage_main(table: str, columns: list[str]) -> str:
    clauses = ", ".join(f"ALTER COLUMN {quote_name(column)} SET STORAGE MAIN" for column in columns)
    return f"ALTER TABLE {quote_name(table)} {clauses}"


def _add_later_indexes(conn: Connection) -> None:
    """Create the indexes of ``endpoints.LATER_INDEXES``, and PostgreSQL's order and count twins,
    where missing (else a no-op; on a large database the first open builds them).

    An index changes no answer, so an older alertgraph may still open the database: no new
    schema version for them.
    """
    wanted = {index_name(BY_NAME[set_name], number) for set_name, number in LATER_INDEXES}
    if conn.dialect.name == "postgresql":  # the twins came later too
        wanted |= {name for es in ENTITY_SETS for _, name in order_twins(es) + count_twins(es)}
    inspector = inspect(conn)
    for table in TABLES.values():
        missing = [index for index in table.indexes if index.name in wanted]
        if not missing:
            continue
        # only for an index really missing: even CREATE INDEX IF NOT EXISTS takes PostgreSQL's
        # SHARE lock on the table, which waits for (and can deadlock with) writers that are
        # already running, such as another replica's, or serve --simulate's
        present = {found["name"] for found in inspector.get_indexes(table.name)}
        for index in missing:
            if index.name not in present:
                conn.execute(CreateIndex(index, if_not_exists=True))


def _join(where: str, key: str) -> str:
    return f"{where}.{key}" if where else key
