"""The write handlers: PATCH, comments, manual alerts and the bound actions (spec 4.8).

Each handler authorizes, validates the body (patch.py), runs the change in one audited transaction
(actions*.py) and answers with the status Graph uses for that operation. Reads of the result go
through the OData engine, so a write answers with exactly what a GET would show.
"""

from __future__ import annotations

import functools
from typing import Any
from urllib.parse import quote

from sqlalchemy import select

from alertgraph import odata
from alertgraph.errors import BadRequest, MethodNotAllowed, NotFound
from alertgraph.http.call import Call, Reply
from alertgraph.identity.auth import authorize
from alertgraph.rules import alerts_incidents as actions_incidents
from alertgraph.rules import manual_alerts as actions_create
from alertgraph.rules import merge as actions_merge
from alertgraph.rules import partner as actions_partner
from alertgraph.rules import pim as pim
from alertgraph.rules.validate import (
    Problems,
    did_you_mean,
    require_object,
    validate_parameters,
    validate_patch,
)
from alertgraph.schema.endpoints import EntitySet
from alertgraph.store.database import TENANT, TYPE
from alertgraph.store.transaction import Actor, not_found, run_write

COMMENT_TYPE = "microsoft.graph.security.alertComment"
MERGE_RESPONSE = "microsoft.graph.security.mergeResponse"
MANUAL_ALERT = actions_create.MANUAL_ALERT


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


def patch_entity(call: Call) -> Reply:
    """PATCH one entity: 200 + entity for security and partner alerts, 204 for PIM (spec 4.8)."""
    es = _entity_set(call)
    key = _key(call)
    authorize(call.principal, es, "write", request_id=call.request_id)
    store, actor, evolvable = call.store, _actor(call), call.evolvable
    match es.name:
        case "alerts_v2":
            changes = validate_patch(store, es, call.body, evolvable=evolvable)
            run_write(store, actor, lambda tx: actions_incidents.update_alert(tx, key, changes))
            return _entity_reply(call, es, key)
        case "incidents":
            changes = validate_patch(store, es, call.body, evolvable=evolvable)
            run_write(store, actor, lambda tx: actions_incidents.update_incident(tx, key, changes))
            return _entity_reply(call, es, key)
        case "partner_alerts":
            changes = validate_patch(
                store, es, call.body, evolvable=evolvable, required=("status",)
            )
            run_write(
                store, actor, lambda tx: actions_partner.update_partner_alert(tx, key, changes)
            )
            return _entity_reply(call, es, key)
        case "pim_alerts":
            changes = validate_patch(
                store, es, call.body, evolvable=evolvable, required=("isActive",)
            )
            run_write(store, actor, lambda tx: pim.update_alert(tx, key, changes))
            return Reply(status=es.patch_status)
        case "pim_configurations":
            runtime_type = _runtime_type(call, es, key)
            changes = validate_patch(
                store,
                es,
                call.body,
                evolvable=evolvable,
                type_name=runtime_type,
                require_type=True,
            )
            pim.check_configuration(changes)
            run_write(store, actor, lambda tx: pim.update_configuration(tx, key, changes))
            return Reply(status=es.patch_status)
        case _:
            raise MethodNotAllowed(
                f"{es.path} items are read-only; PATCH is not allowed here. Allowed: GET.",
                headers={"Allow": "GET"},
            )


def _runtime_type(call: Call, es: EntitySet, key: str) -> str:
    """The stored (derived) type of an entity; 404 when the tenant has no such entity."""
    table = call.store.tables[es.name]
    with call.store.engine.connect() as conn:
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
        lambda tx: actions_incidents.add_comments(tx, es, key, texts),
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


# ---- manual alerts ----------------------------------------------------------------------------


def create_entity(call: Call) -> Reply:
    """POST /security/alerts_v2 with a manualAlert body: 201 + the alert (spec S5)."""
    es = _entity_set(call)
    if call.target.version != "beta":
        raise MethodNotAllowed(
            f"Manual alerts are created on /beta only; POST /beta/{es.path}. "
            f"Allowed on /{call.target.version}/{es.path}: GET.",
            headers={"Allow": "GET"},
        )
    authorize(call.principal, es, "write", request_id=call.request_id)
    body = require_object(call.body, f"a manualAlert with @odata.type '#{MANUAL_ALERT}'")
    request = actions_create.validate_manual_alert(call.store, body, evolvable=call.evolvable)
    return _create_alert(call, es, request)


def _create_alert(call: Call, es: EntitySet, request: actions_create.ManualAlert) -> Reply:
    record = run_write(
        call.store, _actor(call), lambda tx: actions_create.create_manual_alert(tx, request)
    )
    alert_id = str(record["id"])
    reply = _entity_reply(call, es, alert_id, status=201)
    reply.headers["Location"] = f"{call.service_root}/{es.path}/{quote(alert_id, safe='')}"
    return reply


# ---- actions ----------------------------------------------------------------------------------


def run_action(call: Call) -> Reply:
    """The bound actions: createAlert, moveAlerts, mergeIncidents, refresh, remediate."""
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
    match (es.name, action):
        case ("alerts_v2", "createAlert"):
            return _create_alert_action(call, es)
        case ("alerts_v2", "moveAlerts"):
            return _move_alerts(call)
        case ("incidents", "mergeIncidents"):
            return _merge_incidents(call)
        case ("pim_alerts", "refresh"):
            return _refresh(call)
        case ("pim_incidents", "remediate"):
            return _remediate(call)
        case _:
            raise MethodNotAllowed(f"The action '{action}' is not available on {es.path}.")


def _create_alert_action(call: Call, es: EntitySet) -> Reply:
    body = require_object(call.body, '{"createAlertInput": {...}}')
    extra = [key for key in body if key != "createAlertInput" and not key.startswith("@")]
    if extra or not isinstance(body.get("createAlertInput"), dict):
        raise BadRequest(
            "createAlert takes one parameter, createAlertInput: an object with the manual alert's "
            "fields (title, description, category, severity, entityDefinitions, ...)"
            + (f"; unexpected: {', '.join(extra)}." if extra else "; it is missing or no object.")
        )
    request = actions_create.validate_manual_alert(
        call.store,
        body["createAlertInput"],
        evolvable=call.evolvable,
        require_type=False,
        where="createAlertInput.",
    )
    return _create_alert(call, es, request)


def _merge_reply(call: Call, target_incident_id: str) -> Reply:
    return Reply(
        body={
            "@odata.context": f"{call.service_root}/$metadata#{MERGE_RESPONSE}",
            "targetIncidentId": target_incident_id,
        }
    )


def _move_alerts(call: Call) -> Reply:
    values = validate_parameters(
        call.store,
        "microsoft.graph.security.moveAlerts",
        call.body,
        evolvable=call.evolvable,
        required=("alertIds",),
    )
    alert_ids = [str(alert_id) for alert_id in values["alertIds"]]
    incident_id = values.get("incidentId")
    if incident_id == "":
        raise BadRequest("incidentId: give an incident's id, or leave it out for a new incident.")
    target = run_write(
        call.store,
        _actor(call),
        lambda tx: actions_merge.move_alerts(
            tx,
            alert_ids,
            incident_id=incident_id,
            comment=values.get("alertComment"),
            reasons=values.get("newCorrelationReasons"),
        ),
    )
    return _merge_reply(call, target)


def _merge_incidents(call: Call) -> Reply:
    values = validate_parameters(
        call.store,
        "microsoft.graph.security.mergeIncidents",
        call.body,
        evolvable=call.evolvable,
        required=("incidentIds",),
    )
    incident_ids = [str(incident_id) for incident_id in values["incidentIds"]]
    target = run_write(
        call.store,
        _actor(call),
        lambda tx: actions_merge.merge_incidents(
            tx,
            incident_ids,
            comment=values.get("incidentComment"),
            reasons=values.get("mergeReasons"),
        ),
    )
    return _merge_reply(call, target)


def _no_parameters(call: Call, action: str) -> None:
    body = call.body
    if body is None or body == {}:
        return
    names = list(body) if isinstance(body, dict) else []
    raise BadRequest(
        f"{action} takes no parameters; send no body"
        + (f" (got: {', '.join(names)})." if names else ".")
    )


def _refresh(call: Call) -> Reply:
    """202 + Location of a running operation; the rescan runs after the response (spec R4, R5)."""
    alert_id = call.target.key
    if alert_id is None:
        pim.check_scope(call.body)
    else:
        _no_parameters(call, "refresh of one alert")
    actor = _actor(call)
    operation_id = run_write(call.store, actor, lambda tx: pim.start_refresh(tx, alert_id))
    call.after_response.append(
        functools.partial(
            pim.finish_refresh, call.store, actor, operation_id, alert_id, call.service_root
        )
    )
    return Reply(
        status=202, headers={"Location": pim.operation_url(call.service_root, operation_id)}
    )


def _remediate(call: Call) -> Reply:
    """200 with no body (the action declares no return type); spec R8."""
    _no_parameters(call, "remediate")
    alert_id = call.target.parent_key
    incident_id = _key(call)
    assert alert_id is not None
    run_write(call.store, _actor(call), lambda tx: pim.remediate(tx, alert_id, incident_id))
    return Reply(status=200)
