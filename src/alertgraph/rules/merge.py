"""moveAlerts and mergeIncidents: re-home alerts, redirect merged-away incidents (spec S7, S12).

Both answer a ``mergeResponse`` naming the incident that now holds the alerts. Locks: every incident
involved (by id), then the alerts (by id); a plan made on stale reads is retried (Replan).
"""

from __future__ import annotations

from typing import Any

from alertgraph.errors import BadRequest, NotFound
from alertgraph.rules.alerts_incidents import (
    ALERTS,
    INCIDENTS,
    alerts_of,
    align_incidents,
    create_incident,
    incident_url,
    open_incident,
    severity_rank,
)
from alertgraph.rules.request import Outcome, WriteRequest
from alertgraph.rules.validate import validate_parameters
from alertgraph.store.codec import parse_datetime
from alertgraph.store.transaction import Replan, Tx, run_write

MERGE_RESPONSE = "microsoft.graph.security.mergeResponse"


def move_alerts(
    tx: Tx,
    alert_ids: list[str],
    *,
    incident_id: str | None,
    comment: str | None,
    reasons: str | None,
) -> str:
    """Move alerts to an incident (a new one when ``incident_id`` is None); returns its id.

    An incident left without alerts is redirected to the target, as if merged into it.
    """
    tx.serialize("incidents")
    peeked = tx.rows(ALERTS, keys=alert_ids, lock=False)
    missing = sorted(set(alert_ids) - {alert["id"] for alert in peeked})
    if missing:
        raise NotFound(f"No security/alerts_v2 item has the id {_quoted(missing)} (alertIds).")
    sources = {alert["incidentId"] for alert in peeked if alert.get("incidentId")}
    involved = sorted(sources | ({incident_id} if incident_id else set()))
    tx.rows(INCIDENTS, keys=involved)  # lock in id order before the alerts
    if incident_id is not None:
        target = open_incident(tx, incident_id, field="incidentId")
    else:
        strongest = max(peeked, key=lambda alert: severity_rank(tx, alert.get("severity")))
        target = create_incident(
            tx, title=strongest.get("title"), severity=strongest.get("severity")
        )
    target_id = str(target["id"])
    alerts = tx.rows(ALERTS, keys=alert_ids)
    if {alert.get("incidentId") for alert in alerts if alert.get("incidentId")} - sources:
        raise Replan()  # an alert changed incident between the peek and the lock
    parameters = {"targetIncidentId": target_id, "newCorrelationReasons": reasons}
    for alert in alerts:
        planned: dict[str, Any] = {
            "incidentId": target_id,
            "incidentWebUrl": incident_url(target_id, tx.actor.tenant),
            "lastUpdateDateTime": tx.now,
        }
        if comment:
            planned["comments"] = [
                *(alert.get("comments") or []),
                {
                    "comment": comment,
                    "createdByDisplayName": tx.actor.name,
                    "createdDateTime": tx.now,
                },
            ]
        tx.update(ALERTS, alert, planned, action="moveAlerts", extra=parameters)
    for source in sorted(sources - {target_id}):
        if not alerts_of(tx, source, lock=False):
            _redirect(tx, source, target_id, action="moveAlerts")
    align_incidents(tx, [target_id, *sources])
    return target_id


def merge_incidents(
    tx: Tx, incident_ids: list[str], *, comment: str | None, reasons: str | None
) -> str:
    """Merge incidents into the earliest created one (ties: the smallest id); returns its id."""
    tx.serialize("incidents")
    wanted = sorted(set(incident_ids))
    if len(wanted) < 2:
        raise BadRequest(
            f"incidentIds: name at least two different incidents to merge; got {len(wanted)}."
        )
    incidents = tx.rows(INCIDENTS, keys=wanted)
    missing = sorted(set(wanted) - {incident["id"] for incident in incidents})
    if missing:
        raise NotFound(f"No security/incidents item has the id {_quoted(missing)} (incidentIds).")
    merged = [incident for incident in incidents if incident.get("status") == "redirected"]
    if merged:
        names = ", ".join(
            f"'{incident['id']}' (into '{incident.get('redirectIncidentId')}')"
            for incident in merged
        )
        raise BadRequest(f"incidentIds: already merged: {names}. Merge the surviving ones instead.")
    target = min(
        incidents,
        key=lambda incident: (parse_datetime(incident["createdDateTime"]), _id_order(incident)),
    )
    target_id = str(target["id"])
    others = [incident for incident in incidents if incident["id"] != target_id]
    parameters = {"targetIncidentId": target_id, "mergeReasons": reasons}
    table = tx.store.tables[ALERTS.name]
    moving = tx.rows(ALERTS, table.c.incidentId.in_([other["id"] for other in others]))
    for alert in moving:
        tx.update(
            ALERTS,
            alert,
            {
                "incidentId": target_id,
                "incidentWebUrl": incident_url(target_id, tx.actor.tenant),
                "lastUpdateDateTime": tx.now,
            },
            action="mergeIncidents",
            extra=parameters,
        )
    tags = list(target.get("customTags") or [])
    for other in others:
        _redirect(tx, str(other["id"]), target_id, action="mergeIncidents")
        tags += [tag for tag in other.get("customTags") or [] if tag not in tags]
    planned: dict[str, Any] = {
        "customTags": tags,
        "lastModifiedBy": tx.actor.name,
        "lastUpdateDateTime": tx.now,
    }
    if comment:
        planned["comments"] = [
            *(target.get("comments") or []),
            {"comment": comment, "createdByDisplayName": tx.actor.name, "createdDateTime": tx.now},
        ]
    tx.update(INCIDENTS, target, planned, action="mergeIncidents", extra=parameters)
    align_incidents(tx, [target_id])
    return target_id


def _redirect(tx: Tx, incident_id: str, target_id: str, *, action: str) -> None:
    """Mark an incident merged into ``target_id``; earlier redirects to it follow along."""
    table = tx.store.tables[INCIDENTS.name]
    pointing = tx.rows(INCIDENTS, table.c.redirectIncidentId == incident_id)
    for incident in [*pointing, tx.get(INCIDENTS, incident_id)]:
        if incident is None:
            continue
        tx.update(
            INCIDENTS,
            incident,
            {
                "status": "redirected",
                "redirectIncidentId": target_id,
                "lastModifiedBy": tx.actor.name,
                "lastUpdateDateTime": tx.now,
            },
            action=action,
        )


def _id_order(incident: dict[str, Any]) -> tuple[int, str]:
    key = str(incident["id"])
    return (int(key), key) if key.isdigit() else (1 << 62, key)


def _ids(values: list[Any], name: str, what: str) -> list[str]:
    """The ids a move or merge names; a null or empty one is a 400 naming its place."""
    for index, value in enumerate(values):
        if value is None or value == "":
            got = "null" if value is None else "an empty string"
            raise BadRequest(f"{name}[{index}]: expected {what}, got {got}.")
    return [str(value) for value in values]


def _quoted(keys: list[str]) -> str:
    return ", ".join(f"'{key}'" for key in keys)


def _merge_outcome(request: WriteRequest, target_incident_id: str) -> Outcome:
    return Outcome(
        body={
            "@odata.context": f"{request.service_root}/$metadata#{MERGE_RESPONSE}",
            "targetIncidentId": target_incident_id,
        }
    )


def move_alerts_action(request: WriteRequest) -> Outcome:
    """POST alerts_v2/moveAlerts: 200 + mergeResponse (S7)."""
    values = validate_parameters(
        request.store,
        "microsoft.graph.security.moveAlerts",
        request.body,
        evolvable=request.evolvable,
        required=("alertIds",),
    )
    alert_ids = _ids(values["alertIds"], "alertIds", "an alert's id")
    incident_id = values.get("incidentId")
    if incident_id == "":
        raise BadRequest("incidentId: give an incident's id, or leave it out for a new incident.")
    target = run_write(
        request.store,
        request.actor,
        lambda tx: move_alerts(
            tx,
            alert_ids,
            incident_id=incident_id,
            comment=values.get("alertComment"),
            reasons=values.get("newCorrelationReasons"),
        ),
    )
    return _merge_outcome(request, target)


def merge_incidents_action(request: WriteRequest) -> Outcome:
    """POST incidents/mergeIncidents: 200 + mergeResponse (S12)."""
    values = validate_parameters(
        request.store,
        "microsoft.graph.security.mergeIncidents",
        request.body,
        evolvable=request.evolvable,
        required=("incidentIds",),
    )
    incident_ids = _ids(values["incidentIds"], "incidentIds", "an incident's id")
    target = run_write(
        request.store,
        request.actor,
        lambda tx: merge_incidents(
            tx,
            incident_ids,
            comment=values.get("incidentComment"),
            reasons=values.get("mergeReasons"),
        ),
    )
    return _merge_outcome(request, target)
