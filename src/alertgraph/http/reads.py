"""The generic Graph handlers: one function per kind of target, for every entity set.

Reads go through the OData engine (alertgraph.odata); writes and actions through writes.py.
Nothing here knows a particular endpoint: behaviour comes from the EntitySet rows and the EDM.
"""

from __future__ import annotations

from collections.abc import Callable

from alertgraph import odata
from alertgraph.errors import MethodNotAllowed, NotFound
from alertgraph.http import batch, containers, writes
from alertgraph.http.call import Call, Reply
from alertgraph.http.routing import Target
from alertgraph.identity.auth import authorize
from alertgraph.schema.endpoints import EntitySet

Handler = Callable[[Call], Reply]


def _require(call: Call, es: EntitySet, operation: str) -> None:
    authorize(call.principal, es, operation, request_id=call.request_id)


def read_collection(call: Call) -> Reply:
    target = call.target
    assert target.entity_set is not None
    _require(call, target.entity_set, "read")
    body = odata.list_collection(
        call.read_context(raw=True),
        target.entity_set,
        call.raw_query,
        parent_key=target.parent_key,
    )
    return Reply(body=body)


def read_count(call: Call) -> Reply:
    target = call.target
    assert target.entity_set is not None
    _require(call, target.entity_set, "read")
    if target.navigation == "comments":  # a structural collection, counted from the entity
        assert target.key is not None
        entity = odata.get_entity(call.read_context(), target.entity_set, target.key, "")
        return Reply(body=str(len(entity.get("comments") or [])), kind="text")
    if target.navigation is not None:
        nav_count = _navigation(call, count=True)
        return Reply(body=str(nav_count.body), kind="text")
    total = odata.count_collection(
        call.read_context(), target.entity_set, call.raw_query, parent_key=target.parent_key
    )
    return Reply(body=str(total), kind="text")


def read_entity(call: Call) -> Reply:
    target = call.target
    assert target.entity_set is not None
    assert target.key is not None
    _require(call, target.entity_set, "read")
    body = odata.get_entity(
        call.read_context(raw=True),
        target.entity_set,
        target.key,
        call.raw_query,
        parent_key=target.parent_key,
    )
    return Reply(body=body)


def read_navigation(call: Call) -> Reply:
    """``incidents/{id}/alerts``, ``alerts/{id}/alertDefinition``, ``alertConfiguration``..."""
    return _navigation(call, count=False)


def _navigation(call: Call, *, count: bool) -> Reply:
    target = call.target
    es = target.entity_set
    assert es is not None
    assert target.key is not None
    assert target.navigation is not None
    nav = es.navigation(target.navigation)
    assert nav is not None
    # incidents/{id}/alerts needs the incident read permission only (the row's access says so).
    _require(call, es, nav.name if nav.name in es.access else "read")
    ctx = call.read_context(raw=True)
    related, link = odata.follow(ctx, es, target.key, nav.name, parent_key=target.parent_key)
    if nav.collection and target.nav_key is not None:
        # One related entity through the navigation (incidents/{id}/alerts/{alertId}): it must
        # really be linked, or it is not found at this address.
        entity = odata.get_linked(ctx, related, link, call.raw_query, key=target.nav_key)
        if entity is None:
            raise NotFound(f"No item '{target.nav_key}' under {target.path}.")
        return Reply(body=entity)
    if nav.collection:
        if count:
            return Reply(body=odata.count_collection(ctx, related, call.raw_query, link=link))
        return Reply(
            body=odata.list_collection(
                ctx, related, call.raw_query, link=link, context_path=target.path
            )
        )
    entity = odata.get_linked(ctx, related, link, call.raw_query)
    return Reply(status=204) if entity is None else Reply(body=entity)


def service_document(call: Call) -> Reply:
    roots = sorted({es.path.split("/")[0] for es in _sets_of(call.target.version)})
    return Reply(
        body={
            "@odata.context": f"{call.service_root}/$metadata",
            "value": [{"name": name, "kind": "Singleton", "url": name} for name in roots],
        }
    )


def _sets_of(version: str) -> list[EntitySet]:
    from alertgraph.schema.endpoints import ENTITY_SETS

    return [es for es in ENTITY_SETS if version in es.versions]


#: (target kind, HTTP method) → handler
ROUTES: dict[tuple[str, str], Handler] = {
    ("collection", "GET"): read_collection,
    ("collection", "POST"): writes.create_entity,
    ("count", "GET"): read_count,
    ("entity", "GET"): read_entity,
    ("entity", "PATCH"): writes.patch_entity,
    ("comments", "POST"): writes.add_comments,
    ("comments", "GET"): writes.list_comments,
    ("action", "POST"): writes.run_action,
    ("navigation", "GET"): read_navigation,
    ("metadata", "GET"): service_document,  # answered before routing; listed for 405s
    ("service", "GET"): service_document,
    ("container", "GET"): containers.get_container,
    ("batch", "POST"): batch.nested_batch,  # the outer $batch is run by app.py
}


def handler_for(target: Target, method: str) -> Handler:
    """The handler of a target and method; 405 naming the allowed methods otherwise."""
    method = "GET" if method == "HEAD" else method
    found = ROUTES.get((target.kind, method))
    if found is not None:
        if method == "POST" and target.kind == "collection":
            es = target.entity_set
            if es is None or not es.insertable or target.parent_key is not None:
                found = None
        if found is not None:
            return found
    allowed = sorted(m for (kind, m) in ROUTES if kind == target.kind)
    if target.kind == "collection" and (
        target.entity_set is None or not target.entity_set.insertable
    ):
        allowed = [m for m in allowed if m != "POST"]
    raise MethodNotAllowed(
        f"The HTTP method '{method}' is not allowed on this resource. "
        f"Allowed: {', '.join(allowed)}.",
        headers={"Allow": ", ".join(allowed)},
    )
