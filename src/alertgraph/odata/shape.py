"""Rows → Graph JSON: $select projection, $expand (loaded here), @odata.context URLs.

Last step of the read path; read.py hands it a page's rows and the bound Query. Each expansion
costs one extra query with ``IN (...)`` over the page's keys, never one per row.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import orjson
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from alertgraph.odata import keyset, statements
from alertgraph.odata.context import ReadContext
from alertgraph.odata.query import Query
from alertgraph.schema.endpoints import BY_NAME, EntitySet
from alertgraph.store.database import PARENT, STORED_JSON, TABLES, TENANT


def quote_key(key: str) -> str:
    return "'" + key.replace("'", "''") + "'"


def collection_path(entity_set: EntitySet, parent_key: str | None) -> str:
    """The URL path of a collection below the service root; contained sets name their parent's
    key in parentheses, as Graph's context URLs and next links do."""
    if entity_set.parent is None or parent_key is None:
        return entity_set.path
    parent = BY_NAME[entity_set.parent]
    return f"{parent.path}({quote_key(parent_key)})/{entity_set.path.rsplit('/', 1)[1]}"


def select_expand_clause(query: Query) -> str:
    """OData 4.01 context-URL projection: selected properties, then each expansion with ``()``
    or its nested projection; empty when the response holds whole entities."""
    items: list[str] = []
    if query.select is not None:
        items += ["/".join(path) for path in query.select]
    for expand in query.expand:
        items.append(f"{expand.navigation.name}({select_expand_clause(expand.query)})")
    return ",".join(items)


def context_url(
    service_root: str,
    entity_set: EntitySet,
    query: Query | None,
    parent_key: str | None,
    *,
    entity: bool,
) -> str:
    """The response's @odata.context; ``query`` None: whole entities."""
    clause = select_expand_clause(query) if query is not None else ""
    url = f"{service_root}/$metadata#{collection_path(entity_set, parent_key)}"
    if clause:
        url += f"({clause})"
    return url + ("/$entity" if entity else "")


def context_prefix(context: str) -> str:
    """The start of an entity's body whose first member is its @odata.context: a stored object
    follows it without its opening brace (``prefix + stored[1:]``)."""
    return f'{{"@odata.context":{orjson.dumps(context).decode()},'


def project(entity: dict[str, Any], select: tuple[tuple[str, ...], ...] | None) -> dict[str, Any]:
    """Keep control information (``@odata.type``) and the selected properties, in the entity's
    own property order."""
    if select is None:
        return entity
    result: dict[str, Any] = {}
    if "@odata.type" in entity:
        result["@odata.type"] = entity["@odata.type"]
    tops: dict[str, list[tuple[str, ...]]] = {}
    for path in select:
        tops.setdefault(path[0], []).append(path[1:])
    for name, value in entity.items():
        if name not in tops:
            continue
        rests = tops[name]
        if any(not rest for rest in rests):
            result[name] = value
        elif isinstance(value, dict):
            result[name] = project(value, tuple(rests))
        elif isinstance(value, list):  # a complex collection: the members of each item
            result[name] = [
                project(item, tuple(rests)) if isinstance(item, dict) else item for item in value
            ]
        else:
            result[name] = value
    return result


def stored_serves(ctx: ReadContext, query: Query | None) -> bool:
    """Whether the stored JSON is the answer: whole entities, /beta, no evolvable enums
    (``query`` None: a read without options)."""
    return (
        ctx.raw
        and ctx.version == "beta"
        and not ctx.evolvable
        and (query is None or (query.select is None and not query.expand))
    )


def projection_serves(ctx: ReadContext, query: Query) -> bool:
    """Whether a $select is projected from the stored JSON rather than shaped from the columns:
    /beta, no evolvable enums, no $expand (whose links are columns). Parsing the stored object
    costs a fraction of shaping every property from its column."""
    return (
        ctx.version == "beta"
        and not ctx.evolvable
        and query.select is not None
        and not query.expand
    )


def stored_columns(table: Any) -> list[Any]:
    """What a read answered from stored JSON selects: the JSON and the row's key."""
    return [table.c[STORED_JSON], *table.primary_key.columns]


def stored_entities(
    ctx: ReadContext, conn: Connection, entity_set: EntitySet, rows: Sequence[Any]
) -> list[Any]:
    """Each row's stored JSON, spliced into the body as it is (an orjson.Fragment).

    Rows written before the column existed have none: those are read again in one query and
    shaped from their columns.
    """
    table = TABLES[entity_set.name]
    key = [column.name for column in table.primary_key.columns]
    missing = [row for row in rows if row[STORED_JSON] is None]
    shaped: dict[tuple[Any, ...], dict[str, Any]] = {}
    if missing:
        statement = sa.select(table).where(
            table.c[TENANT] == ctx.tenant, table.c["id"].in_({row["id"] for row in missing})
        )
        for full in conn.execute(statement).mappings():
            shaped[tuple(full[name] for name in key)] = ctx.store.to_json(
                entity_set, dict(full), evolvable=False
            )
    return [
        orjson.Fragment(row[STORED_JSON])
        if row[STORED_JSON] is not None
        else shaped[tuple(row[name] for name in key)]
        for row in rows
    ]


def projected_entities(
    ctx: ReadContext,
    conn: Connection,
    entity_set: EntitySet,
    select: tuple[tuple[str, ...], ...] | None,
    rows: Sequence[Any],
) -> list[dict[str, Any]]:
    """Each row's stored JSON (or, without it, the row shaped from its columns), projected by
    $select: the same object shape_rows makes, since the stored JSON is that shape serialized."""
    entities = stored_entities(ctx, conn, entity_set, rows)
    return [
        project(entity if isinstance(entity, dict) else orjson.loads(row[STORED_JSON]), select)
        for entity, row in zip(entities, rows, strict=True)
    ]


def shape_rows(
    ctx: ReadContext,
    conn: Connection,
    entity_set: EntitySet,
    query: Query,
    rows: Sequence[Any],
) -> list[dict[str, Any]]:
    """The Graph JSON of each row, projected by $select, with its $expand results."""
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
    renderer = statements.renderer(ctx, query, table)
    conditions = [table.c[TENANT] == ctx.tenant, table.c[remote].in_(wanted)]
    if query.filter is not None:
        conditions.append(renderer.where(query.filter))
    keys = keyset.sort_keys(query, renderer, table)
    statement = sa.select(table).where(*conditions).order_by(*keyset.order_by(keys, renderer.pg))
    rows = list(statements.execute(conn, statement).mappings())
    shaped = shape_rows(ctx, conn, target, query, rows)
    grouped: dict[Any, list[dict[str, Any]]] = {}
    for row, entity in zip(rows, shaped, strict=True):
        grouped.setdefault(row[remote], []).append(entity)
    return grouped
