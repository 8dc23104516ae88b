"""Read statements compiled once and run on the driver's own cursor.

Building a SQLAlchemy statement, computing its cache key and setting up an execution context cost
a hot read more than SQLite spends answering it (a get by id: about 120 µs around a 20 µs lookup).
A :class:`Prepared` statement is compiled once for the engine's dialect; each run binds its
parameters with the types' own bind processors, executes the SQL text on the pooled DBAPI
connection and converts result columns with the types' result processors, so rows hold the
values SQLAlchemy would have returned. psycopg prepares a statement on the server after a few
executions of the same text, so on PostgreSQL these become server-side prepared statements.

Used by the read engine's plan cache (:mod:`alertgraph.odata.plans`) and for per-request lookups
such as the emulator's controls.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, cast

from sqlalchemy.engine import Connection, Dialect
from sqlalchemy.sql import Select

Processor = Callable[[Any], Any] | None


class Prepared:
    """One SELECT compiled for ``dialect``; ``rows`` runs it with values for its named binds.

    Binds not given at run time keep the values the statement was built with, so a statement
    built from literals runs as it is. A bind meant to be given per run is declared with a
    placeholder value of its type (``bindparam("tenant", "")``): IN lists are expanded when the
    statement is compiled, which needs every value.
    """

    __slots__ = (
        "_defaults",
        "_dialect",
        "_escaped",
        "_names",
        "_positional",
        "_processors",
        "_results",
        "_types",
        "sql",
    )

    def __init__(self, statement: Select[Any], dialect: Dialect) -> None:
        compiled = statement.compile(dialect=dialect, compile_kwargs={"render_postcompile": True})
        self.sql = compiled.string
        self._positional = bool(dialect.positional)
        self._defaults: dict[str, Any] = dict(compiled.params)
        self._names: list[str] = list(
            compiled.positiontup if self._positional and compiled.positiontup else self._defaults
        )
        # SQLAlchemy's own per-bind conversions (Decimal to float for SQLite, JSON encoding...),
        # including those of the expanded IN-list members
        processors = getattr(compiled, "_bind_processors", None) or {}
        self._processors: dict[str, Callable[[Any], Any]] = {
            name: processors[name] for name in self._names if processors.get(name) is not None
        }
        self._results: list[Processor] | None = None  # from the first run's cursor description
        self._escaped = dict(getattr(compiled, "escaped_bind_names", None) or {})
        self._types = [column.type for column in statement.selected_columns]
        self._dialect = dialect

    def parameters(self, values: Mapping[str, Any] | None = None) -> Any:
        """The DBAPI parameters: a tuple for positional drivers, else a dict."""
        merged = self._defaults if not values else {**self._defaults, **values}
        processors = self._processors
        bound = [
            processors[name](merged[name]) if name in processors else merged[name]
            for name in self._names
        ]
        if self._positional:
            return tuple(bound)
        escaped = self._escaped
        return {
            escaped.get(name, name): value for name, value in zip(self._names, bound, strict=True)
        }

    def rows(
        self, conn: Connection, values: Mapping[str, Any] | None = None
    ) -> list[tuple[Any, ...]]:
        """Every row, each column converted as SQLAlchemy would have converted it."""
        return self.run(conn, self.parameters(values))

    def run(self, conn: Connection, parameters: Any) -> list[tuple[Any, ...]]:
        """Every row for parameters from :meth:`parameters` (computed once, run many times)."""
        driver = conn.connection.dbapi_connection
        assert driver is not None
        cursor = driver.cursor()
        try:
            cursor.execute(self.sql, parameters)
            found = cast(list[tuple[Any, ...]], cursor.fetchall())
            results = self._results
            if results is None:
                results = self._results = self._result_processors(cursor.description)
        except Exception as exc:
            _raise_as_sqlalchemy(conn, exc, self.sql, parameters, cursor)
            raise
        finally:
            cursor.close()
        if not any(results):
            return found
        return [
            tuple(
                value if process is None or value is None else process(value)
                for process, value in zip(results, row, strict=True)
            )
            for row in found
        ]

    def _result_processors(self, description: Any) -> list[Processor]:
        """SQLAlchemy's conversion of each result column (PostgreSQL's depend on the column's
        type code in the cursor description, as in SQLAlchemy itself)."""
        dialect = self._dialect
        return [
            kind.dialect_impl(dialect).result_processor(dialect, column[1])
            for kind, column in zip(self._types, description, strict=True)
        ]


def _raise_as_sqlalchemy(
    conn: Connection, exc: Exception, sql: str, parameters: Any, cursor: Any
) -> None:
    """A driver error leaves as the SQLAlchemy error ``conn.execute`` would raise, and a lost
    connection is dropped from the pool, so callers and the pool see what they always saw."""
    from sqlalchemy import exc as sa_exc

    dialect = conn.dialect
    dbapi = dialect.loaded_dbapi
    if not isinstance(exc, dbapi.Error):
        return
    disconnected = dialect.is_disconnect(exc, conn.connection.dbapi_connection, cursor)
    if disconnected:
        conn.invalidate(exc)
    raise sa_exc.DBAPIError.instance(
        sql,
        parameters,
        exc,
        dbapi.Error,
        connection_invalidated=disconnected,
        dialect=dialect,
    ) from exc
