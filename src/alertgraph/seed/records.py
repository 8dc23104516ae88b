"""Demo and benchmark data: realistic Graph JSON for every served collection, from a seed.

``demo_data`` builds one consistent tenant (alerts correlated into incidents, partner alerts, the
PIM catalogue); ``generate_alerts`` streams alerts quickly for benchmarks. Records are Graph JSON as
the API returns it, so they go through :mod:`alertgraph.store.importer` like any user file.
The entities behind the records live in :mod:`alertgraph.seed.vocab` and
:mod:`alertgraph.seed.world`, evidence in :mod:`alertgraph.seed.evidence`.
"""

from __future__ import annotations

import bisect
import copy
import itertools
import random
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime
from typing import Any

from alertgraph.seed.detections import TEMPLATES
from alertgraph.seed.evidence import evidence_items
from alertgraph.seed.pim_catalogue import PIM_KINDS
from alertgraph.seed.vocab import ANALYSTS, ROLES, Template, comment_text, guid
from alertgraph.seed.world import World
from alertgraph.store.codec import (
    TICKS_PER_SECOND,
    format_datetime,
    parse_datetime,
    ticks_from_datetime,
)

ALERTS_PATH = "security/alerts_v2"
INCIDENTS_PATH = "security/incidents"
PARTNER_PATH = "security/partner/securityAlerts"
PIM_PATH = "identityGovernance/roleManagementAlerts/alerts"

MINUTE = 60 * TICKS_PER_SECOND
HOUR = 60 * MINUTE
DAY = 24 * HOUR
SEVERITY_ORDER = ("unknown", "informational", "low", "medium", "high")

# (classification, determination) pairs a SOC actually records; every determination appears once.
VERDICTS: tuple[tuple[str, str], ...] = (
    ("truePositive", "apt"),
    ("truePositive", "malware"),
    ("truePositive", "multiStagedAttack"),
    ("truePositive", "compromisedAccount"),
    ("truePositive", "phishing"),
    ("truePositive", "maliciousUserActivity"),
    ("truePositive", "unwantedSoftware"),
    ("truePositive", "other"),
    ("informationalExpectedActivity", "securityTesting"),
    ("informationalExpectedActivity", "securityPersonnel"),
    ("informationalExpectedActivity", "lineOfBusinessApplication"),
    ("informationalExpectedActivity", "confirmedActivity"),
    ("falsePositive", "notMalicious"),
    ("falsePositive", "notEnoughDataToValidate"),
    ("unknown", "unknown"),
)
VERDICT_WEIGHTS = (3, 8, 3, 6, 8, 3, 5, 2, 4, 2, 4, 3, 10, 5, 2)


class Weighted:
    """Fast weighted choice (``random.choices`` per call is slow for a million records)."""

    def __init__(self, items: Sequence[Any], weights: Sequence[float]) -> None:
        self.items = list(items)
        self.cumulative = list(itertools.accumulate(weights))
        self.total = self.cumulative[-1]

    def pick(self, rng: random.Random) -> Any:
        return self.items[bisect.bisect(self.cumulative, rng.random() * self.total)]


SEVERITIES = Weighted(SEVERITY_ORDER, (1, 14, 30, 35, 20))
VERDICT_CHOICE = Weighted(VERDICTS, VERDICT_WEIGHTS)
INCIDENT_SIZES = Weighted((1, 2, 3, 4, 6), (50, 22, 14, 8, 6))
STATUSES = Weighted(("new", "inProgress", "resolved", "unknown"), (45, 20, 34, 1))


def stamp(ticks: int, precision: int = 7) -> str:
    """Ticks → Graph text keeping ``precision`` fractional digits (Graph mixes 0, 3 and 7)."""
    unit = 10 ** (7 - precision)
    return format_datetime(ticks - ticks % unit)


# --- alerts -----------------------------------------------------------------------------------


def _alert_id(rng: random.Random, template: Template, created: int) -> str:
    prefix = template.id_prefix
    if rng.random() < 0.7:
        # Defender ids start with the creation instant in .NET ticks, which are our storage ticks.
        return f"{prefix}{created}_{rng.randint(-(2**31), 2**31 - 1)}"
    return f"{prefix}{guid(rng)}_{rng.randint(1, 3)}"


def build_alert(
    world: World,
    *,
    template: Template,
    created: int,
    now: int,
    incident_id: str,
    severity: str,
    status: str,
    verdict: tuple[str, str],
    evidence_count: int | None = None,
    with_comments: bool = False,
    precision: int = 7,
) -> dict[str, Any]:
    """One alerts_v2 record whose timestamps, status fields and evidence agree with each other."""
    rng = world.rng
    alert_id = _alert_id(rng, template, created)
    first = created - rng.randint(MINUTE, 6 * HOUR)
    last = rng.randint(first, created)
    updated = min(now, created + rng.randint(MINUTE, 5 * DAY))
    resolved = None
    classification: str | None = None
    determination: str | None = None
    if status == "resolved":
        classification, determination = verdict
        resolved = rng.randint(created, updated)
        updated = max(updated, resolved)
    elif status == "inProgress" and rng.random() < 0.3:
        classification, determination = verdict
    elif rng.random() < 0.85:
        classification, determination = "unknown", "unknown"
    assigned = rng.choice(ANALYSTS) if status in ("inProgress", "resolved") else None
    if status == "new" and rng.random() < 0.1:
        assigned = rng.choice(ANALYSTS)
    story = world.story(template, last)
    count = evidence_count if evidence_count is not None else rng.randint(1, 5)
    evidence = evidence_items(story, template.evidence, count)
    comments: list[dict[str, Any]] = []
    if with_comments:
        at = created
        for _ in range(rng.randint(1, 3)):
            at = rng.randint(at, updated)
            comments.append(
                {
                    "comment": comment_text(rng, template, status),
                    "createdByDisplayName": assigned or rng.choice(ANALYSTS),
                    "createdDateTime": stamp(at, 7),
                }
            )
    tenant = world.tenant_id
    detection = rng.choice(template.detection_sources)
    record: dict[str, Any] = {
        "@odata.type": "#microsoft.graph.security.alert",
        "id": alert_id,
        "providerAlertId": alert_id[2:],
        "incidentId": incident_id,
        "status": status,
        "severity": severity,
        "classification": classification,
        "determination": determination,
        "serviceSource": template.service_source,
        "detectionSource": detection,
        "productName": template.product,
        "detectorId": template.detector_id,
        "tenantId": tenant,
        "title": template.title,
        "description": story.fill(template.description),
        "recommendedActions": template.recommended_actions,
        "category": template.categories[0],
        "categories": list(template.categories),
        "assignedTo": assigned,
        "alertWebUrl": f"https://security.microsoft.com/alerts/{alert_id}?tid={tenant}",
        "incidentWebUrl": f"https://security.microsoft.com/incidents/{incident_id}?tid={tenant}",
        "actorDisplayName": template.actor,
        "threatDisplayName": template.threat,
        "threatFamilyName": template.threat_family,
        "mitreTechniques": list(template.mitre),
        "createdDateTime": stamp(created, precision),
        "lastUpdateDateTime": stamp(updated, 7),
        "firstActivityDateTime": stamp(first, precision),
        "lastActivityDateTime": stamp(last, precision),
        "resolvedDateTime": stamp(resolved, 7) if resolved is not None else None,
        "alertPolicyId": template.policy_id,
        "investigationState": template.investigation(rng, status),
        "systemTags": list(template.system_tags),
        "comments": comments,
        "evidence": evidence,
        "customDetails": {},
        "additionalData": story.additional_data(template),
    }
    if template.service_source == "microsoftSentinel":
        record["customDetails"] = {
            "Computer": story.device["hostName"],
            "Count": rng.randint(2, 90),
        }
    return record


# --- the demo tenant ------------------------------------------------------------------------


def demo_data(
    *,
    seed: int = 7,
    alerts: int = 300,
    partner_alerts: int = 60,
    tenant_id: str,
    now: datetime | None = None,
) -> dict[str, list[dict[str, Any]]]:
    """A consistent demo tenant: Graph JSON records keyed by the import path they belong to.

    Deterministic for a given ``seed`` and ``now`` (default: the current time). From about 60
    ``alerts`` on, every severity, status, classification, determination and service source occurs.
    """
    now_ticks = ticks_from_datetime(now or datetime.now(UTC))
    rng = random.Random(seed)
    world = World(rng, tenant_id)
    alert_records, incidents = _alerts_and_incidents(world, alerts, now_ticks)
    return {
        ALERTS_PATH: alert_records,
        INCIDENTS_PATH: incidents,
        PARTNER_PATH: partner_alert_records(world, partner_alerts, now_ticks),
        PIM_PATH: pim_alert_records(world, now_ticks),
    }


def _coverage_plan(rng: random.Random, count: int) -> list[dict[str, Any]]:
    """Per-alert forced values so that small demo sets still hold every enum member."""
    forced: list[dict[str, Any]] = [{} for _ in range(count)]
    columns: list[tuple[str, Sequence[Any]]] = [
        ("template", TEMPLATES),
        ("severity", SEVERITY_ORDER),
        ("status", ("new", "inProgress", "resolved", "unknown")),
        ("verdict", VERDICTS),
    ]
    for name, values in columns:
        slots = rng.sample(range(count), min(count, len(values)))
        for slot, value in zip(slots, values, strict=False):
            forced[slot][name] = value
    for entry in forced:  # a verdict only shows on resolved alerts
        if "verdict" in entry:
            entry["status"] = "resolved"
    return forced


def _alerts_and_incidents(
    world: World, count: int, now: int
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    rng = world.rng
    plan = _coverage_plan(rng, count)
    next_incident = rng.randint(2_000, 30_000)
    start = now - 120 * DAY
    groups: list[tuple[str, list[dict[str, Any]]]] = []
    index = 0
    while index < count:
        size = min(count - index, INCIDENT_SIZES.pick(rng))
        # One product style per incident, so that alerts created at the same instant tie exactly.
        precision = rng.choice((7, 7, 7, 3, 0))
        incident_id = str(next_incident)
        next_incident += rng.randint(1, 40)
        # Recent weeks hold more alerts, like a live tenant; nothing is later than an hour ago.
        begin = now - HOUR - int((now - HOUR - start) * rng.random() ** 1.6)
        members: list[dict[str, Any]] = []
        created = begin
        for _ in range(size):
            forced = plan[index]
            template = forced.get("template") or rng.choice(TEMPLATES)
            if members and rng.random() < 0.25:
                pass  # same instant as the previous alert: correlated alerts often tie
            else:
                created = min(now - MINUTE, created + rng.randint(0, 3 * HOUR))
            status = forced.get("status") or STATUSES.pick(rng)
            verdict = forced.get("verdict") or VERDICT_CHOICE.pick(rng)
            members.append(
                build_alert(
                    world,
                    template=template,
                    created=created,
                    now=now,
                    incident_id=incident_id,
                    severity=forced.get("severity") or SEVERITIES.pick(rng),
                    status=status,
                    verdict=verdict,
                    evidence_count=len(template.evidence) if "template" in forced else None,
                    with_comments=rng.random() < 0.15,
                    precision=precision,
                )
            )
            index += 1
        groups.append((incident_id, members))
    alerts = [alert for _, members in groups for alert in members]
    # Graph's default order; text order is not time order when precisions differ.
    alerts.sort(key=lambda alert: (-parse_datetime(alert["createdDateTime"]), alert["id"]))
    incidents = [_incident(world, incident_id, members, now) for incident_id, members in groups]
    incidents.extend(_redirected_incidents(world, incidents, next_incident))
    return alerts, incidents


def _incident_status(members: list[dict[str, Any]], rng: random.Random) -> str:
    statuses = {alert["status"] for alert in members}
    if statuses == {"resolved"}:
        return "resolved"
    if "inProgress" in statuses:
        return "awaitingAction" if rng.random() < 0.15 else "inProgress"
    return "active"


def _incident(
    world: World, incident_id: str, members: list[dict[str, Any]], now: int
) -> dict[str, Any]:
    rng = world.rng
    worst = max(members, key=lambda alert: SEVERITY_ORDER.index(alert["severity"]))
    created = min((a["createdDateTime"] for a in members), key=parse_datetime)
    updated = max((a["lastUpdateDateTime"] for a in members), key=parse_datetime)
    status = _incident_status(members, rng)
    assigned = next((alert["assignedTo"] for alert in members if alert["assignedTo"]), None)
    categories = list(dict.fromkeys(c for alert in members for c in alert["categories"]))
    hosts = {e["hostName"] for a in members for e in a["evidence"] if "hostName" in e}
    users = {
        e["userAccount"]["accountName"]
        for a in members
        for e in a["evidence"]
        if isinstance(e.get("userAccount"), dict) and e["userAccount"].get("accountName")
    }
    where = _scope_text(len(hosts), len(users))
    if len(members) == 1:
        name = f"{members[0]['title']} {where}".strip()
    else:
        name = (
            "Multi-stage incident involving "
            + " & ".join(_spaced(c) for c in categories[:3])
            + (f" {where}" if where else "")
        )
    comments: list[dict[str, Any]] = []
    if rng.random() < 0.2:
        comments.append(
            {
                "comment": rng.choice(
                    (
                        "Escalated to tier 2; affected host isolated.",
                        "Linked to ongoing phishing campaign, see ticket SEC-4411.",
                        "User confirmed the activity was not theirs; password reset done.",
                        "Pen test window agreed with IT, closing as expected activity.",
                    )
                ),
                "createdByDisplayName": assigned or rng.choice(ANALYSTS),
                "createdDateTime": updated,
            }
        )
    resolved = status == "resolved"
    return {
        "@odata.type": "#microsoft.graph.security.incident",
        "id": incident_id,
        "tenantId": world.tenant_id,
        "displayName": name,
        "incidentWebUrl": f"https://security.microsoft.com/incidents/{incident_id}?tid={world.tenant_id}",
        "redirectIncidentId": None,
        "severity": worst["severity"],
        "status": status,
        "classification": worst["classification"] if resolved else "unknown",
        "determination": worst["determination"] if resolved else "unknown",
        "assignedTo": assigned,
        "lastModifiedBy": assigned or "API-App:graph-automation",
        "createdDateTime": created,
        "lastUpdateDateTime": updated,
        "priorityScore": rng.randint(0, 100) if rng.random() < 0.8 else None,
        "customTags": rng.sample(
            ["VIP", "Finance", "Demo", "Ransomware-drill", "Exec"], rng.randint(0, 2)
        ),
        "systemTags": sorted({tag for alert in members for tag in alert["systemTags"]}),
        "description": worst["description"],
        "summary": (
            f"{len(members)} correlated alert(s), most severe: {worst['title']}."
            if rng.random() < 0.6
            else None
        ),
        "recommendedActions": worst["recommendedActions"],
        "resolvingComment": rng.choice(("Remediated and closed.", "Benign, closed."))
        if resolved
        else None,
        "recommendedHuntingQueries": world.hunting_queries(members),
        "comments": comments,
    }


def _redirected_incidents(
    world: World, incidents: list[dict[str, Any]], next_id: int
) -> list[dict[str, Any]]:
    """Incidents merged into another one: no alerts left, status redirected (spec 2.1)."""
    rng = world.rng
    merged: list[dict[str, Any]] = []
    for target in rng.sample(incidents, min(len(incidents), max(1, len(incidents) // 40))):
        old = copy.deepcopy(target)
        old_id = str(next_id)
        next_id += rng.randint(1, 9)
        old.update(
            id=old_id,
            status="redirected",
            redirectIncidentId=target["id"],
            incidentWebUrl=f"https://security.microsoft.com/incidents/{old_id}?tid={world.tenant_id}",
            comments=[],
            assignedTo=None,
            lastModifiedBy="Microsoft 365 Defender-AlertCorrelation",
        )
        merged.append(old)
    return merged


def _spaced(category: str) -> str:
    return "".join(" " + ch if ch.isupper() and i else ch for i, ch in enumerate(category))


def _scope_text(hosts: int, users: int) -> str:
    parts = []
    if hosts:
        parts.append("one endpoint" if hosts == 1 else f"multiple endpoints ({hosts})")
    if users:
        parts.append("one user" if users == 1 else f"{users} users")
    return ("on " + " and ".join(parts)) if parts else ""


# --- partner security alerts ------------------------------------------------------------------

PARTNER_KINDS: tuple[tuple[str, str, str, str], ...] = (
    # alertType, displayName, severity, description
    (
        "networkConnectionsToCryptoMiningPools",
        "Network connections to crypto mining pools detected",
        "high",
        "A virtual machine opened repeated connections to known cryptocurrency mining pools.",
    ),
    (
        "usageAnomalyDetection",
        "Unusual Azure usage detected",
        "medium",
        "Consumption of the subscription rose far above its usual pattern within a short time.",
    ),
    (
        "digitalCurrencyMiningBehavior",
        "Digital currency mining behavior detected on a virtual machine",
        "high",
        "Processes on the machine match the behaviour of known cryptocurrency miners.",
    ),
    (
        "suspiciousVmDeployment",
        "Large number of virtual machines deployed in a new region",
        "medium",
        "Many high-core VMs were created in a region the customer never used before.",
    ),
    (
        "anomalousSpendingPattern",
        "Spending anomaly on a customer subscription",
        "low",
        "Daily spend exceeded the forecast for this subscription by a wide margin.",
    ),
    (
        "testAlert",
        "Test alert generated for partner security alerts",
        "informational",
        "A test alert used to validate the partner's alert pipeline.",
    ),
)


def partner_alert_records(world: World, count: int, now: int) -> list[dict[str, Any]]:
    """Partner security alerts across several customers and subscriptions (spec 1.2 shapes)."""
    rng = world.rng
    customers = [
        (guid(rng), [guid(rng) for _ in range(rng.randint(1, 3))], rng.random() < 0.3)
        for _ in range(max(2, min(7, count // 8 or 2)))
    ]
    reseller = guid(rng)
    records: list[dict[str, Any]] = []
    for index in range(count):
        kind = PARTNER_KINDS[index] if index < len(PARTNER_KINDS) else rng.choice(PARTNER_KINDS)
        alert_type, title, severity, description = kind
        customer, subscriptions, indirect = rng.choice(customers)
        subscription = rng.choice(subscriptions)
        detected = now - int(90 * DAY * rng.random()) - HOUR
        first = detected - rng.randint(10 * MINUTE, 2 * DAY)
        last = rng.randint(first, detected)
        status = (
            ("active", "investigating", "resolved")[index % 3]
            if index < 3
            else rng.choice(("active", "active", "investigating", "resolved", "resolved"))
        )
        logs, at = [], detected
        path = {"active": [], "investigating": ["investigating"], "resolved": ["resolved"]}[status]
        if status == "resolved" and rng.random() < 0.6:
            path = ["investigating", "resolved"]
        previous = "active"
        resolver = rng.choice(world.partner_staff)
        for step in path:
            at = min(now, at + rng.randint(10 * MINUTE, 3 * DAY))
            logs.append(
                {
                    "statusFrom": previous,
                    "statusTo": step,
                    "updatedBy": resolver
                    if step == "resolved"
                    else rng.choice(world.partner_staff),
                    "updatedDateTime": stamp(at, 7),
                }
            )
            previous = step
        resolved = status == "resolved"
        vm = f"vm-{rng.choice(('web', 'batch', 'gpu', 'build'))}-{rng.randint(1, 40):02d}"
        group = rng.choice(("rg-prod", "rg-dev", "rg-analytics", "rg-shared"))
        base = f"/subscriptions/{subscription}/resourceGroups/{group}"
        resources = [
            {
                "resourceId": f"{base}/providers/Microsoft.Compute/virtualMachines/{vm}",
                "resourceType": "AzureResource",
            }
        ]
        if alert_type in ("usageAnomalyDetection", "anomalousSpendingPattern"):
            resources = [
                {"resourceId": f"/subscriptions/{subscription}", "resourceType": "AzureResource"}
            ]
        details: dict[str, Any] = {"ResourceGroup": group}
        if "Mining" in alert_type or "mining" in title.lower():
            details.update(
                VM_IP=world.public_ip(),
                MiningPool_IP=world.public_ip(),
                ConnectionCount=str(rng.randint(20, 4000)),
                MiningPool=rng.choice(("pool.minexmr.example", "xmr-eu1.nanopool.example")),
            )
        elif alert_type == "suspiciousVmDeployment":
            details.update(
                Region=rng.choice(("brazilsouth", "koreacentral", "southafricanorth")),
                VmCount=str(rng.randint(10, 300)),
                VmSize="Standard_NC24ads_A100_v4",
            )
        else:
            details.update(
                MeterCategory=rng.choice(("Virtual Machines", "Storage", "Bandwidth")),
                UsageIncreasePercent=str(rng.randint(150, 4000)),
            )
        records.append(
            {
                "@odata.type": "#microsoft.graph.partner.security.partnerSecurityAlert",
                "id": guid(rng) if rng.random() < 0.5 else f"{subscription}-{guid(rng)}",
                "displayName": title,
                "alertType": alert_type,
                "status": status,
                "severity": severity,
                "confidenceLevel": rng.choice(("low", "medium", "high", "high")),
                "customerTenantId": customer,
                "subscriptionId": subscription,
                "valueAddedResellerTenantId": reseller if indirect else None,
                "catalogOfferId": rng.choice(
                    ("MS-AZR-0017G", "MS-AZR-0145P", "MS-AZR-0003P", None)
                ),
                "description": description,
                "detectedDateTime": stamp(detected, rng.choice((7, 3))),
                "firstObservedDateTime": stamp(first, 0),
                "lastObservedDateTime": stamp(last, 0),
                "isTest": alert_type == "testAlert",
                "resolvedBy": resolver if resolved else None,
                "resolvedOnDateTime": logs[-1]["updatedDateTime"] if resolved else None,
                "resolvedReason": rng.choice(("legitimate", "ignore", "fraud"))
                if resolved
                else None,
                "affectedResources": resources,
                "additionalDetails": details,
                "activityLogs": logs,
            }
        )
    records.sort(key=lambda record: parse_datetime(record["detectedDateTime"]), reverse=True)
    return records


# --- PIM alerts -------------------------------------------------------------------------------


def pim_alert_records(world: World, now: int) -> list[dict[str, Any]]:
    """The seven PIM alerts of spec 3.1, each in its ``$expand=*`` shape."""
    rng = world.rng
    tenant = world.tenant_id
    scanned = now - rng.randint(10 * MINUTE, 20 * HOUR)
    records = []
    for kind in PIM_KINDS:
        alert_id = f"DirectoryRole_{tenant}_{kind.name}"
        incidents = _pim_incidents(world, kind.name, now)
        configuration: dict[str, Any] = {
            "@odata.type": f"#microsoft.graph.{kind.configuration_type}",
            "id": alert_id,
            "alertDefinitionId": alert_id,
            "scopeId": "/",
            "scopeType": "DirectoryRole",
            "isEnabled": kind.name != "NoMfaOnRoleActivationAlert" or rng.random() < 0.5,
            **kind.settings,
        }
        records.append(
            {
                "id": alert_id,
                "alertDefinitionId": alert_id,
                "scopeId": "/",
                "scopeType": "DirectoryRole",
                "incidentCount": len(incidents),
                "isActive": kind.name != "SequentialActivationRenewalsAlert" and bool(incidents),
                "lastModifiedDateTime": stamp(scanned - rng.randint(0, 30 * DAY), 7),
                "lastScannedDateTime": stamp(scanned, 7),
                "alertDefinition": {
                    "id": alert_id,
                    "displayName": kind.display_name,
                    "description": kind.description,
                    "severityLevel": kind.severity,
                    "securityImpact": kind.security_impact,
                    "mitigationSteps": kind.mitigation_steps,
                    "howToPrevent": kind.how_to_prevent,
                    "isRemediatable": kind.is_remediatable,
                    "isConfigurable": kind.is_configurable,
                    "scopeId": "/",
                    "scopeType": "DirectoryRole",
                },
                "alertConfiguration": configuration,
                "alertIncidents": incidents,
            }
        )
    return records


def _pim_incidents(world: World, name: str, now: int) -> list[dict[str, Any]]:
    rng = world.rng
    kind_type = next(kind.incident_type for kind in PIM_KINDS if kind.name == name)
    typed = f"#microsoft.graph.{kind_type}"
    if name == "InvalidLicenseAlert":
        return [
            {"@odata.type": typed, "id": guid(rng), "tenantLicenseStatus": "Microsoft Entra ID P1"}
        ]
    if name == "NoMfaOnRoleActivationAlert":
        return [
            {
                "@odata.type": typed,
                "id": guid(rng),
                "roleDisplayName": role,
                "roleTemplateId": template,
            }
            for role, template in rng.sample(ROLES, rng.randint(2, 5))
        ]
    people = rng.sample(world.users, rng.randint(3, 7))
    if name == "TooManyGlobalAdminsAssignedToTenantAlert":
        people = rng.sample(world.users, rng.randint(6, 9))
    incidents = []
    for person in people:
        role, template = ROLES[0] if "GlobalAdmins" in name else rng.choice(ROLES)
        incident: dict[str, Any] = {
            "@odata.type": typed,
            "id": person["id"],
            "assigneeId": person["id"],
            "assigneeDisplayName": person["displayName"],
            "assigneeUserPrincipalName": person["userPrincipalName"],
        }
        if name != "TooManyGlobalAdminsAssignedToTenantAlert":
            incident.update(
                roleDisplayName=role, roleTemplateId=template, roleDefinitionId=template
            )
        assigned = now - rng.randint(40 * DAY, 700 * DAY)
        match name:
            case "RedundantAssignmentAlert":
                incident["lastActivationDateTime"] = (
                    stamp(rng.randint(assigned, now - 31 * DAY), 7) if rng.random() < 0.7 else None
                )
            case "RolesAssignedOutsidePimAlert":
                incident["assignmentCreatedDateTime"] = stamp(now - rng.randint(DAY, 60 * DAY), 7)
            case "SequentialActivationRenewalsAlert":
                begin = now - rng.randint(2 * DAY, 30 * DAY)
                incident.update(
                    activationCount=rng.randint(10, 40),
                    sequenceStartDateTime=stamp(begin, 7),
                    sequenceEndDateTime=stamp(begin + rng.randint(HOUR, 20 * HOUR), 7),
                )
            case "StaleSignInAlert":
                incident.update(
                    assignmentCreatedDateTime=stamp(assigned, 7),
                    lastSignInDateTime=(
                        stamp(rng.randint(assigned, now - 31 * DAY), 7)
                        if rng.random() < 0.8
                        else None
                    ),
                )
        incidents.append(incident)
    return incidents


# --- bulk generator ---------------------------------------------------------------------------


def generate_alerts(
    count: int,
    *,
    seed: int,
    tenant_id: str,
    start: datetime,
    span_days: int = 365,
) -> Iterator[dict[str, Any]]:
    """Stream ``count`` alerts over ``span_days`` from ``start``, for benchmarks and load tests.

    Severities and statuses are skewed like a real tenant, about one alert in 30 shares its
    createdDateTime with the previous one, evidence holds 1-5 items. Memory stays flat.
    """
    rng = random.Random(seed)
    world = World(rng, tenant_id)
    begin = ticks_from_datetime(start)
    span = span_days * DAY
    end = begin + span
    evidence_sizes = Weighted((1, 2, 3, 4, 5), (30, 30, 20, 12, 8))
    incident = rng.randint(100_000, 900_000)
    created = begin
    pick: Callable[[random.Random], Any] = SEVERITIES.pick
    for _ in range(count):
        if rng.random() < 0.6:
            incident += rng.randint(1, 7)
        if rng.random() >= 1 / 30:
            created = begin + int(span * rng.random())
        yield build_alert(
            world,
            template=rng.choice(TEMPLATES),
            created=created,
            now=end,
            incident_id=str(incident),
            severity=pick(rng),
            status=STATUSES.pick(rng),
            verdict=VERDICT_CHOICE.pick(rng),
            evidence_count=evidence_sizes.pick(rng),
            with_comments=rng.random() < 0.05,
            precision=7,
        )
