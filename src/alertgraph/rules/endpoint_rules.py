"""Which rule serves which write of which entity set: the per-endpoint half of the write side.

The endpoint rows (schema.endpoints) say *whether* a set takes PATCH, POST, comments or an action,
with what required fields and success status; this table says *what runs*. http.writes looks a
rule up here and knows no endpoint by name.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from alertgraph.rules import alerts_incidents, manual_alerts, merge, partner, pim
from alertgraph.rules.request import Outcome, WriteRequest
from alertgraph.store.transaction import Tx


@dataclass(frozen=True, slots=True)
class PatchRule:
    """Apply validated PATCH changes to one entity inside the write transaction; ``check`` runs
    first, on the changes alone (cross-field rules that need no stored state)."""

    apply: Callable[[Tx, str, Mapping[str, Any]], object]
    check: Callable[[Mapping[str, Any]], None] | None = None


ActionRule = Callable[[WriteRequest], Outcome]

PATCH_RULES: dict[str, PatchRule] = {
    "alerts_v2": PatchRule(alerts_incidents.update_alert),
    "incidents": PatchRule(alerts_incidents.update_incident),
    "partner_alerts": PatchRule(partner.update_partner_alert),
    "pim_alerts": PatchRule(pim.update_alert, check=pim.check_alert),
    "pim_configurations": PatchRule(pim.update_configuration, check=pim.check_configuration),
}

#: POST to the collection of a set whose row is ``insertable``
CREATE_RULES: dict[str, ActionRule] = {"alerts_v2": manual_alerts.create}

#: (set name, action name) -> the action; the action names come from the CSDL bindings
ACTION_RULES: dict[tuple[str, str], ActionRule] = {
    ("alerts_v2", "createAlert"): manual_alerts.create_alert_action,
    ("alerts_v2", "moveAlerts"): merge.move_alerts_action,
    ("incidents", "mergeIncidents"): merge.merge_incidents_action,
    ("pim_alerts", "refresh"): pim.refresh_action,
    ("pim_incidents", "remediate"): pim.remediate_action,
}
