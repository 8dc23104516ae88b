"""Run a bound Query: count, one page (keyset or $skip), expansions, and the JSON shape.

The engine behind list_collection/get_entity/count_collection (exported by __init__). Each
expansion costs one extra query with ``IN (...)`` over the page's keys, never one per row.
"""

from __future__ import annotations

import functools
import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection
from sqlalchemy.sql.elements import ColumnElement

from alertgraph.errors import ODataError, entity_not_found
from alertgraph.odata import casemap, paging
from alertgraph.odata.context import ReadContext
from alertgraph.odata.options import RawOptions, split_query
from alertgraph.odata.parser import Limits
from alertgraph.odata.query import Query, bind_query, check_scope_filter
from alertgraph.odata.shape import collection_path, context_url, project
from alertgraph.odata.sql import Renderer
from alertgraph.schema.edm import load_model
from alertgraph.schema.endpoints import BY_NAME, EntitySet
from alertgraph.store import codec
from alertgraph.store.database import PARENT, TABLES, TENANT


@dataclass(frozen=True, slots=True)
class SortKey:
    expr: ColumnElement[Any]
    descending: bool


def _limits(ctx: ReadContext) -> Limits:
    settings = ctx.settings
    return Limits(settings.max_nodes, settings.max_depth, settings.max_literal_length)


def prepare(
    ctx: ReadContext, entity_set: EntitySet, raw_query: str, *, single: bool = False
) -> tuple[RawOptions, Query]:
    beta = ctx.service_root.rstrip("/").endswith("/beta")
    extra = frozenset() if entity_set.skip_paging or single else frozenset({"$skiptoken"})
    options = split_query(
        raw_query, entity_set, beta=beta, strict=ctx.settings.strict_graph, allowed_extra=extra
    )
    values = options.values
    if single:
        values = {k: v for k, v in values.items() if k in ("$select", "$expand")}
    query = bind_query(entity_set, values, strict=ctx.settings.strict_graph, limits=_limits(ctx))
    return options, query


# ---- SQL pieces ------------------------------------------------------------------------------


def _renderer(ctx: ReadContext, query: Query, table: Any) -> Renderer:
    return Renderer(
        load_model(),
        ctx.store.dialect,
        {0: table},
        query.scope_sets,
        now=codec.now_ticks(),
        tenant=ctx.tenant,
    )


#: A collection reached through a non-contained navigation: rows whose property equals a value
#: (``security/incidents/{id}/alerts`` is alerts with ``incidentId`` = id).
Link = tuple[str, Any]


def _base_conditions(
    ctx: ReadContext,
    query: Query,
    table: Any,
    renderer: Renderer,
    parent_key: str | None,
    link: Link | None = None,
) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = [table.c[TENANT] == ctx.tenant]
    if parent_key is not None and PARENT in table.c:
        conditions.append(table.c[PARENT] == parent_key)
    if link is not None:
        conditions.append(table.c[link[0]] == link[1])
    if query.filter is not None:
        conditions.append(renderer.where(query.filter))
    return conditions


def _sort_keys(query: Query, renderer: Renderer, table: Any) -> list[SortKey]:
    keys = [SortKey(renderer.order_value(key.value), key.descending) for key in query.orderby]
    if not query.orderby:
        keys = [
            SortKey(table.c[column], descending)
            for column, descending in query.entity_set.default_order
        ]
    if not any(isinstance(k.expr, sa.Column) and k.expr.name == "id" for k in keys[-1:]):
        keys.append(SortKey(table.c["id"], False))
    return keys


def _order_by(keys: Sequence[SortKey], pg: bool) -> list[Any]:
    """Nulls sort first ascending and last descending (SQLite's rule; PostgreSQL is told)."""
    clauses: list[Any] = []
    for key in keys:
        clause = key.expr.desc() if key.descending else key.expr.asc()
        nullable = not (isinstance(key.expr, sa.Column) and not key.expr.nullable)
        if pg and nullable:
            clause = clause.nulls_last() if key.descending else clause.nulls_first()
        clauses.append(clause)
    return clauses


def _after(keys: Sequence[SortKey], values: Sequence[Any]) -> ColumnElement[bool]:
    """Rows strictly after the position ``values`` in the order ``keys`` (a keyset seek)."""
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
            literal = (
                sa.literal(value, expr.type) if not isinstance(value, bool) else sa.literal(value)
            )
            beyond = expr < literal if key.descending else expr > literal
            if key.descending:
                beyond = sa.or_(beyond, expr.is_(None))
            condition = beyond if after is None else sa.or_(beyond, sa.and_(expr == literal, after))
        after = condition
    assert after is not None
    return after


def _nullable_key(key: SortKey) -> bool:
    return not (isinstance(key.expr, sa.Column) and not key.expr.nullable)


def _seek_segments(
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
        if first.descending or not _nullable_key(first):
            return (sa.and_(expr.is_(None), after),)  # nulls last: only nulls remain
        return (sa.and_(expr.is_(None), after), expr.is_not(None))
    literal = sa.literal(value, expr.type) if not isinstance(value, bool) else sa.literal(value)
    bounded = sa.and_(expr <= literal if first.descending else expr >= literal, after)
    if first.descending and _nullable_key(first):
        return (bounded, expr.is_(None))
    return (bounded,)


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


class _DivisionByZero(ArithmeticError):
    pass


def _nonzero(value: Any) -> Any:
    if value == 0:
        raise _DivisionByZero
    return value


#: Python functions SQLite statements may call (see Renderer.sqlite_functions)
_SQLITE_FUNCTIONS: dict[str, tuple[int, Any]] = {
    "odata_regexp": (2, _regexp),
    "odata_lower": (1, casemap.lower),
    "odata_upper": (1, casemap.upper),
    "odata_nonzero": (1, _nonzero),
}


def _execute(conn: Connection, renderer: Renderer, statement: Any) -> Any:
    if renderer.sqlite_functions and not renderer.pg:
        raw = conn.connection.driver_connection
        for name in sorted(renderer.sqlite_functions):
            arity, function = _SQLITE_FUNCTIONS[name]
            raw.create_function(name, arity, function, deterministic=True)  # type: ignore[union-attr]
    try:
        return conn.execute(statement)
    except sa.exc.DataError as exc:
        message = str(exc.orig).splitlines()[0] if exc.orig is not None else "invalid value"
        raise _evaluation_error(message) from None
    except sa.exc.OperationalError as exc:
        # a raising SQLite function: only odata_nonzero raises
        if renderer.pg or "user-defined function raised exception" not in str(exc.orig):
            raise
        raise _evaluation_error("division by zero") from None


def _evaluation_error(message: str) -> ODataError:
    return ODataError(
        f"the query could not be evaluated ({message}); check the arithmetic and "
        "function arguments in $filter and $orderby (div and mod by zero fail, as OData requires)"
    )


# ---- public operations -----------------------------------------------------------------------


def _check_parent(
    ctx: ReadContext, conn: Connection, entity_set: EntitySet, parent_key: str | None
) -> None:
    if entity_set.parent is None or parent_key is None:
        return
    parent = BY_NAME[entity_set.parent]
    table = TABLES[parent.name]
    found = conn.execute(
        sa.select(table.c["id"]).where(table.c[TENANT] == ctx.tenant, table.c["id"] == parent_key)
    ).first()
    if found is None:
        raise entity_not_found(parent.path, parent_key)


def count_collection(
    ctx: ReadContext,
    entity_set: EntitySet,
    raw_query: str,
    *,
    parent_key: str | None = None,
    link: Link | None = None,
) -> int:
    """Rows matching ``$filter`` (the ``/$count`` segment; $top and $skip do not apply)."""
    _options, query = prepare(ctx, entity_set, raw_query)
    if entity_set.requires_scope_filter and link is None:
        check_scope_filter(query)
    table = TABLES[entity_set.name]
    renderer = _renderer(ctx, query, table)
    conditions = _base_conditions(ctx, query, table, renderer, parent_key, link)
    with ctx.store.engine.connect() as conn:
        _check_parent(ctx, conn, entity_set, parent_key)
        statement = sa.select(sa.func.count()).select_from(table).where(*conditions)
        return int(_execute(conn, renderer, statement).scalar_one())


def get_entity(
    ctx: ReadContext,
    entity_set: EntitySet,
    key: str,
    raw_query: str,
    *,
    parent_key: str | None = None,
) -> dict[str, Any]:
    """One entity with ``$select``/``$expand`` applied; NotFound when absent in the tenant."""
    _options, query = prepare(ctx, entity_set, raw_query, single=True)
    table = TABLES[entity_set.name]
    with ctx.store.engine.connect() as conn:
        _check_parent(ctx, conn, entity_set, parent_key)
        conditions = [table.c[TENANT] == ctx.tenant, table.c["id"] == key]
        if parent_key is not None and PARENT in table.c:
            conditions.append(table.c[PARENT] == parent_key)
        row = conn.execute(sa.select(table).where(*conditions)).mappings().first()
        if row is None:
            raise entity_not_found(entity_set.path, key)
        entities = _shape_rows(ctx, conn, entity_set, query, [row])
    body: dict[str, Any] = {
        "@odata.context": context_url(ctx.service_root, entity_set, query, parent_key, entity=True)
    }
    body.update(entities[0])
    return body


def list_collection(
    ctx: ReadContext,
    entity_set: EntitySet,
    raw_query: str,
    *,
    parent_key: str | None = None,
    link: Link | None = None,
    context_path: str | None = None,
) -> dict[str, Any]:
    """The collection body: @odata.context, [@odata.count], value, [@odata.nextLink].

    ``link`` and ``context_path`` serve collections reached through a navigation property: the
    rows are restricted by the link, and context URL and next links use the addressed path.
    """
    options, query = prepare(ctx, entity_set, raw_query)
    if entity_set.requires_scope_filter and link is None:
        check_scope_filter(query)
    table = TABLES[entity_set.name]
    renderer = _renderer(ctx, query, table)
    conditions = _base_conditions(ctx, query, table, renderer, parent_key, link)
    keys = _sort_keys(query, renderer, table)
    pg = renderer.pg
    secret = b""
    binding = ""
    position: paging.Position | None = None
    token = options.values.get("$skiptoken")
    if not entity_set.skip_paging:
        secret = paging.paging_secret(ctx.store)
        binding = _binding(ctx, entity_set, parent_key, options, context_path)
        if token is not None:
            position = paging.decode(secret, binding, token)
    served = position.served if position is not None else 0
    if entity_set.skip_paging:
        page_size = query.top if query.top is not None else entity_set.page_size
        remaining = None
    else:
        page_size = entity_set.page_size
        remaining = None
        if query.top is not None:
            if entity_set.top_caps_total:
                remaining = max(query.top - served, 0)
                page_size = min(page_size, remaining)
            else:
                page_size = query.top
    labels = [key.expr.label(f"_k{index}") for index, key in enumerate(keys)]
    select = sa.select(table, *labels).where(*conditions)
    segments: list[ColumnElement[bool] | None] = [None]
    if position is not None:
        if len(position.keys) != len(keys):
            raise ODataError("the $skiptoken does not match this query", option="$skiptoken")
        segments = list(_seek_segments(keys, position.keys))
    elif query.skip:
        select = select.offset(query.skip)
    order = _order_by(keys, pg)
    context = context_url(ctx.service_root, entity_set, query, parent_key, entity=False)
    if context_path is not None:
        context = context.replace(
            f"#{collection_path(entity_set, parent_key)}", f"#{context_path}", 1
        )
    body: dict[str, Any] = {"@odata.context": context}
    with ctx.store.engine.connect() as conn:
        _check_parent(ctx, conn, entity_set, parent_key)
        if query.count:
            count_statement = sa.select(sa.func.count()).select_from(table).where(*conditions)
            body["@odata.count"] = int(_execute(conn, renderer, count_statement).scalar_one())
        rows: list[Any] = []
        for segment in segments if page_size > 0 else []:
            wanted = page_size + 1 - len(rows)
            if wanted <= 0:
                break
            statement = select if segment is None else select.where(segment)
            statement = statement.order_by(*order).limit(wanted)
            rows.extend(_execute(conn, renderer, statement).mappings())
        more = len(rows) > page_size
        rows = rows[:page_size]
        if remaining is not None and served + len(rows) >= (query.top or 0):
            more = False
        body["value"] = _shape_rows(ctx, conn, entity_set, query, rows)
    if more and rows:
        path = context_path or collection_path(entity_set, parent_key)
        base = f"{ctx.service_root}/{path}"
        if entity_set.skip_paging:
            next_skip = (query.skip or 0) + page_size
            parts = [raw for name, raw in options.parts if name != "$skip"]
            parts.append(f"$skip={next_skip}")
        else:
            last = rows[-1]
            values = tuple(last[f"_k{index}"] for index in range(len(keys)))
            new_token = paging.encode(secret, binding, paging.Position(values, served + len(rows)))
            parts = [raw for name, raw in options.parts if name != "$skiptoken"]
            parts.append(f"$skiptoken={new_token}")
        body["@odata.nextLink"] = base + "?" + "&".join(parts)
    return body


def _binding(
    ctx: ReadContext,
    entity_set: EntitySet,
    parent_key: str | None,
    options: RawOptions,
    context_path: str | None = None,
) -> str:
    """What a continuation token is bound to: tenant, collection and every other option."""
    shaped = sorted((k, v) for k, v in options.values.items() if k != "$skiptoken")
    digest = hashlib.sha256(repr(shaped).encode()).hexdigest()
    return f"{ctx.tenant}\n{entity_set.name}\n{parent_key or ''}\n{context_path or ''}\n{digest}"


# ---- shaping with expansions -----------------------------------------------------------------


def _shape_rows(
    ctx: ReadContext,
    conn: Connection,
    entity_set: EntitySet,
    query: Query,
    rows: Sequence[Any],
) -> list[dict[str, Any]]:
    store = ctx.store
    entities = [
        project(store.to_json(entity_set, row, evolvable=ctx.evolvable), query.select)
        for row in rows
    ]
    for expand in query.expand:
        navigation = expand.navigation
        target = BY_NAME[navigation.target]
        links = [row[navigation.local] for row in rows]
        wanted = sorted({link for link in links if link is not None})
        grouped: dict[Any, list[dict[str, Any]]] = {}
        if wanted:
            grouped = _load_expansion(ctx, conn, target, expand.query, navigation.remote, wanted)
        for entity, link, row in zip(entities, links, rows, strict=True):
            related = grouped.get(link, [])
            if navigation.collection:
                if navigation.remote == PARENT:
                    entity[f"{navigation.name}@odata.context"] = context_url(
                        ctx.service_root, target, expand.query, row["id"], entity=False
                    )
                if expand.query.count:
                    entity[f"{navigation.name}@odata.count"] = len(related)
                skip = expand.query.skip or 0
                selected = related[skip:]
                if expand.query.top is not None:
                    selected = selected[: expand.query.top]
                entity[navigation.name] = selected
            else:
                entity[navigation.name] = related[0] if related else None
    return entities


def _load_expansion(
    ctx: ReadContext,
    conn: Connection,
    target: EntitySet,
    query: Query,
    remote: str,
    wanted: list[Any],
) -> dict[Any, list[dict[str, Any]]]:
    table = TABLES[target.name]
    renderer = _renderer(ctx, query, table)
    conditions = [table.c[TENANT] == ctx.tenant, table.c[remote].in_(wanted)]
    if query.filter is not None:
        conditions.append(renderer.where(query.filter))
    keys = _sort_keys(query, renderer, table)
    statement = sa.select(table).where(*conditions).order_by(*_order_by(keys, renderer.pg))
    rows = list(_execute(conn, renderer, statement).mappings())
    shaped = _shape_rows(ctx, conn, target, query, rows)
    grouped: dict[Any, list[dict[str, Any]]] = {}
    for row, entity in zip(rows, shaped, strict=True):
        grouped.setdefault(row[remote], []).append(entity)
    return grouped


__all__ = ["count_collection", "get_entity", "list_collection"]
