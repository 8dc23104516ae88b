"""The write handlers: PATCH, comments, create and the bound actions (spec 4.8), for every set.

Each handler authorizes, validates the body (rules.validate), runs the set's rule from
rules.endpoint_rules in one audited transaction (store.transaction) and answers with the status the
endpoint row records. Reads of the result go
through the OData engine, so a write answers with exactly what a GET would show.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from alertgraph import odata
from alertgraph.errors import BadRequest, MethodNotAllowed, NotFound, did_you_mean
from alertgraph.http.call import Call, Reply
from alertgraph.identity.auth import authorize
from alertgraph.rules import alerts_incidents
from alertgraph.rules.endpoint_rules import ACTION_RULES, CREATE_RULES, PATCH_RULES
from alertgraph.rules.request import Outcome, WriteRequest
from alertgraph.rules.validate import Problems, validate_patch
from alertgraph.schema.endpoints import EntitySet
from alertgraph.store.database import TENANT, TYPE
from alertgraph.store.transaction import Actor, Tx, not_found, run_write

COMMENT_TYPE = "microsoft.graph.security.alertComment"


def _actor(call: Call) -> Actor:
    principal = call.principal
    return Actor(
        tenant=call.tenant,
        name=principal.display_name,
        app_id=principal.app_id,
        request_id=call.request_id,
    )


def _entity_set(call: Call) -> EntitySet:
    es = call.target.entity_set
    assert es is not None
    return es


def _key(call: Call) -> str:
    key = call.target.key
    assert key is not None
    return key


def _entity_reply(call: Call, es: EntitySet, key: str, status: int = 200) -> Reply:
    return Reply(status=status, body=odata.get_entity(call.read_context(), es, key, ""))


# ---- PATCH ------------------------------------------------------------------------------------


def _write_request(call: Call) -> WriteRequest:
    return WriteRequest(
        store=call.store,
        actor=_actor(call),
        body=call.body,
        evolvable=call.evolvable,
        service_root=call.service_root,
        key=call.target.key,
        parent_key=call.target.parent_key,
        after_response=call.after_response,
    )


def _reply(call: Call, es: EntitySet, outcome: Outcome) -> Reply:
    if outcome.entity_key is not None:
        reply = _entity_reply(call, es, outcome.entity_key, status=outcome.status)
    else:
        reply = Reply(status=outcome.status, body=outcome.body)
    reply.headers.update(outcome.headers)
    return reply


def patch_entity(call: Call) -> Reply:
    """PATCH one entity through the set's rule; answers with the row's status (spec 4.8)."""
    es = _entity_set(call)
    key = _key(call)
    authorize(call.principal, es, "write", request_id=call.request_id)
    rule = PATCH_RULES.get(es.name)
    if rule is None:
        raise MethodNotAllowed(
            f"{es.path} items are read-only; PATCH is not allowed here. Allowed: GET.",
            headers={"Allow": "GET"},
        )
    changes = validate_patch(
        call.store,
        es,
        call.body,
        evolvable=call.evolvable,
        required=es.patch_required,
        type_name=_runtime_type(call, es, key) if es.patch_by_runtime_type else None,
        require_type=es.patch_by_runtime_type,
    )
    if rule.check is not None:
        rule.check(changes)

    def patched(tx: Tx) -> str | None:
        rule.apply(tx, key, changes)
        return tx.stored_json(es, key)

    stored_json = run_write(call.store, _actor(call), patched)
    if es.patch_status == 200:  # the row as committed, not read back
        return Reply(body=odata.written_entity(call.read_context(raw=True), es, key, stored_json))
    return Reply(status=es.patch_status)


def _runtime_type(call: Call, es: EntitySet, key: str) -> str:
    """The stored (derived) type of an entity; 404 when the tenant has no such entity."""
    table = call.store.tables[es.name]
    with call.store.reading() as conn:
        found = conn.execute(
            select(table.c[TYPE]).where(table.c[TENANT] == call.tenant, table.c.id == key)
        ).scalar()
    if found is None:
        raise not_found(es, key)
    return str(found)


# ---- comments ---------------------------------------------------------------------------------


def add_comments(call: Call) -> Reply:
    """POST comments: 200 + every comment of the alert or incident (spec S4, S11)."""
    es = _entity_set(call)
    key = _key(call)
    authorize(call.principal, es, "write", request_id=call.request_id)
    texts = _comment_texts(call)
    comments = run_write(
        call.store,
        _actor(call),
        lambda tx: alerts_incidents.add_comments(tx, es, key, texts),
    )
    return _comments_reply(call, comments)


def list_comments(call: Call) -> Reply:
    """GET comments: the structural collection as a collection response."""
    es = _entity_set(call)
    key = _key(call)
    authorize(call.principal, es, "read", request_id=call.request_id)
    entity = odata.get_entity(call.read_context(), es, key, "")
    return _comments_reply(call, list(entity.get("comments") or []))


def _comments_reply(call: Call, comments: list[dict[str, Any]]) -> Reply:
    context = f"{call.service_root}/$metadata#{call.target.path}"
    return Reply(body={"@odata.context": context, "value": comments})


def _comment_texts(call: Call) -> list[str]:
    """The comment texts of a body: the documented object, or the SDK's array of them.

    The official SDK posts ``[{...}]`` (sdk-notes 2); Graph itself answers that array with 400
    "Empty Payload", which ``strict_graph`` reproduces.
    """
    body = call.body
    example = '{"@odata.type": "microsoft.graph.security.alertComment", "comment": "..."}'
    if body is None:
        raise BadRequest(f"A request body is required: {example}.")
    if isinstance(body, list):
        if call.settings.strict_graph:
            raise BadRequest(
                "Empty Payload: Graph answers a JSON array here with this 400, because the "
                "comments action reads exactly one alertComment object and finds none in an "
                "array. The official Graph SDKs send such an array; send the object instead, "
                f"{example}, or run the server without strict_graph to accept both forms."
            )
        if not body:
            raise BadRequest(f"The array of comments is empty; send at least one, like {example}.")
        items = body
    else:
        items = [body]
    problems = Problems()
    texts: list[str] = []
    for index, item in enumerate(items):
        where = f"[{index}]." if isinstance(body, list) else ""
        if not isinstance(item, dict):
            problems.add(f"[{index}]" if where else "", f"must be an object like {example}")
            continue
        for name, value in item.items():
            if name == "@odata.type":
                if not isinstance(value, str) or value.lstrip("#").lower() != COMMENT_TYPE.lower():
                    problems.add(where + name, f"'{value}' is not '#{COMMENT_TYPE}'")
            elif name in ("createdByDisplayName", "createdDateTime"):
                problems.add(where + name, "is filled in by the server; leave it out")
            elif name != "comment" and not name.startswith("@"):
                problems.add(
                    where + name,
                    f"is not a property of {COMMENT_TYPE}." + did_you_mean(name, ["comment"]),
                )
        text = item.get("comment")
        if not isinstance(text, str) or not text.strip():
            problems.add(where + "comment", "is required: a non-empty string")
        else:
            texts.append(text)
    problems.raise_if_any()
    return texts


# ---- create and actions -----------------------------------------------------------------------


def create_entity(call: Call) -> Reply:
    """POST to an insertable collection (manual alerts, spec S5): 201 + the new entity."""
    es = _entity_set(call)
    if call.target.version != "beta":
        raise MethodNotAllowed(
            f"Items of {es.path} are created on /beta only; POST /beta/{es.path}. "
            f"Allowed on /{call.target.version}/{es.path}: GET.",
            headers={"Allow": "GET"},
        )
    authorize(call.principal, es, "write", request_id=call.request_id)
    return _reply(call, es, CREATE_RULES[es.name](_write_request(call)))


def run_action(call: Call) -> Reply:
    """A bound action (createAlert, moveAlerts, mergeIncidents, refresh, remediate...)."""
    es = _entity_set(call)
    action = call.target.action
    assert action is not None
    if call.target.version != "beta":  # spec 4.1: the actions exist on /beta only
        raise NotFound(
            f"Resource not found for the segment '{action}': it is served on /beta only "
            f"(POST /beta/{es.path}/{action}).",
            code="NotFound",
        )
    authorize(call.principal, es, action, request_id=call.request_id)
    rule = ACTION_RULES.get((es.name, action))
    if rule is None:
        raise MethodNotAllowed(f"The action '{action}' is not available on {es.path}.")
    return _reply(call, es, rule(_write_request(call)))
