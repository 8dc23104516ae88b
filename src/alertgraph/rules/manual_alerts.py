"""Manual alerts: POST /security/alerts_v2 with a manualAlert body, and createAlert (S5, S6).

The body is checked against spec S5 (required fields, lengths, identifiers allowed per entity type);
the alert is stored as the base type ``security.alert`` with Graph's defaults, evidence derived from
its entity definitions, and a new or the linked incident.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from alertgraph.errors import BadRequest, did_you_mean
from alertgraph.rules.alerts_incidents import (
    ALERTS,
    PORTAL,
    align_incidents,
    create_incident,
    incident_url,
    open_incident,
)
from alertgraph.rules.request import Outcome, WriteRequest
from alertgraph.rules.validate import (
    Problems,
    check_type_annotation,
    parse_value,
    require_object,
)
from alertgraph.schema.edm import TypeRef
from alertgraph.store.codec import ValueProblem
from alertgraph.store.database import Store
from alertgraph.store.transaction import Tx, run_write

MANUAL_ALERT = "microsoft.graph.security.manualAlert"
MAX_DESCRIPTION = 5000
MAX_IDENTIFIER = 1000
MAX_DEFINITIONS = 100

#: entityType → (evidence type, {entityIdentifier: property path inside the evidence})
EVIDENCE: dict[str, tuple[str, dict[str, tuple[str, ...]]]] = {
    "user": (
        "userEvidence",
        {
            "userPrincipalName": ("userAccount", "userPrincipalName"),
            "aadUserId": ("userAccount", "azureAdUserId"),
            "sid": ("userAccount", "userSid"),
        },
    ),
    "device": ("deviceEvidence", {"deviceId": ("mdeDeviceId",), "deviceName": ("deviceDnsName",)}),
    "file": (
        "fileEvidence",
        {"sha256": ("fileDetails", "sha256"), "sha1": ("fileDetails", "sha1")},
    ),
    "ip": ("ipEvidence", {"address": ("ipAddress",)}),
    "url": ("urlEvidence", {"url": ("url",)}),
    "cloudApplication": (
        "cloudApplicationEvidence",
        {"appId": ("appId",), "name": ("displayName",)},
    ),
    "mailbox": ("mailboxEvidence", {"mailboxPrimaryAddress": ("primaryAddress",)}),
    "securityGroup": (
        "securityGroupEvidence",
        {
            "distinguishedName": ("distinguishedName",),
            "objectGuid": ("activeDirectoryObjectGuid",),
            "sid": ("sid",),
        },
    ),
    "azureResource": ("azureResourceEvidence", {"resourceId": ("resourceId",)}),
    "amazonResource": ("amazonResourceEvidence", {"amazonResourceId": ("amazonResourceId",)}),
    "googleCloudResource": (
        "googleCloudResourceEvidence",
        {"fullResourceName": ("fullResourceName",)},
    ),
    "oAuthApplication": ("oauthApplicationEvidence", {"oAuthAppId": ("appId",)}),
    "emailMessage": ("analyzedMessageEvidence", {"networkMessageId": ("networkMessageId",)}),
    "emailCluster": ("mailClusterEvidence", {"networkMessageId": ("networkMessageIds",)}),
    "process": (
        "processEvidence",
        {"sha1": ("imageFile", "sha1"), "sha256": ("imageFile", "sha256")},
    ),
    "registryKey": ("registryKeyEvidence", {"key": ("registryKey",)}),
    "registryValue": (
        "registryValueEvidence",
        {"key": ("registryKey",), "valueName": ("registryValueName",)},
    ),
}
#: entityDefinitionInput.role → evidence roles (evidenceRole has no "impacted"/"related")
ROLES = {"impacted": ["attacked"], "related": ["contextual"]}

#: (name, required, EDM type) of the accepted body members, in the spec's order
FIELDS: tuple[tuple[str, bool, str], ...] = (
    ("title", True, "Edm.String"),
    ("description", True, "Edm.String"),
    ("category", True, "Edm.String"),
    ("severity", True, "microsoft.graph.security.alertSeverity"),
    ("entityDefinitions", True, ""),
    ("isExcludedFromCorrelation", False, "Edm.Boolean"),
    ("linkToIncident", False, "Edm.Int64"),
    ("mitreTechniques", False, "Collection(Edm.String)"),
    ("recommendedActions", False, "Edm.String"),
    ("sentinelWorkspace", False, "Edm.String"),
)
DEFINITION_FIELDS = ("entityType", "entityIdentifier", "identifierValue", "role")
_GUID = re.compile(r"[0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$")


@dataclass(frozen=True, slots=True)
class ManualAlert:
    """A validated manual alert request."""

    values: dict[str, Any]
    evidence: list[dict[str, Any]]


def validate_manual_alert(
    store: Store,
    body: dict[str, Any],
    *,
    evolvable: bool,
    require_type: bool = True,
    where: str = "",
) -> ManualAlert:
    """Check a manualAlert body (spec S5); one 400 lists every problem and the accepted fields.

    ``require_type``: POST /security/alerts_v2 must say ``"@odata.type":
    "#microsoft.graph.security.manualAlert"`` (the createAlert action's input need not).
    """
    problems = Problems()
    if require_type or "@odata.type" in body:
        check_type_annotation(body, MANUAL_ALERT, problems, required=True)
    accepted = [name for name, _, _ in FIELDS]
    values: dict[str, Any] = {}
    for key in body:
        if key.startswith("@") or key in accepted:
            continue
        problems.add(
            where + key,
            "is not accepted when creating a manual alert." + did_you_mean(key, accepted),
        )
    for name, required, type_name in FIELDS:
        path = where + name
        if body.get(name) is None:
            if required:
                problems.add(path, "is required")
            continue
        if name == "entityDefinitions":
            continue
        collection = type_name.startswith("Collection(")
        type_ref = TypeRef(type_name[11:-1] if collection else type_name, collection)
        try:
            values[name] = parse_value(store, type_ref, body[name], path, evolvable=evolvable)
        except ValueProblem as problem:
            problems.add(problem.path, problem.message)
    for name in ("title", "category"):
        if isinstance(values.get(name), str) and not values[name].strip():
            problems.add(where + name, "can't be empty")
    description = values.get("description")
    if isinstance(description, str) and len(description) > MAX_DESCRIPTION:
        problems.add(
            where + "description",
            f"has {len(description)} characters; at most {MAX_DESCRIPTION} are allowed",
        )
    evidence = _evidence(store, body.get("entityDefinitions"), where, problems, evolvable)
    problems.raise_if_any(allowed=accepted, allowed_label="Accepted fields")
    return ManualAlert(values, evidence)


def _evidence(
    store: Store, definitions: Any, where: str, problems: Problems, evolvable: bool
) -> list[dict[str, Any]]:
    path = where + "entityDefinitions"
    if definitions is None:
        return []
    if not isinstance(definitions, list) or not 1 <= len(definitions) <= MAX_DEFINITIONS:
        count = len(definitions) if isinstance(definitions, list) else "not an array"
        problems.add(path, f"must be an array of 1 to {MAX_DEFINITIONS} items; got {count}")
        return []
    evidence: list[dict[str, Any]] = []
    for index, item in enumerate(definitions):
        item_path = f"{path}[{index}]"
        if not isinstance(item, dict):
            problems.add(item_path, "must be an entityDefinitionInput object")
            continue
        found = _definition(store, item, item_path, problems, evolvable)
        if found is not None:
            evidence.append(found)
    return evidence


def _definition(
    store: Store, item: dict[str, Any], path: str, problems: Problems, evolvable: bool
) -> dict[str, Any] | None:
    struct = store.model.types["microsoft.graph.security.entityDefinitionInput"]
    before = len(problems.items)
    values: dict[str, Any] = {}
    for key in item:
        if not key.startswith("@") and key not in DEFINITION_FIELDS:
            problems.add(
                f"{path}.{key}",
                "is not a property of entityDefinitionInput."
                + did_you_mean(key, DEFINITION_FIELDS),
            )
    for name in DEFINITION_FIELDS:
        if item.get(name) is None:
            problems.add(f"{path}.{name}", "is required")
            continue
        try:
            values[name] = parse_value(
                store,
                struct.properties[name].type,
                item[name],
                f"{path}.{name}",
                evolvable=evolvable,
            )
        except ValueProblem as problem:
            problems.add(problem.path, problem.message)
    if len(problems.items) != before:
        return None
    evidence_type, identifiers = EVIDENCE[values["entityType"]]
    identifier, value = values["entityIdentifier"], values["identifierValue"]
    target = identifiers.get(identifier)
    if target is None:
        problems.add(
            f"{path}.entityIdentifier",
            f"'{identifier}' does not identify a {values['entityType']}; "
            f"use one of: {', '.join(identifiers)}",
        )
        return None
    if not value or len(value) > MAX_IDENTIFIER:
        problems.add(
            f"{path}.identifierValue",
            f"must have 1 to {MAX_IDENTIFIER} characters; got {len(value)}",
        )
        return None
    typed: Any = value
    if evidence_type == "cloudApplicationEvidence" and identifier == "appId":
        if not value.isdigit():
            problems.add(f"{path}.identifierValue", "a cloud application's appId is a number")
            return None
        typed = int(value)
    elif identifier == "objectGuid" and not _GUID.match(value):
        problems.add(f"{path}.identifierValue", "objectGuid must be a GUID")
        return None
    elif target == ("networkMessageIds",):
        typed = [value]
    record: dict[str, Any] = {"@odata.type": f"#microsoft.graph.security.{evidence_type}"}
    holder = record
    for step in target[:-1]:
        holder = holder.setdefault(step, {})
    holder[target[-1]] = typed
    record["roles"] = list(ROLES.get(values["role"], []))
    record["detailedRoles"] = [values["role"]]
    return record


def create_manual_alert(tx: Tx, request: ManualAlert) -> dict[str, Any]:
    """Store a manual alert with Graph's defaults (spec S5) and return it as Graph JSON."""
    values = request.values
    link = values.get("linkToIncident")
    if link is not None:
        incident = open_incident(tx, str(link), field="linkToIncident")
    else:
        incident = create_incident(tx, title=values["title"], severity=values["severity"])
    incident_id = str(incident["id"])
    guid = str(uuid.uuid4())
    alert_id = f"ea{guid}_aml"
    evidence = [
        {**item, "createdDateTime": tx.now, "verdict": "unknown", "remediationStatus": "none"}
        for item in request.evidence
    ]
    record: dict[str, Any] = {
        "@odata.type": "#" + ALERTS.type_name,
        "id": alert_id,
        "providerAlertId": f"manual_{guid}",
        "title": values["title"],
        "description": values["description"],
        "category": values["category"],
        "categories": [values["category"]],
        "severity": values["severity"],
        "status": "new",
        "classification": "unknown",
        "determination": "unknown",
        "detectionSource": "manual",
        "serviceSource": "microsoft365Defender",
        "productName": "Microsoft Defender XDR",
        "createdDateTime": tx.now,
        "lastUpdateDateTime": tx.now,
        "firstActivityDateTime": tx.now,
        "lastActivityDateTime": tx.now,
        "incidentId": incident_id,
        "incidentWebUrl": incident_url(incident_id, tx.actor.tenant),
        "alertWebUrl": f"{PORTAL}/alerts/{alert_id}?tid={tx.actor.tenant}",
        "tenantId": tx.actor.tenant,
        "mitreTechniques": values.get("mitreTechniques") or [],
        "recommendedActions": values.get("recommendedActions"),
        "evidence": evidence,
        "comments": [],
        "systemTags": [],
    }
    inputs: dict[str, Any] = {
        name: values[name]
        for name in ("isExcludedFromCorrelation", "linkToIncident", "sentinelWorkspace")
        if name in values
    }
    tx.insert(ALERTS, record, action="create", extra=inputs or None)
    align_incidents(tx, [incident_id])
    return record


def create(request: WriteRequest) -> Outcome:
    """POST /security/alerts_v2 with a manualAlert body: 201 + the alert and its Location (S5)."""
    body = require_object(request.body, f"a manualAlert with @odata.type '#{MANUAL_ALERT}'")
    alert = validate_manual_alert(request.store, body, evolvable=request.evolvable)
    return _created(request, alert)


def create_alert_action(request: WriteRequest) -> Outcome:
    """The createAlert action: the same manual alert, wrapped in ``createAlertInput`` (S6)."""
    body = require_object(request.body, '{"createAlertInput": {...}}')
    extra = [key for key in body if key != "createAlertInput" and not key.startswith("@")]
    if extra or not isinstance(body.get("createAlertInput"), dict):
        raise BadRequest(
            "createAlert takes one parameter, createAlertInput: an object with the manual alert's "
            "fields (title, description, category, severity, entityDefinitions, ...)"
            + (f"; unexpected: {', '.join(extra)}." if extra else "; it is missing or no object.")
        )
    alert = validate_manual_alert(
        request.store,
        body["createAlertInput"],
        evolvable=request.evolvable,
        require_type=False,
        where="createAlertInput.",
    )
    return _created(request, alert)


def _created(request: WriteRequest, alert: ManualAlert) -> Outcome:
    record = run_write(request.store, request.actor, lambda tx: create_manual_alert(tx, alert))
    alert_id = str(record["id"])
    location = f"{request.service_root}/{ALERTS.path}/{quote(alert_id, safe='')}"
    return Outcome(status=201, entity_key=alert_id, headers={"Location": location})
