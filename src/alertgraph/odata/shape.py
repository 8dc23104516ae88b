"""Rows → Graph JSON: $select projection, nested $expand results, @odata.context URLs.

Last step of the read path; read.py hands it rows and the bound Query.
"""

from __future__ import annotations

from typing import Any

from alertgraph.odata.query import Query
from alertgraph.schema.endpoints import BY_NAME, EntitySet


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
    service_root: str, entity_set: EntitySet, query: Query, parent_key: str | None, *, entity: bool
) -> str:
    clause = select_expand_clause(query)
    url = f"{service_root}/$metadata#{collection_path(entity_set, parent_key)}"
    if clause:
        url += f"({clause})"
    return url + ("/$entity" if entity else "")


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
