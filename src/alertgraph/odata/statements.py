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
    except sa.exc.DataError as exc:
        message = str(exc.orig).splitlines()[0] if exc.orig is not None else "invalid value"
        raise _evaluation_error(message) from None
    except sa.exc.OperationalError as exc:
        # a raising SQLite function: only odata_nonzero raises
        if sqlfunctions.RAISED not in str(exc.orig):
            raise
        raise _evaluation_error("division by zero") from None


def _evaluation_error(message: str) -> ODataError:
    return ODataError(
        f"the query could not be evaluated ({message}); check the arithmetic and "
        "function arguments in $filter and $orderby (div and mod by zero fail, as OData requires)"
    )
