"""Partner security alerts: the status workflow of P3 and its activity log.

Each status change appends an ``activityLog`` (statusFrom, statusTo, updatedBy, updatedDateTime);
resolving stamps resolvedBy/resolvedOnDateTime, reopening clears them (and the resolvedReason,
unless the same request sets one).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from alertgraph.schema.endpoints import entity_set
from alertgraph.store.transaction import Tx

PARTNER_ALERTS = entity_set("partner_alerts")


def update_partner_alert(tx: Tx, key: str, changes: Mapping[str, Any]) -> dict[str, Any]:
    alert = tx.require(PARTNER_ALERTS, key)
    planned = dict(changes)
    old, new = alert.get("status"), planned.get("status", alert.get("status"))
    if new != old:
        planned["activityLogs"] = [
            *(alert.get("activityLogs") or []),
            {
                "statusFrom": old,
                "statusTo": new,
                "updatedBy": tx.actor.name,
                "updatedDateTime": tx.now,
            },
        ]
        if new == "resolved":
            planned["resolvedBy"] = tx.actor.name
            planned["resolvedOnDateTime"] = tx.now
        elif old == "resolved":
            planned["resolvedBy"] = None
            planned["resolvedOnDateTime"] = None
            planned.setdefault("resolvedReason", None)
    return tx.update(PARTNER_ALERTS, alert, planned, action="update")
