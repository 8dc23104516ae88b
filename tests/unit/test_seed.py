"""Demo and benchmark data: valid against the EDM, deterministic, varied and self-consistent."""

from __future__ import annotations

import itertools
import re
import types
from collections import Counter
from datetime import UTC, datetime, timedelta

import orjson
import pytest

from alertgraph.schema.edm import load_model
from alertgraph.schema.endpoints import BY_NAME
from alertgraph.seed.records import (
    ALERTS_PATH,
    INCIDENTS_PATH,
    PARTNER_PATH,
    PIM_PATH,
    SEVERITY_ORDER,
    demo_data,
    generate_alerts,
)
from alertgraph.seed.vocab import ROLES
from alertgraph.store.codec import TICKS_PER_SECOND, parse_datetime, ticks_from_datetime
from alertgraph.store.database import RecordError, Store, create_db_engine

TENANT = "67b47f38-0f0b-4e62-a3be-859140c2061f"
NOW = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)
MODEL = load_model()
PIM_NAVIGATIONS = {
    "alertDefinition": "pim_definitions",
    "alertConfiguration": "pim_configurations",
    "alertIncidents": "pim_incidents",
}


@pytest.fixture(scope="module")
def data() -> dict[str, list[dict]]:
    return demo_data(seed=7, tenant_id=TENANT, now=NOW)


@pytest.fixture(scope="module")
def store() -> Store:
    # Conversion only: no table is touched, so one in-memory SQLite store serves the module.
    return Store(create_db_engine("sqlite://"))


def members(enum: str) -> set[str]:
    """Every member a real service emits (unknownFutureValue is a sentinel, never stored)."""
    return set(MODEL.enums[enum].members) - {"unknownFutureValue"}


def ticks(text: str) -> int:
    return parse_datetime(text)


def test_every_record_of_every_set_converts(data, store):
    sets = {entity_set.path: entity_set for entity_set in BY_NAME.values()}
    converted = Counter()
    for path, records in data.items():
        for index, record in enumerate(records):
            record = dict(record)
            nested = {name: record.pop(name) for name in PIM_NAVIGATIONS if path == PIM_PATH}
            try:
                store.to_row(sets[path], record)
                for name, value in nested.items():
                    target = BY_NAME[PIM_NAVIGATIONS[name]]
                    for item in value if isinstance(value, list) else [value]:
                        store.to_row(target, item)
                        converted[target.name] += 1
            except RecordError as exc:  # pragma: no cover - the message is the diagnosis
                pytest.fail(f"{path} record {index}: {exc}")
            converted[path] += 1
    assert converted[ALERTS_PATH] == 300
    assert converted[PARTNER_PATH] == 60
    assert converted[PIM_PATH] == 7
    assert converted["pim_definitions"] == converted["pim_configurations"] == 7
    assert converted["pim_incidents"] >= 20
    assert converted[INCIDENTS_PATH] == len(data[INCIDENTS_PATH])


def test_same_seed_same_data_and_other_seed_other_data(data):
    again = demo_data(seed=7, tenant_id=TENANT, now=NOW)
    assert orjson.dumps(again) == orjson.dumps(data)
    other = demo_data(seed=8, tenant_id=TENANT, now=NOW)
    assert orjson.dumps(other) != orjson.dumps(data)
    assert {a["id"] for a in other[ALERTS_PATH]}.isdisjoint({a["id"] for a in data[ALERTS_PATH]})


def test_sizes_follow_the_arguments():
    small = demo_data(seed=1, alerts=25, partner_alerts=4, tenant_id=TENANT, now=NOW)
    assert len(small[ALERTS_PATH]) == 25
    assert len(small[PARTNER_PATH]) == 4
    assert len(small[PIM_PATH]) == 7


@pytest.mark.parametrize(
    ("prop", "enum"),
    [
        ("severity", "microsoft.graph.security.alertSeverity"),
        ("status", "microsoft.graph.security.alertStatus"),
        ("classification", "microsoft.graph.security.alertClassification"),
        ("determination", "microsoft.graph.security.alertDetermination"),
        ("serviceSource", "microsoft.graph.security.serviceSource"),
    ],
)
def test_alerts_hold_every_member(data, prop, enum):
    assert {alert[prop] for alert in data[ALERTS_PATH]} >= members(enum)


def test_alerts_are_varied(data):
    alerts = data[ALERTS_PATH]
    assert len({a["detectionSource"] for a in alerts}) >= 25
    kinds = {e["@odata.type"] for a in alerts for e in a["evidence"]}
    assert len(kinds) == 48  # every alertEvidence subtype
    assert len(MODEL.types["microsoft.graph.security.alertEvidence"].derived) == 48
    assert len({a["title"] for a in alerts}) >= 30
    assert sum(1 for a in alerts if a["comments"]) >= 10
    assert sum(1 for a in alerts if a["assignedTo"]) >= 50
    assert {a["investigationState"] for a in alerts} - {None}
    assert any(a["mitreTechniques"] for a in alerts)
    assert any(a["systemTags"] for a in alerts)
    assert any(a["actorDisplayName"] for a in alerts)


def test_alert_timestamps_and_status_agree(data):
    now = ticks_from_datetime(NOW)
    for alert in data[ALERTS_PATH]:
        first, last = ticks(alert["firstActivityDateTime"]), ticks(alert["lastActivityDateTime"])
        created, updated = ticks(alert["createdDateTime"]), ticks(alert["lastUpdateDateTime"])
        assert first <= last <= created <= updated <= now, alert["id"]
        assert created >= now - 125 * 86_400 * TICKS_PER_SECOND
        if alert["status"] == "resolved":
            assert created <= ticks(alert["resolvedDateTime"]) <= updated
            assert alert["classification"] is not None
        else:
            assert alert["resolvedDateTime"] is None
        for comment in alert["comments"]:
            assert created <= ticks(comment["createdDateTime"]) <= updated
        for evidence in alert["evidence"]:
            assert evidence["@odata.type"].startswith("#microsoft.graph.security.")


def test_alert_shapes_follow_the_spec(data):
    for alert in data[ALERTS_PATH]:
        alert_id = alert["id"]
        assert re.fullmatch(r"[a-z]{2}(\d{18}_-?\d+|[0-9a-f-]{36}_\d)", alert_id), alert_id
        assert (
            alert["alertWebUrl"] == f"https://security.microsoft.com/alerts/{alert_id}?tid={TENANT}"
        )
        incident = alert["incidentId"]
        assert incident.isdigit()
        assert alert["incidentWebUrl"] == (
            f"https://security.microsoft.com/incidents/{incident}?tid={TENANT}"
        )
        assert alert["category"] == alert["categories"][0]
        assert alert["tenantId"] == TENANT
    assert any(re.fullmatch(r"da\d{18}_-?\d+", a["id"]) for a in data[ALERTS_PATH])


def test_alerts_include_precise_stamps_and_ties(data):
    created = [a["createdDateTime"] for a in data[ALERTS_PATH]]
    assert any(re.search(r"\.\d{7}Z$", text) for text in created)
    assert any(text.endswith(":00Z") or re.search(r":\d\dZ$", text) for text in created)
    instants = Counter(ticks(text) for text in created)
    assert sum(1 for count in instants.values() if count > 1) >= 5


def test_incidents_agree_with_their_alerts(data):
    alerts_by_incident: dict[str, list[dict]] = {}
    for alert in data[ALERTS_PATH]:
        alerts_by_incident.setdefault(alert["incidentId"], []).append(alert)
    incidents = {incident["id"]: incident for incident in data[INCIDENTS_PATH]}
    assert len(incidents) == len(data[INCIDENTS_PATH])
    assert set(alerts_by_incident) <= set(incidents)
    assert sum(1 for alerts in alerts_by_incident.values() if len(alerts) > 1) >= 20
    for incident_id, incident in incidents.items():
        assert incident["incidentWebUrl"].endswith(f"/incidents/{incident_id}?tid={TENANT}")
        if incident["status"] == "redirected":
            assert incident_id not in alerts_by_incident
            assert incident["redirectIncidentId"] in alerts_by_incident
            continue
        alerts = alerts_by_incident[incident_id]
        worst = max(SEVERITY_ORDER.index(a["severity"]) for a in alerts)
        assert incident["severity"] == SEVERITY_ORDER[worst]
        assert ticks(incident["createdDateTime"]) == min(
            ticks(a["createdDateTime"]) for a in alerts
        )
        assert ticks(incident["lastUpdateDateTime"]) == max(
            ticks(a["lastUpdateDateTime"]) for a in alerts
        )
        all_resolved = all(a["status"] == "resolved" for a in alerts)
        assert (incident["status"] == "resolved") == all_resolved
        if incident["status"] in ("inProgress", "awaitingAction"):
            assert any(a["status"] == "inProgress" for a in alerts)
        assert incident["displayName"]
    statuses = {incident["status"] for incident in data[INCIDENTS_PATH]}
    assert statuses == members("microsoft.graph.security.incidentStatus")
    assert any(incident["comments"] for incident in data[INCIDENTS_PATH])
    assert any(incident["recommendedHuntingQueries"] for incident in data[INCIDENTS_PATH])
    assert any(incident["customTags"] for incident in data[INCIDENTS_PATH])


def test_partner_alerts_are_consistent(data):
    alerts = data[PARTNER_PATH]
    assert len({a["alertType"] for a in alerts}) >= 5
    assert {"networkConnectionsToCryptoMiningPools", "usageAnomalyDetection"} <= {
        a["alertType"] for a in alerts
    }
    assert len({a["customerTenantId"] for a in alerts}) >= 3
    assert len({a["subscriptionId"] for a in alerts}) >= 5
    for prop, enum in [
        ("status", "securityAlertStatus"),
        ("severity", "securityAlertSeverity"),
        ("confidenceLevel", "securityAlertConfidence"),
    ]:
        assert {a[prop] for a in alerts} == members(f"microsoft.graph.partner.security.{enum}")
    assert {a["resolvedReason"] for a in alerts} - {None} == members(
        "microsoft.graph.partner.security.securityAlertResolvedReason"
    )
    for alert in alerts:
        assert isinstance(alert["isTest"], bool)
        status = "active"
        previous = ticks(alert["detectedDateTime"])
        for log in alert["activityLogs"]:
            assert log["statusFrom"] == status
            status = log["statusTo"]
            assert ticks(log["updatedDateTime"]) >= previous
            previous = ticks(log["updatedDateTime"])
        assert status == alert["status"]
        resolved = alert["status"] == "resolved"
        for prop in ("resolvedBy", "resolvedOnDateTime", "resolvedReason"):
            assert (alert[prop] is not None) == resolved, prop
        if resolved:
            assert alert["resolvedOnDateTime"] == alert["activityLogs"][-1]["updatedDateTime"]
        for resource in alert["affectedResources"]:
            assert resource["resourceType"] == "AzureResource"
            assert resource["resourceId"].startswith(f"/subscriptions/{alert['subscriptionId']}")
        assert all(isinstance(v, str) for v in alert["additionalDetails"].values())
        first, last = ticks(alert["firstObservedDateTime"]), ticks(alert["lastObservedDateTime"])
        assert first <= last <= ticks(alert["detectedDateTime"])


PIM_TABLE = {
    "InvalidLicenseAlert": (
        "The organization doesn't have Azure AD Premium P2",
        "high",
        False,
        False,
    ),
    "NoMfaOnRoleActivationAlert": (
        "Roles don't require multi-factor authentication for activation",
        "medium",
        True,
        False,
    ),
    "RedundantAssignmentAlert": (
        "Eligible administrators aren't activating their privileged role",
        "low",
        True,
        True,
    ),
    "RolesAssignedOutsidePimAlert": (
        "Roles are being assigned outside of Privileged Identity Management",
        "high",
        True,
        False,
    ),
    "SequentialActivationRenewalsAlert": (
        "Roles are being activated too frequently",
        "medium",
        False,
        True,
    ),
    "StaleSignInAlert": ("Potential stale accounts in a privileged role", "medium", True, True),
    "TooManyGlobalAdminsAssignedToTenantAlert": (
        "There are too many global administrators",
        "low",
        True,
        True,
    ),
}


def test_pim_catalogue_matches_spec_table(data):
    alerts = {alert["id"]: alert for alert in data[PIM_PATH]}
    assert set(alerts) == {f"DirectoryRole_{TENANT}_{name}" for name in PIM_TABLE}
    template_ids = {template for _, template in ROLES}
    for name, (title, severity, remediatable, configurable) in PIM_TABLE.items():
        alert = alerts[f"DirectoryRole_{TENANT}_{name}"]
        definition = alert["alertDefinition"]
        assert (
            definition["displayName"],
            definition["severityLevel"],
            definition["isRemediatable"],
            definition["isConfigurable"],
        ) == (title, severity, remediatable, configurable)
        for text in ("description", "howToPrevent", "mitigationSteps", "securityImpact"):
            assert definition[text]
        for part in (alert, definition, alert["alertConfiguration"]):
            assert (part["scopeId"], part["scopeType"]) == ("/", "DirectoryRole")
        assert definition["id"] == alert["alertDefinitionId"] == alert["id"]
        configuration = alert["alertConfiguration"]
        assert configuration["alertDefinitionId"] == alert["id"]
        assert configuration["@odata.type"].endswith("AlertConfiguration")
        assert isinstance(configuration["isEnabled"], bool)
        incidents = alert["alertIncidents"]
        assert alert["incidentCount"] == len(incidents)
        assert len({incident["id"] for incident in incidents}) == len(incidents)
        kind = configuration["@odata.type"].removesuffix("Configuration")
        for incident in incidents:
            assert incident["@odata.type"] == kind + "Incident"
            if "roleTemplateId" in incident:
                assert incident["roleTemplateId"] in template_ids
            if "assigneeId" in incident:
                assert incident["id"] == incident["assigneeId"]
        ticks(alert["lastScannedDateTime"])
    assert sum(1 for alert in alerts.values() if len(alert["alertIncidents"]) >= 2) >= 5
    stale = alerts[f"DirectoryRole_{TENANT}_StaleSignInAlert"]["alertConfiguration"]
    assert stale["duration"] == "P30D"
    sequential = alerts[f"DirectoryRole_{TENANT}_SequentialActivationRenewalsAlert"]
    assert sequential["alertConfiguration"]["timeIntervalBetweenActivations"] == "PT1H"


def test_generate_alerts_streams_valid_skewed_alerts(store):
    start = datetime(2025, 1, 1, tzinfo=UTC)
    stream = generate_alerts(1_000_000_000, seed=5, tenant_id=TENANT, start=start, span_days=30)
    assert isinstance(stream, types.GeneratorType)  # nothing is built before it is asked for
    alerts = list(itertools.islice(stream, 1500))
    alerts_set = BY_NAME["alerts_v2"]
    for alert in alerts:
        store.to_row(alerts_set, alert)
        assert 1 <= len(alert["evidence"]) <= 5
        created = ticks(alert["createdDateTime"])
        assert ticks_from_datetime(start) <= created
        assert created <= ticks_from_datetime(start + timedelta(days=30))
    severities = Counter(alert["severity"] for alert in alerts)
    assert severities["medium"] > severities["informational"] > severities["unknown"]
    assert Counter(alert["status"] for alert in alerts)["new"] > 400
    instants = Counter(alert["createdDateTime"] for alert in alerts)
    assert sum(1 for count in instants.values() if count > 1) >= 10
    assert len({alert["id"] for alert in alerts}) == len(alerts)
    again = list(
        itertools.islice(
            generate_alerts(10, seed=5, tenant_id=TENANT, start=start, span_days=30), 10
        )
    )
    assert again == alerts[:10]
