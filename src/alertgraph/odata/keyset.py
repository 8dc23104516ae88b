"""Keyset paging in SQL: the sort keys of a page, ORDER BY, and the seek past a position.

Beside sql.py (which compiles $filter and $orderby values); read.py decides the page and
paging.py signs the position carried in $skiptoken.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.sql.elements import ColumnElement

from alertgraph.odata.query import Query
from alertgraph.odata.sql import Renderer


@dataclass(frozen=True, slots=True)
class SortKey:
    expr: ColumnElement[Any]
    descending: bool

    @property
    def nullable(self) -> bool:
        return not (isinstance(self.expr, sa.Column) and not self.expr.nullable)


def sort_keys(query: Query, renderer: Renderer, table: Any) -> list[SortKey]:
    """$orderby (or the set's default order), then the key as the final tie-breaker."""
    keys = [SortKey(renderer.order_value(key.value), key.descending) for key in query.orderby]
    if not query.orderby:
        keys = [
            SortKey(table.c[column], descending)
            for column, descending in query.entity_set.default_order
        ]
    if not any(isinstance(k.expr, sa.Column) and k.expr.name == "id" for k in keys[-1:]):
        keys.append(SortKey(table.c["id"], False))
    return keys


def order_by(keys: Sequence[SortKey], pg: bool) -> list[Any]:
    """Nulls sort first ascending and last descending (SQLite's rule; PostgreSQL is told)."""
    clauses: list[Any] = []
    for key in keys:
        clause = key.expr.desc() if key.descending else key.expr.asc()
        if pg and key.nullable:
            clause = clause.nulls_last() if key.descending else clause.nulls_first()
        clauses.append(clause)
    return clauses


def _literal(expr: ColumnElement[Any], value: Any) -> Any:
    return sa.literal(value, expr.type) if not isinstance(value, bool) else sa.literal(value)


def _after(keys: Sequence[SortKey], values: Sequence[Any]) -> ColumnElement[bool]:
    """Rows strictly after the position ``values`` in the order ``keys``."""
    after: ColumnElement[bool] | None = None
    for key, value in reversed(list(zip(keys, values, strict=True))):
        expr = key.expr
        if value is None:
            if key.descending:  # nulls come last: after a null only nulls remain
                condition = sa.and_(expr.is_(None), after) if after is not None else sa.false()
            else:
                tie = sa.and_(expr.is_(None), after) if after is not None else sa.false()
                condition = sa.or_(expr.is_not(None), tie)
        else:
            literal = _literal(expr, value)
            beyond = expr < literal if key.descending else expr > literal
            if key.descending:
                beyond = sa.or_(beyond, expr.is_(None))
            condition = beyond if after is None else sa.or_(beyond, sa.and_(expr == literal, after))
        after = condition
    assert after is not None
    return after


def seek_segments(
    keys: Sequence[SortKey], values: Sequence[Any]
) -> tuple[ColumnElement[bool], ...]:
    """The rows after a keyset position, as disjoint conditions to read one after the other.

    ``_after`` alone is correct, but its ``OR ... IS NULL`` keeps both engines from seeking the
    index. Each segment here bounds the first key by a plain range (or an IS NULL test), so a page
    deep in the collection costs what the first page costs; null values of the first key, which
    sort last descending and first ascending, are read as a segment of their own.
    """
    first, value = keys[0], values[0]
    after = _after(keys, values)
    expr = first.expr
    if value is None:
        if first.descending or not first.nullable:
            return (sa.and_(expr.is_(None), after),)  # nulls last: only nulls remain
        return (sa.and_(expr.is_(None), after), expr.is_not(None))
    literal = _literal(expr, value)
    bounded = sa.and_(expr <= literal if first.descending else expr >= literal, after)
    if first.descending and first.nullable:
        return (bounded, expr.is_(None))
    return (bounded,)
