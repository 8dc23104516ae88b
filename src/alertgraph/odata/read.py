"""The read engine: bind a request's options, choose the page, run the SQL, hand rows to shape.py.

Paging policy lives here ($top is the page size; the next link continues with a signed keyset
$skiptoken, or with $skip where the set's row says so); the keyset SQL is keyset.py's, running
statements statements.py's, tokens paging.py's and the JSON shape.py's.
"""

from __future__ import annotations

import hashlib
from collections.abc import Hashable
from typing import Any

import orjson
import sqlalchemy as sa
from sqlalchemy.engine import Connection
from sqlalchemy.sql.elements import ColumnElement

from alertgraph.errors import NotFound, ODataError, entity_not_found
from alertgraph.odata import counts, keyset, paging, plans, statements
from alertgraph.odata.context import ReadContext
from alertgraph.odata.options import RawOptions, split_query
from alertgraph.odata.query import Query, bind_query, check_scope_filter
from alertgraph.odata.shape import (
    collection_path,
    context_prefix,
    context_url,
    projected_entities,
    projection_serves,
    shape_rows,
    stored_columns,
    stored_entities,
    stored_serves,
)
from alertgraph.odata.sql import Renderer
from alertgraph.schema.endpoints import BY_NAME, EntitySet
from alertgraph.store.database import PARENT, STORED_JSON, TABLES, TENANT
from alertgraph.store.prepared import Prepared

#: A collection reached through a non-contained navigation: rows whose property equals a value
#: (``security/incidents/{id}/alerts`` is alerts with ``incidentId`` = id).
Link = tuple[str, Any]


def prepare(
    ctx: ReadContext, entity_set: EntitySet, raw_query: str, *, single: bool = False
) -> tuple[RawOptions, Query]:
    """Split and bind the request's query options (only $select and $expand for one entity)."""
    beta = ctx.version == "beta"
    paged = not (entity_set.skip_paging or single)
    if paged:
        raw_query = paging.last_top_wins(raw_query, beta=beta)
    options = split_query(
        raw_query,
        entity_set,
        beta=beta,
        strict=ctx.limits.strict_graph,
        allowed_extra=frozenset({"$skiptoken"}) if paged else frozenset(),
    )
    values = options.values
    if single:
        values = {k: v for k, v in values.items() if k in ("$select", "$expand")}
    return options, bind_query(entity_set, values, limits=ctx.limits)


def _conditions(
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


def _count_of(table: Any, conditions: list[ColumnElement[bool]]) -> Any:
    """The count as a subquery of its own (not correlated with the page's select of ``table``)."""
    counted = sa.select(sa.func.count()).select_from(table).where(*conditions)
    return counted.correlate(None).scalar_subquery()


def _count(conn: Connection, table: Any, conditions: list[ColumnElement[bool]]) -> int:
    statement = sa.select(sa.func.count()).select_from(table).where(*conditions)
    return int(statements.execute(conn, statement).scalar_one())


# ---- public operations -----------------------------------------------------------------------


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
    renderer = statements.renderer(ctx, query, table)
    conditions = _conditions(ctx, query, table, renderer, parent_key, link)
    key: Hashable | None = None
    if not renderer.used_now:  # the request's query decides the count, as a plan's SQL does
        key = ("$count", entity_set.name, raw_query, ctx.tenant, ctx.version, parent_key, link)
        try:
            hash(key)
        except TypeError:
            key = None
    with ctx.store.reading() as conn:
        _check_parent(ctx, conn, entity_set, parent_key)
        if key is None:
            return _count(conn, table, conditions)
        return counts.counts_of(ctx.store).remembered(
            conn, ctx.tenant, key, lambda: _count(conn, table, conditions)
        )


def get_entity(
    ctx: ReadContext,
    entity_set: EntitySet,
    key: str,
    raw_query: str,
    *,
    parent_key: str | None = None,
) -> Any:
    """One entity (context ``.../$entity``) with $select/$expand; NotFound when absent.

    A dict, or with ``ctx.raw`` possibly the serialized body (an orjson.Fragment).
    """
    cache = plans.plans_of(ctx.store)
    cache_key = _entity_key(ctx, entity_set, raw_query) if parent_key is None else None
    plan: plans.EntityPlan | None = (
        cache.get(cache_key, entity_set) if cache_key is not None else None
    )
    if plan is not None:
        with ctx.store.reading() as conn:
            found = plan.row.rows(conn, {"tenant": ctx.tenant, "key": key})
        if not found:
            raise entity_not_found(entity_set.path, key)
        if ctx.rider is not None:  # the plan was made with it: its key is in the plan's
            ctx.rider.carried, ctx.rider.value = True, found[0][1]
        if found[0][0] is not None:
            return orjson.Fragment(plan.prefix + found[0][0][1:])
    _options, query = prepare(ctx, entity_set, raw_query, single=True)
    table = TABLES[entity_set.name]
    context = context_url(ctx.service_root, entity_set, query, parent_key, entity=True)
    stored = stored_serves(ctx, query)
    if stored and cache_key is not None and plan is None:
        riding = [ctx.rider.column] if ctx.rider is not None else []
        lookup = sa.select(table.c[STORED_JSON], *riding).where(
            table.c[TENANT] == sa.bindparam("tenant", ""), table.c["id"] == sa.bindparam("key", "")
        )
        cache.put(
            cache_key,
            plans.EntityPlan(
                entity_set,
                Prepared(lookup, ctx.store.engine.dialect),
                context_prefix(context),
                context,
            ),
        )
    with ctx.store.reading() as conn:
        _check_parent(ctx, conn, entity_set, parent_key)
        if ctx.rider is not None:  # no kept lookup to carry it: on the same connection
            value = conn.execute(sa.select(ctx.rider.column), {"tenant": ctx.tenant}).scalar()
            ctx.rider.carried, ctx.rider.value = True, value
        conditions = [table.c[TENANT] == ctx.tenant, table.c["id"] == key]
        if parent_key is not None and PARENT in table.c:
            conditions.append(table.c[PARENT] == parent_key)
        projected = projection_serves(ctx, query)
        columns = stored_columns(table) if stored or projected else [table]
        row = conn.execute(sa.select(*columns).where(*conditions)).mappings().first()
        if row is None:
            raise entity_not_found(entity_set.path, key)
        if stored and row[STORED_JSON] is not None:
            # the stored object with the context URL spliced in as its first member
            return orjson.Fragment(context_prefix(context) + row[STORED_JSON][1:])
        if projected:
            entities = projected_entities(ctx, conn, entity_set, query.select, [row])
        else:
            if stored:  # a row written before stored JSON existed
                row = conn.execute(sa.select(table).where(*conditions)).mappings().one()
            entities = shape_rows(ctx, conn, entity_set, query, [row])
    body: dict[str, Any] = {"@odata.context": context}
    body.update(entities[0])
    return body


def written_entity(
    ctx: ReadContext, entity_set: EntitySet, key: str, stored_json: str | None
) -> Any:
    """What ``get_entity`` without options answers, for an entity a write has just stored:
    from the stored JSON the write made (``Tx.stored_json``), without reading the row again.
    Read as usual when a plain read is shaped instead (/v1.0, evolvable enums, no stored JSON).
    """
    if stored_json is None or not stored_serves(ctx, None):
        return get_entity(ctx, entity_set, key, "")
    context = context_url(ctx.service_root, entity_set, None, None, entity=True)
    return orjson.Fragment(context_prefix(context) + stored_json[1:])


def _entity_key(ctx: ReadContext, entity_set: EntitySet, raw_query: str) -> tuple[Any, ...]:
    """Everything a plan of one entity's read depends on (the key and tenant are binds)."""
    return (
        "entity",
        id(entity_set),
        raw_query,
        ctx.service_root,
        ctx.version,
        ctx.evolvable,
        ctx.raw,
        ctx.limits,
        ctx.rider.key if ctx.rider is not None else None,
    )


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

    ``raw_query`` is the URL's query string as received (still percent-encoded). Raises
    ODataError (400) for any invalid option, NotFound when ``parent_key`` names no entity.
    ``link`` = (property, value) restricts the rows for a navigation such as
    ``incidents/{id}/alerts``, whose path ``context_path`` then appears in context and next links.
    ``$top`` is the page size (the set's page size without it); a next link follows while rows
    remain and keeps that page size.
    """
    cache = plans.plans_of(ctx.store)
    cache_key = _list_key(ctx, entity_set, raw_query, parent_key, link, context_path)
    plan: plans.ListPlan | None = (
        cache.get(cache_key, entity_set) if cache_key is not None else None
    )
    if plan is None:
        plan, keep = _list_plan(ctx, entity_set, raw_query, parent_key, link, context_path)
        if keep and cache_key is not None:
            cache.put(cache_key, plan)
    return _run_list_plan(ctx, entity_set, parent_key, plan)


def _list_plan(
    ctx: ReadContext,
    entity_set: EntitySet,
    raw_query: str,
    parent_key: str | None,
    link: Link | None,
    context_path: str | None,
) -> tuple[plans.ListPlan, bool]:
    """The plan of one page, and whether it may be kept (not when it holds the request's instant).

    Raises ODataError for an invalid option or $skiptoken: nothing that failed is kept.
    """
    options, query = prepare(ctx, entity_set, raw_query)
    if entity_set.requires_scope_filter and link is None:
        check_scope_filter(query)
    table = TABLES[entity_set.name]
    renderer = statements.renderer(ctx, query, table)
    conditions = _conditions(ctx, query, table, renderer, parent_key, link)
    keys = keyset.sort_keys(query, renderer, table)
    page_size = query.top if query.top is not None else entity_set.page_size
    secret = b""
    binding = ""
    position: paging.Position | None = None
    if not entity_set.skip_paging:
        secret = paging.paging_secret(ctx.store)
        binding = _binding(ctx, entity_set, parent_key, options, context_path)
        token = options.values.get("$skiptoken")
        if token is not None:
            position = paging.decode(secret, binding, token)
    labels = [key.expr.label(f"_k{index}") for index, key in enumerate(keys)]
    stored = stored_serves(ctx, query)
    projected = projection_serves(ctx, query)  # never with stored: that has no $select
    columns = stored_columns(table) if stored or projected else [table]
    select = sa.select(*columns, *labels).where(*conditions)
    segments: list[ColumnElement[bool] | None] = [None]
    if position is not None:
        if len(position.keys) != len(keys):
            raise ODataError("the $skiptoken does not match this query", option="$skiptoken")
        segments = list(keyset.seek_segments(keys, position.keys))
    elif query.skip:
        select = select.offset(query.skip)
    if page_size == 0:  # $top=0: the count alone, if asked
        segments = []
    context = context_url(ctx.service_root, entity_set, query, parent_key, entity=False)
    if context_path is not None:
        context = context.replace(
            f"#{collection_path(entity_set, parent_key)}", f"#{context_path}", 1
        )
    segment_statements = [select if s is None else select.where(s) for s in segments]
    dialect = ctx.store.engine.dialect
    # The page size is written into the SQL, not bound: PostgreSQL then knows the LIMIT when it
    # plans a prepared page generically, costs that plan like the one made for the values, and
    # after a few runs keeps it (its default plan_cache_mode) instead of planning every page
    # again; a bound LIMIT made the generic plan look like a tenth of the table.
    limit = sa.literal(page_size + 1, literal_execute=True)
    order = keyset.order_by(keys, renderer.pg)
    pages = [
        Prepared(statement.order_by(*order).limit(limit), dialect)
        for statement in segment_statements
    ]
    count: Prepared | None = None
    counted_first = clocked_first = None
    count_key: Hashable | None = None
    if query.count:
        count = Prepared(sa.select(sa.func.count()).select_from(table).where(*conditions), dialect)
        if not renderer.used_now:  # a count as of the request's instant is never remembered
            count_key = counts.statement_key(ctx.tenant, count, count.parameters())
        if renderer.pg and segment_statements:
            # PostgreSQL: the tenant's change clock, and the count unless it is remembered, ride
            # along with the page's first statement (one round trip; an uncorrelated subquery
            # is evaluated once); read apart when that returns no row
            first = segment_statements[0]
            clock = counts.clock_column(ctx.tenant)
            counted_first = Prepared(
                first.add_columns(_count_of(table, conditions).label("_count"), clock)
                .order_by(*order)
                .limit(limit),
                dialect,
            )
            clocked_first = Prepared(
                first.add_columns(clock).order_by(*order).limit(limit), dialect
            )
    path = context_path or collection_path(entity_set, parent_key)
    skipping = entity_set.skip_paging
    plan = plans.ListPlan(
        entity_set=entity_set,
        pages=tuple(pages),
        page_parameters=tuple(page.parameters() for page in pages),
        count=count,
        count_parameters=count.parameters() if count is not None else None,
        count_key=count_key,
        counted_first=counted_first,
        counted_first_parameters=counted_first.parameters() if counted_first else None,
        clocked_first=clocked_first,
        clocked_first_parameters=clocked_first.parameters() if clocked_first else None,
        page_size=page_size,
        columns=tuple(column.name for column in select.selected_columns),
        shaping=None if stored else query,
        projected=projected,
        first_sort_key=len(select.selected_columns) - len(keys),
        sort_keys=len(keys),
        context=context,
        next_base=f"{ctx.service_root}/{path}?",
        next_parts=tuple(
            raw for name, raw in options.parts if name != ("$skip" if skipping else "$skiptoken")
        ),
        next_skip=(query.skip or 0) + page_size if skipping else None,
        secret=secret,
        binding=binding,
    )
    return plan, not renderer.used_now


def _list_key(
    ctx: ReadContext,
    entity_set: EntitySet,
    raw_query: str,
    parent_key: str | None,
    link: Link | None,
    context_path: str | None,
) -> tuple[Any, ...] | None:
    """Everything a page's plan depends on; None when a part can't be a key."""
    key = (
        "list",
        id(entity_set),
        raw_query,
        ctx.tenant,
        ctx.service_root,
        ctx.version,
        ctx.evolvable,
        ctx.raw,
        ctx.limits,
        parent_key,
        link,
        context_path,
    )
    try:
        hash(key)
    except TypeError:
        return None
    return key


def _run_list_plan(
    ctx: ReadContext, entity_set: EntitySet, parent_key: str | None, plan: plans.ListPlan
) -> dict[str, Any]:
    """A page by its plan: one statement (two for SQLite's $count), rows spliced as stored or
    shaped from their columns."""
    body: dict[str, Any] = {"@odata.context": plan.context}
    with ctx.store.reading() as conn:
        _check_parent(ctx, conn, entity_set, parent_key)
        rows: list[tuple[Any, ...]] = []
        tally = _Tally(ctx, conn, plan)
        for number, page in enumerate(plan.pages):
            if number == 0 and tally.first is not None:
                found = statements.run(conn, tally.first, tally.first_parameters)
                tally.ride_along(found)
            else:
                found = statements.run(conn, page, plan.page_parameters[number])
            rows += found
            if len(rows) > plan.page_size:
                break
        if plan.count is not None:
            body["@odata.count"] = tally.count()
        more = len(rows) > plan.page_size
        rows = rows[: plan.page_size]
        if plan.shaping is None and all(row[0] is not None for row in rows):
            body["value"] = [orjson.Fragment(row[0]) for row in rows]
        else:
            # (only the first segment carries PostgreSQL's count column)
            named = [dict(zip(plan.columns, row, strict=False)) for row in rows]
            if plan.shaping is None:  # rows written before stored JSON existed
                body["value"] = stored_entities(ctx, conn, entity_set, named)
            elif plan.projected:
                select = plan.shaping.select
                body["value"] = projected_entities(ctx, conn, entity_set, select, named)
            else:
                body["value"] = shape_rows(ctx, conn, entity_set, plan.shaping, named)
    if more and rows:
        if plan.next_skip is not None:
            last_part = f"$skip={plan.next_skip}"
        else:
            start = plan.first_sort_key
            values = tuple(rows[-1][start : start + plan.sort_keys])
            token = paging.encode(plan.secret, plan.binding, paging.Position(values))
            last_part = f"$skiptoken={token}"
        body["@odata.nextLink"] = plan.next_base + "&".join((*plan.next_parts, last_part))
    return body


class _Tally:
    """The page's ``$count``: remembered (odata.counts) or counted, with the tenant's change
    clock always read before the count it stamps.

    SQLite reads the clock with a statement of its own (a few microseconds). PostgreSQL reads it
    in the page's first statement, which also carries the count unless one is remembered for
    the plan's count; only a remembered count that turns out stale costs a second round trip.
    """

    __slots__ = ("clock", "conn", "counted", "ctx", "first", "first_parameters", "fresh", "plan")

    def __init__(self, ctx: ReadContext, conn: Connection, plan: plans.ListPlan) -> None:
        self.ctx, self.conn, self.plan = ctx, conn, plan
        self.counted: int | None = None
        self.clock: str | None = None
        self.fresh = False  # the clock was read with the first page
        self.first: Prepared | None = None  # PostgreSQL: what runs in place of pages[0]
        self.first_parameters: Any = None
        if plan.count_key is not None and plan.count_key in counts.counts_of(ctx.store):
            self.first, self.first_parameters = plan.clocked_first, plan.clocked_first_parameters
        elif plan.counted_first is not None:
            self.first, self.first_parameters = plan.counted_first, plan.counted_first_parameters

    def ride_along(self, found: list[tuple[Any, ...]]) -> None:
        """Take the clock (last column) and the count (before it, if asked) from the first
        page's rows, which still carry them (shaping ignores columns past the sort keys)."""
        if not found:
            return
        row = found[0]
        self.clock = None if row[-1] is None else str(row[-1])
        self.fresh = True
        memory = counts.counts_of(self.ctx.store)
        if self.first is self.plan.counted_first:
            self.counted = int(row[-2])
            if self.plan.count_key is not None:
                memory.remember(self.plan.count_key, self.clock, self.counted)
        elif self.plan.count_key is not None:
            self.counted = memory.get(self.plan.count_key, self.clock)

    def count(self) -> int:
        if self.counted is not None:
            return self.counted
        plan, statement = self.plan, self.plan.count
        assert statement is not None

        def counting() -> int:
            return int(statements.run(self.conn, statement, plan.count_parameters)[0][0])

        if plan.count_key is None:
            return counting()
        memory = counts.counts_of(self.ctx.store)
        if not self.fresh:  # SQLite, or the first page had no row to carry the clock
            return memory.remembered(self.conn, self.ctx.tenant, plan.count_key, counting)
        counted = counting()  # remembered, but at another clock
        memory.remember(plan.count_key, self.clock, counted)
        return counted


def _binding(
    ctx: ReadContext,
    entity_set: EntitySet,
    parent_key: str | None,
    options: RawOptions,
    context_path: str | None = None,
) -> str:
    """What a continuation token is bound to: tenant, collection and every option but the page
    size ($top, which a client may change or add on a next link) and the token itself."""
    shaped = sorted((k, v) for k, v in options.values.items() if k not in ("$skiptoken", "$top"))
    digest = hashlib.sha256(repr(shaped).encode()).hexdigest()
    return f"{ctx.tenant}\n{entity_set.name}\n{parent_key or ''}\n{context_path or ''}\n{digest}"


# ---- navigation ------------------------------------------------------------------------------


def follow(
    ctx: ReadContext, entity_set: EntitySet, key: str, name: str, *, parent_key: str | None = None
) -> tuple[EntitySet, Link]:
    """The set a navigation property of one entity reaches, and the link that selects its rows.

    NotFound when the entity is absent in the tenant.
    """
    navigation = entity_set.navigation(name)
    assert navigation is not None
    source = TABLES[entity_set.name]
    where = [source.c[TENANT] == ctx.tenant, source.c["id"] == key]
    if parent_key is not None:
        where.append(source.c[PARENT] == parent_key)
    with ctx.store.reading() as conn:
        found = conn.execute(sa.select(source.c[navigation.local]).where(*where)).first()
    if found is None:
        raise NotFound(f"No {entity_set.path} item has the id '{key}'.")
    return BY_NAME[navigation.target], (navigation.remote, found[0])


def get_linked(
    ctx: ReadContext, entity_set: EntitySet, link: Link, raw_query: str, *, key: str | None = None
) -> Any:
    """The entity of ``entity_set`` that ``link`` selects (with ``key``: that one, if linked).

    None when no entity is linked (a single-valued navigation then answers 204).
    """
    if link[1] is None:
        return None
    table = TABLES[entity_set.name]
    where = [table.c[TENANT] == ctx.tenant, table.c[link[0]] == link[1]]
    if key is not None:
        where.append(table.c["id"] == key)
    with ctx.store.reading() as conn:
        found = conn.execute(sa.select(table.c["id"]).where(*where)).scalar()
    if found is None:
        return None
    return get_entity(ctx, entity_set, str(found), raw_query)
