"""The read-side OData engine: query options → SQL → Graph JSON (the only module http/ imports).

Pipeline: options.py (split the query string) → parser.py (syntax) → bind.py/query.py (names,
types, limits) → sql.py (SQLAlchemy Core) → read.py (pages, expansions) → shape.py (JSON).
"""

from __future__ import annotations

from typing import Any

from alertgraph.odata import read
from alertgraph.odata.context import QuerySettings, ReadContext
from alertgraph.schema.endpoints import EntitySet


def list_collection(
    ctx: ReadContext,
    entity_set: EntitySet,
    raw_query: str,
    *,
    parent_key: str | None = None,
    link: tuple[str, Any] | None = None,
    context_path: str | None = None,
) -> dict[str, Any]:
    """The collection body: @odata.context, [@odata.count], value, [@odata.nextLink].

    ``raw_query`` is the URL's query string as received (still percent-encoded). Raises
    ODataError (400) for any invalid option, NotFound when ``parent_key`` names no entity.
    ``link`` = (property, value) restricts the rows for a navigation such as
    ``incidents/{id}/alerts``, whose path ``context_path`` then appears in context and next links.
    """
    return read.list_collection(
        ctx, entity_set, raw_query, parent_key=parent_key, link=link, context_path=context_path
    )


def get_entity(
    ctx: ReadContext,
    entity_set: EntitySet,
    key: str,
    raw_query: str,
    *,
    parent_key: str | None = None,
) -> dict[str, Any]:
    """One entity (context ``.../$entity``) with $select/$expand; NotFound when absent."""
    return read.get_entity(ctx, entity_set, key, raw_query, parent_key=parent_key)


def count_collection(
    ctx: ReadContext,
    entity_set: EntitySet,
    raw_query: str,
    *,
    parent_key: str | None = None,
    link: tuple[str, Any] | None = None,
) -> int:
    """The ``/$count`` segment: rows matching $filter (and ``link``, as in list_collection)."""
    return read.count_collection(ctx, entity_set, raw_query, parent_key=parent_key, link=link)


__all__ = ["QuerySettings", "ReadContext", "count_collection", "get_entity", "list_collection"]
