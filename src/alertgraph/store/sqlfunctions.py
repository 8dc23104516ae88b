"""SQL functions SQLite lacks, registered on every new SQLite connection (see database.py).

The OData SQL compiler (odata/sql.py) calls them by name: regular expressions, Unicode simple case
mapping (casemap.py, the table PostgreSQL applies with translate()) and a division guard.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from typing import Any

from alertgraph.store import casemap

#: the message SQLite gives when a registered function raises (odata_nonzero and the Int64 checks)
RAISED = "user-defined function raised exception"


@functools.lru_cache(maxsize=256)
def _pattern(text: str) -> re.Pattern[str] | None:
    try:
        return re.compile(text)
    except re.error:
        return None


def _regexp(pattern: str | None, value: str | None) -> bool | None:
    if pattern is None or value is None:
        return None
    compiled = _pattern(pattern)
    return None if compiled is None else compiled.search(value) is not None


class DivisionByZero(ArithmeticError):
    pass


class Int64Overflow(ArithmeticError):
    pass


def _nonzero(value: Any) -> Any:
    if value == 0:
        raise DivisionByZero
    return value


def _int64(value: Any) -> Any:
    """An Int64 result, failing the statement when SQLite's integer arithmetic overflowed (it
    then gives a REAL; PostgreSQL's bigint raises)."""
    if type(value) is float:
        # not OverflowError: sqlite3 reports that one as "string or blob too big"
        raise Int64Overflow
    return value


def _in_int64(value: Any) -> Any:
    """A number cast to Int64 must fit (SQLite's CAST would clamp it; PostgreSQL fails)."""
    if type(value) is float and not -(2.0**63) <= value < 2.0**63:
        raise Int64Overflow
    return value


FUNCTIONS: dict[str, tuple[int, Callable[..., Any]]] = {
    "odata_regexp": (2, _regexp),
    "odata_lower": (1, casemap.lower),
    "odata_upper": (1, casemap.upper),
    "odata_nonzero": (1, _nonzero),
    "odata_int64": (1, _int64),
    "odata_in_int64": (1, _in_int64),
}


def register(dbapi_connection: Any) -> None:
    """Make every function above callable on a sqlite3 connection."""
    for name, (arity, function) in FUNCTIONS.items():
        dbapi_connection.create_function(name, arity, function, deterministic=True)
