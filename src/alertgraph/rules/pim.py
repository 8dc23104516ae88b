"""PIM role-management alerts: dismiss, configure, refresh (a long-running operation), remediate.

Spec R3, R4, R5, R8, R11. A refresh answers 202 at once and does its work after the response: the
operation row is created ``running`` in the request's transaction and finished by
:func:`finish_refresh`, which the HTTP layer schedules to run once the response has been sent.
"""

from __future__ import annotations

import functools
import logging
import uuid
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

from sqlalchemy import func, select

from alertgraph.errors import BadRequest, as_json
from alertgraph.rules.request import Outcome, WriteRequest
from alertgraph.rules.validate import Problems
from alertgraph.schema.endpoints import PIM_ROOT, entity_set
from alertgraph.store.codec import parse_duration
from alertgraph.store.database import PARENT, TENANT, Store
from alertgraph.store.transaction import Actor, Tx, not_found, run_write

log = logging.getLogger("alertgraph")

PIM_ALERTS = entity_set("pim_alerts")
PIM_INCIDENTS = entity_set("pim_incidents")
PIM_CONFIGURATIONS = entity_set("pim_configurations")
PIM_DEFINITIONS = entity_set("pim_definitions")
PIM_OPERATIONS = entity_set("pim_operations")
TENANT_SCOPE = ("/", "DirectoryRole")
PERCENT_PROPERTIES = ("percentageOfGlobalAdminsOutOfRolesThreshold",)


def update_alert(tx: Tx, key: str, changes: Mapping[str, Any]) -> None:
    """Dismiss or re-activate a PIM alert (R3); lastModifiedDateTime is now."""
    alert = tx.require(PIM_ALERTS, key)
    tx.update(PIM_ALERTS, alert, {**changes, "lastModifiedDateTime": tx.now}, action="update")


def check_alert(changes: Mapping[str, Any]) -> None:
    """``isActive`` is the one property a PATCH changes, true or false (R3): not null."""
    if "isActive" in changes and changes["isActive"] is None:
        problems = Problems()
        problems.add("isActive", "can't be null; false dismisses the alert, true reactivates it")
        problems.raise_if_any()


def check_configuration(changes: Mapping[str, Any]) -> None:
    """Range checks the CSDL can't express: thresholds ≥ 0, percentages ≤ 100, durations > 0;
    and no null: each updatable setting (R11) always has a value."""
    problems = Problems()
    for name, value in changes.items():
        if value is None:
            problems.add(name, "can't be null; give a value")
            continue
        if isinstance(value, bool):
            continue
        if isinstance(value, int):
            if value < 0:
                problems.add(name, f"must be 0 or more; got {value}")
            elif name in PERCENT_PROPERTIES and value > 100:
                problems.add(name, f"is a percentage: 0 to 100; got {value}")
        elif isinstance(value, str) and parse_duration(value) <= 0:
            problems.add(name, f"must be a positive duration, like P30D; got '{value}'")
    problems.raise_if_any()


def update_configuration(tx: Tx, key: str, changes: Mapping[str, Any]) -> None:
    """Change an alert configuration's settings (R11); the caller validated them for its type."""
    configuration = tx.require(PIM_CONFIGURATIONS, key)
    tx.update(PIM_CONFIGURATIONS, configuration, changes, action="update")


def check_scope(body: Any) -> None:
    """The refresh body of R4: ``{"scopeId": "/", "scopeType": "DirectoryRole"}``, nothing else."""
    problems = Problems()
    if not isinstance(body, dict):
        raise BadRequest(
            ("A request body is required" if body is None else "The request body must be an object")
            + ': {"scopeId": "/", "scopeType": "DirectoryRole"}.'
        )
    for key in body:
        if not key.startswith("@") and key not in ("scopeId", "scopeType"):
            problems.add(key, "is not a parameter of refresh; it takes scopeId and scopeType")
    for name, expected in zip(("scopeId", "scopeType"), TENANT_SCOPE, strict=True):
        if name not in body:
            problems.add(name, f"is required; PIM alerts support only '{expected}'")
        elif body[name] != expected:
            problems.add(name, f"{as_json(body[name])} is not supported; only '{expected}' is")
    problems.raise_if_any()


def operation_url(service_root: str, operation_id: str) -> str:
    return f"{service_root}/{PIM_ROOT}/operations/{quote(operation_id, safe=':')}"


def alert_url(service_root: str, alert_id: str) -> str:
    return f"{service_root}/{PIM_ROOT}/alerts/{quote(alert_id, safe='')}"


def scope_url(service_root: str) -> str:
    return f"{service_root}/{PIM_ROOT}/alerts?$filter=" + quote(
        "scopeId eq '/' and scopeType eq 'DirectoryRole'", safe="'"
    )


def start_refresh(tx: Tx, alert_id: str | None) -> str:
    """Record a running refresh operation; returns its id.

    One alert: ``refresh:<alertId>``, reused (reset to running) by later refreshes of that alert.
    The whole scope: a new GUID per request.
    """
    if alert_id is not None:
        tx.require(PIM_ALERTS, alert_id)
        operation_id = f"refresh:{alert_id}"
    else:
        operation_id = str(uuid.uuid4())
    running = {
        "status": "running",
        "createdDateTime": tx.now,
        "lastActionDateTime": tx.now,
        "resourceLocation": "",
        "statusDetail": "",
    }
    existing = tx.get(PIM_OPERATIONS, operation_id)
    if existing is None:
        tx.insert(PIM_OPERATIONS, {"id": operation_id, **running}, action="refresh")
    else:
        tx.update(PIM_OPERATIONS, existing, running, action="refresh")
    return operation_id


def finish_refresh(
    store: Store, actor: Actor, operation_id: str, alert_id: str | None, service_root: str
) -> None:
    """The work of a refresh, after the response: rescan the alerts, then mark the operation done.

    Rescanning stamps lastScannedDateTime, recounts incidentCount and reactivates a dismissed
    alert (isActive back to true) that still has incidents, as Graph's refresh does. A failure
    marks the operation failed with the reason in statusDetail (and is logged), so a poller never
    waits forever.
    """

    def rescan(tx: Tx) -> None:
        if alert_id is not None:
            alerts = tx.rows(PIM_ALERTS, keys=[alert_id])
            location = alert_url(service_root, alert_id)
        else:
            table = store.tables[PIM_ALERTS.name]
            alerts = tx.rows(
                PIM_ALERTS, table.c.scopeId == TENANT_SCOPE[0], table.c.scopeType == TENANT_SCOPE[1]
            )
            location = scope_url(service_root)
        for alert in alerts:
            count = incident_count(tx, alert["id"])
            changes: dict[str, Any] = {"lastScannedDateTime": tx.now, "incidentCount": count}
            if count > 0 and alert.get("isActive") is False:
                # "reactivates dismissed alerts (updates isActive to true)": the condition still
                # holds, so the dismissal is undone
                changes.update(isActive=True, lastModifiedDateTime=tx.now)
            tx.update(
                PIM_ALERTS, alert, changes, action="refresh", extra={"operationId": operation_id}
            )
        _finish(tx, operation_id, "succeeded", location=location)

    try:
        run_write(store, actor, rescan)
    except Exception as exc:
        log.exception("refresh operation %s failed (request-id %s)", operation_id, actor.request_id)
        detail = f"{type(exc).__name__}: {exc}"
        run_write(store, actor, lambda tx: _finish(tx, operation_id, "failed", detail=detail))


def _finish(
    tx: Tx, operation_id: str, status: str, *, location: str = "", detail: str = ""
) -> None:
    operation = tx.require(PIM_OPERATIONS, operation_id)
    tx.update(
        PIM_OPERATIONS,
        operation,
        {
            "status": status,
            "resourceLocation": location,
            "statusDetail": detail,
            "lastActionDateTime": tx.now,
        },
        action="refresh",
    )


def incident_count(tx: Tx, alert_id: str) -> int:
    table = tx.store.tables[PIM_INCIDENTS.name]
    query = select(func.count()).where(
        table.c[TENANT] == tx.actor.tenant, table.c[PARENT] == alert_id
    )
    return int(tx.conn.execute(query).scalar_one())


def remediate(tx: Tx, alert_id: str, incident_id: str) -> None:
    """Fix one incident (R8): it is removed and the alert's incidentCount follows.

    400 when the alert's definition says isRemediatable false (or the definition is missing).
    """
    alert = tx.require(PIM_ALERTS, alert_id)
    incident = tx.get(PIM_INCIDENTS, incident_id, parent=alert_id)
    if incident is None:
        raise not_found(PIM_INCIDENTS, incident_id)
    definition_id = alert.get("alertDefinitionId")
    definition = tx.get(PIM_DEFINITIONS, str(definition_id), lock=False) if definition_id else None
    if definition is None or definition.get("isRemediatable") is not True:
        name = f"'{definition.get('displayName')}'" if definition else "its definition"
        raise BadRequest(
            f"Incidents of alert '{alert_id}' can't be remediated: {name} "
            f"({definition_id}) has isRemediatable {_flag(definition)}. Only alerts whose "
            "definition is remediatable accept remediate."
        )
    tx.delete(PIM_INCIDENTS, incident, action="remediate")
    tx.update(
        PIM_ALERTS,
        alert,
        {"incidentCount": incident_count(tx, alert_id), "lastModifiedDateTime": tx.now},
        action="remediate",
        extra={"incidentId": incident_id},
    )


def _flag(definition: Mapping[str, Any] | None) -> str:
    if definition is None:
        return "unknown (no definition found)"
    value = definition.get("isRemediatable")
    return "null" if value is None else str(value).lower()


def refresh_action(request: WriteRequest) -> Outcome:
    """202 + Location of a running operation; the rescan runs after the response (spec R4, R5)."""
    alert_id = request.key
    if alert_id is None:
        check_scope(request.body)
    else:
        request.no_parameters("refresh of one alert")
    store, actor = request.store, request.actor
    operation_id = run_write(store, actor, lambda tx: start_refresh(tx, alert_id))
    request.after_response.append(
        functools.partial(
            finish_refresh, store, actor, operation_id, alert_id, request.service_root
        )
    )
    return Outcome(
        status=202, headers={"Location": operation_url(request.service_root, operation_id)}
    )


def remediate_action(request: WriteRequest) -> Outcome:
    """200 with no body (the action declares no return type); spec R8."""
    request.no_parameters("remediate")
    alert_id, incident_id = request.parent_key, request.key
    assert alert_id is not None
    assert incident_id is not None
    run_write(request.store, request.actor, lambda tx: remediate(tx, alert_id, incident_id))
    return Outcome(status=200)
