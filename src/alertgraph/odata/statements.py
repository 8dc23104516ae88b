"""Run the read path's SQL: a Renderer per statement and errors mapped to OData 400s.

Used by read.py (pages, counts) and shape.py (expansions); the SQLite functions the statements
call are registered on every connection by store/database.py.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, CursorResult

from alertgraph.errors import ODataError
from alertgraph.odata.context import ReadContext
from alertgraph.odata.query import Query
from alertgraph.odata.sql import Renderer
from alertgraph.schema.edm import load_model
from alertgraph.store import codec, sqlfunctions
from alertgraph.store.prepared import Prepared


def renderer(ctx: ReadContext, query: Query, table: Any) -> Renderer:
    """The SQL compiler for ``query`` over ``table`` in the caller's tenant."""
    return Renderer(
        load_model(),
        ctx.store.dialect,
        {0: table},
        query.scope_sets,
        now=codec.now_ticks(),
        tenant=ctx.tenant,
    )


def execute(conn: Connection, statement: Any) -> CursorResult[Any]:
    """Run a read statement; evaluation failures (bad arithmetic, division by zero) are 400s."""
    try:
        return conn.execute(statement)
    except (sa.exc.DataError, sa.exc.OperationalError) as exc:
        mapped = _mapped(exc)
        if mapped is None:
            raise
        raise mapped from None


def run(conn: Connection, prepared: Prepared, parameters: Any) -> list[tuple[Any, ...]]:
    """:func:`execute` for a statement of a kept plan (compiled once, run on the driver)."""
    try:
        return prepared.run(conn, parameters)
    except (sa.exc.DataError, sa.exc.OperationalError) as exc:
        mapped = _mapped(exc)
        if mapped is None:
            raise
        raise mapped from None


def _mapped(exc: sa.exc.DBAPIError) -> ODataError | None:
    """The 400 a failed evaluation means; None for any other failure."""
    if isinstance(exc, sa.exc.DataError):
        message = str(exc.orig).splitlines()[0] if exc.orig is not None else "invalid value"
        return _evaluation_error(message)
    # an OperationalError: a raising SQLite function (the zero and Int64 checks), or not ours
    if sqlfunctions.RAISED not in str(exc.orig):
        return None
    return _evaluation_error("division by zero, or an integer beyond the Int64 range")


def _evaluation_error(message: str) -> ODataError:
    return ODataError(
        f"the query could not be evaluated ({message}); check the arithmetic and "
        "function arguments in $filter and $orderby (div and mod by zero fail, as OData requires)"
    )
