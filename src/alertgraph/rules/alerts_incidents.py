"""Security alerts and incidents: updates, comments, and keeping incidents in line with alerts.

An incident's alerts are the alerts whose ``incidentId`` is its id. Lock order, everywhere:
incidents (by id) before alerts (by id), so concurrent writers never wait on each other in a
cycle. The consistency rules are listed in docs/workflow.md.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import select

from alertgraph.errors import BadRequest
from alertgraph.schema.endpoints import EntitySet, entity_set
from alertgraph.store.database import TENANT
from alertgraph.store.transaction import Replan, Tx, not_found

ALERTS = entity_set("alerts_v2")
INCIDENTS = entity_set("incidents")
PORTAL = "https://security.microsoft.com"
SEVERITY_ENUM = "microsoft.graph.security.alertSeverity"

#: Alert properties an incident update hands down to every alert of the incident.
HANDED_DOWN = ("assignedTo", "classification", "determination")


def severity_rank(tx: Tx, severity: str | None) -> int:
    members = tx.store.model.enums[SEVERITY_ENUM].members
    return members.get(severity or "unknown", 0)


def alert_status_changes(before: Mapping[str, Any], status: str, now: str) -> dict[str, Any]:
    """``resolvedDateTime`` follows ``status``: stamped on resolving, cleared on reopening."""
    changes: dict[str, Any] = {"status": status}
    if status == "resolved" and before.get("status") != "resolved":
        changes["resolvedDateTime"] = now
    elif status != "resolved" and before.get("status") == "resolved":
        changes["resolvedDateTime"] = None
    return changes


def lock_alert_with_incident(tx: Tx, key: str) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """Lock an alert and then (in lock order: incident first) the incident holding it.

    Two statements: the incident found through the alert's current incidentId, locked; then the
    alert, locked, which must still name that incident (else it moved meanwhile: start over).
    """
    alerts = tx.store.tables[ALERTS.name]
    holder = (
        select(alerts.c.incidentId)
        .where(alerts.c[TENANT] == tx.actor.tenant, alerts.c.id == key)
        .scalar_subquery()
    )
    found = tx.rows(INCIDENTS, tx.store.tables[INCIDENTS.name].c.id == holder)
    incident = found[0] if found else None
    alert = tx.require(ALERTS, key)
    incident_id = alert.get("incidentId")
    if incident is not None and incident.get("id") != incident_id:
        raise Replan()  # moved to another incident meanwhile
    # none locked but an incidentId: an incident with no row (alerts imported without their
    # incidents), or the alert moved into an existing incident meanwhile
    if incident is None and incident_id and tx.get(INCIDENTS, incident_id, lock=False):
        raise Replan()
    return alert, incident


def update_alert(tx: Tx, key: str, changes: Mapping[str, Any]) -> dict[str, Any]:
    """PATCH an alert: stamps lastUpdateDateTime, resolvedDateTime; re-aligns its incident."""
    alert, incident = lock_alert_with_incident(tx, key)
    planned = dict(changes)
    if "status" in planned:
        planned.update(alert_status_changes(alert, planned["status"], tx.now))
    planned["lastUpdateDateTime"] = tx.now
    after = tx.update(ALERTS, alert, planned, action="update")
    if incident is not None:  # none: the alert has no incident, or one that does not exist
        align_incidents(tx, [incident["id"]], locked=[incident])
    return after


def update_incident(tx: Tx, key: str, changes: Mapping[str, Any]) -> dict[str, Any]:
    """PATCH an incident; assignment, classification, determination, resolving reach its alerts."""
    incident = tx.require(INCIDENTS, key)
    if incident.get("status") == "redirected":
        raise BadRequest(
            f"Incident '{key}' was merged into incident '{incident.get('redirectIncidentId')}' "
            "and can't be changed; update that incident instead."
        )
    if changes.get("status") == "redirected":
        raise BadRequest(
            "status: 'redirected' is set by mergeIncidents and can't be written. "
            "Use POST /security/incidents/mergeIncidents to merge incidents."
        )
    alert_changes = {name: changes[name] for name in HANDED_DOWN if name in changes}
    for alert in alerts_of(tx, key):
        planned = dict(alert_changes)
        if changes.get("status") == "resolved" and alert.get("status") != "resolved":
            planned.update(alert_status_changes(alert, "resolved", tx.now))
        if any(alert.get(name) != value for name, value in planned.items()):
            planned["lastUpdateDateTime"] = tx.now
            tx.update(ALERTS, alert, planned, action="update", extra={"byIncident": key})
    planned_incident = dict(changes)
    planned_incident["lastUpdateDateTime"] = tx.now
    planned_incident["lastModifiedBy"] = tx.actor.name
    return tx.update(INCIDENTS, incident, planned_incident, action="update")


def alerts_of(tx: Tx, incident_id: str, *, lock: bool = True) -> list[dict[str, Any]]:
    table = tx.store.tables[ALERTS.name]
    return tx.rows(ALERTS, table.c.incidentId == incident_id, lock=lock)


def align_incidents(
    tx: Tx, incident_ids: Iterable[str], *, locked: Iterable[Mapping[str, Any]] = ()
) -> None:
    """Bring incidents in line with their alerts (caller holds the incidents' locks).

    Severity is the highest of the alerts'; an incident whose alerts are all resolved is resolved,
    a resolved incident with an open alert is active again; lastUpdateDateTime is now. Merged-away
    (redirected) incidents and incidents without alerts keep their values apart from the time.
    ``locked`` are incidents the caller locked and has not changed since (not read again).
    """
    held = {str(incident["id"]): dict(incident) for incident in locked}
    for incident_id in sorted(set(incident_ids)):
        incident = held.get(incident_id) or tx.get(INCIDENTS, incident_id)
        if incident is None or incident.get("status") == "redirected":
            continue
        alerts = alerts_of(tx, incident_id, lock=False)
        planned: dict[str, Any] = {"lastUpdateDateTime": tx.now}
        if alerts:
            highest = max(alerts, key=lambda alert: severity_rank(tx, alert.get("severity")))
            planned["severity"] = highest.get("severity")
            all_resolved = all(alert.get("status") == "resolved" for alert in alerts)
            if all_resolved and incident.get("status") != "resolved":
                planned["status"] = "resolved"
            elif not all_resolved and incident.get("status") == "resolved":
                planned["status"] = "active"
        tx.update(INCIDENTS, incident, planned, action="align")


def add_comments(tx: Tx, es: EntitySet, key: str, texts: list[str]) -> list[dict[str, Any]]:
    """Append comments to an alert or incident; returns all its comments, oldest first."""
    entity = tx.require(es, key)
    added = [
        {"comment": text, "createdByDisplayName": tx.actor.name, "createdDateTime": tx.now}
        for text in texts
    ]
    comments = [*(entity.get("comments") or []), *added]
    planned: dict[str, Any] = {"comments": comments, "lastUpdateDateTime": tx.now}
    if es.name == INCIDENTS.name:
        planned["lastModifiedBy"] = tx.actor.name
    after = tx.update(es, entity, planned, action="comment")
    return list(after.get("comments") or [])


def new_incident_id(tx: Tx) -> str:
    """A fresh numeric incident id (Graph's are numbers; manualAlert.linkToIncident is an Int64)."""
    for _ in range(20):
        candidate = str(1_000_000_000 + secrets.randbelow(8_000_000_000))
        if tx.get(INCIDENTS, candidate, lock=False) is None:
            return candidate
    raise AssertionError("no free incident id found")  # 20 collisions in 8e9 ids: not happening


def create_incident(tx: Tx, *, title: str | None, severity: str | None) -> dict[str, Any]:
    """A new, active incident for alerts that have none yet (manual alerts, moveAlerts)."""
    incident_id = new_incident_id(tx)
    record: dict[str, Any] = {
        "@odata.type": "#" + INCIDENTS.type_name,
        "id": incident_id,
        "displayName": title,
        "severity": severity or "unknown",
        "status": "active",
        "classification": "unknown",
        "determination": "unknown",
        "createdDateTime": tx.now,
        "lastUpdateDateTime": tx.now,
        "lastModifiedBy": tx.actor.name,
        "incidentWebUrl": incident_url(incident_id, tx.actor.tenant),
        "tenantId": tx.actor.tenant,
        "comments": [],
        "customTags": [],
        "systemTags": [],
    }
    tx.insert(INCIDENTS, record, action="create")
    return record


def incident_url(incident_id: str, tenant: str) -> str:
    return f"{PORTAL}/incidents/{incident_id}?tid={tenant}"


def open_incident(tx: Tx, incident_id: str, *, field: str) -> dict[str, Any]:
    """A target incident for new or moved alerts: must exist and not be merged away."""
    incident = tx.get(INCIDENTS, incident_id)
    if incident is None:
        raise not_found(INCIDENTS, incident_id)
    if incident.get("status") == "redirected":
        raise BadRequest(
            f"{field}: incident '{incident_id}' was merged into incident "
            f"'{incident.get('redirectIncidentId')}'; use that id."
        )
    return incident
