"""The query URLs Graph's documentation prints for these APIs, sent as printed (spaces, quotes,
$-names), with the answers the documented behaviour gives (reference sections 1.2, 2.2, 3.2 and
4.5-4.7). Runs on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests import factories
from tests.factories import alert, user_evidence

from .spec_support import Api, Expected, cases, open_api

ROOT = "http://testserver/beta"
PIM = "/beta/identityGovernance/roleManagementAlerts"
SCOPE = "$filter=scopeId eq '/' and scopeType eq 'DirectoryRole'"
TMGA = "DirectoryRole_t1_TooManyGlobalAdminsAssignedToTenantAlert"
STALE = "DirectoryRole_t1_StaleSignInAlert"


def device_evidence(name: str) -> dict[str, Any]:
    return factories.device_evidence(
        name, created="2025-02-07T19:00:00Z", verdict="suspicious", remediation="none"
    )


def incident(number: int, **fields: Any) -> dict[str, Any]:
    record: dict[str, Any] = {
        "id": str(number),
        "displayName": f"Incident {number}",
        "severity": "medium",
        "status": "active",
        "createdDateTime": f"2025-02-0{number}T00:00:00Z",
        "lastUpdateDateTime": f"2025-02-0{number}T12:00:00Z",
    }
    record.update(fields)
    return record


def partner(alert_id: str, **fields: Any) -> dict[str, Any]:
    record: dict[str, Any] = {
        "id": alert_id,
        "alertType": "networkConnectionsToCryptoMiningPools",
        "confidenceLevel": "high",
        "customerTenantId": "c1",
        "detectedDateTime": "2025-02-01T00:00:00Z",
        "displayName": f"Partner alert {alert_id}",
        "severity": "high",
        "status": "active",
        "subscriptionId": "s1",
    }
    record.update(fields)
    return record


def load_pim(api: Api) -> None:
    kinds = {
        STALE: ("staleSignInAlertConfiguration", "staleSignInAlertIncident"),
        TMGA: (
            "tooManyGlobalAdminsAssignedToTenantAlertConfiguration",
            "tooManyGlobalAdminsAssignedToTenantAlertIncident",
        ),
    }
    for index, (key, (configuration, _incident)) in enumerate(kinds.items()):
        scope = {"scopeId": "/", "scopeType": "DirectoryRole"}
        api.load(
            "pim_definitions",
            [{"id": key, "displayName": key, "severityLevel": "medium", **scope}],
        )
        api.load(
            "pim_configurations",
            [
                {
                    "@odata.type": f"#microsoft.graph.{configuration}",
                    "id": key,
                    "alertDefinitionId": key,
                    "isEnabled": True,
                    **scope,
                }
            ],
        )
        api.load(
            "pim_alerts",
            [{"id": key, "alertDefinitionId": key, "incidentCount": 7 * index, **scope}],
        )
    api.load(
        "pim_incidents",
        [
            {
                "@odata.type": "#microsoft.graph.tooManyGlobalAdminsAssignedToTenantAlertIncident",
                "id": f"user{n}",
                "assigneeId": f"user{n}",
                "assigneeDisplayName": f"User {n}",
                "assigneeUserPrincipalName": f"user{n}@contoso.com",
            }
            for n in range(7)
        ],
        parent=TMGA,
    )


@pytest.fixture(scope="module")
def api(module_db_url: str) -> Iterator[Api]:
    """Every documented example's data, loaded once per database: the tests only read."""
    with open_api(module_db_url) as opened:
        opened.load(
            "alerts_v2",
            [
                alert(
                    "da1",
                    severity="high",
                    assignedTo="alice@contoso.com",
                    classification="truePositive",
                    determination="malware",
                    createdDateTime="2025-02-07T19:01:26Z",
                    lastUpdateDateTime="2025-02-08T00:00:00Z",
                    incidentId="1",
                    evidence=[user_evidence("alice@contoso.com")],
                ),
                alert(
                    "da2",
                    severity="low",
                    status="resolved",
                    createdDateTime="2025-02-07T19:01:25Z",
                    lastUpdateDateTime="2025-02-09T00:00:00Z",
                    incidentId="1",
                    evidence=[device_evidence("pc123.contoso.com")],
                ),
                alert(
                    "da3",
                    severity="high",
                    serviceSource="microsoftDefenderForOffice365",
                    createdDateTime="2025-02-08T00:00:00Z",
                    lastUpdateDateTime="2025-02-07T00:00:00Z",
                    incidentId="2",
                ),
            ],
        )
        opened.load("incidents", [incident(n) for n in (1, 2, 3)])
        opened.load(
            "partner_alerts",
            [
                partner("p1", detectedDateTime="2025-02-01T00:00:00Z"),
                partner("p2", status="resolved", detectedDateTime="2025-02-02T00:00:00Z"),
            ],
        )
        load_pim(opened)
        yield opened


def ids(body: dict[str, Any]) -> list[str]:
    return [item["id"] for item in body["value"]]


# reference S1: the documented filterable properties, enum members quoted, dates unquoted, and
# the migration guide's lambdas with a type cast; newest createdDateTime first
ALERT_FILTERS: list[tuple[str, Expected]] = [
    ("$filter=severity eq 'high'", ["da3", "da1"]),
    ("$filter=serviceSource eq 'microsoftDefenderForEndpoint'", ["da1", "da2"]),
    ("$filter=createdDateTime ge 2025-02-07T19:01:26Z", ["da3", "da1"]),
    ("$filter=status eq 'new'", ["da3", "da1"]),
    ("$filter=assignedTo eq 'alice@contoso.com'", ["da1"]),
    ("$filter=classification eq 'truePositive' and determination eq 'malware'", ["da1"]),
    ("$filter=lastUpdateDateTime gt 2025-02-08T00:00:00Z", ["da2"]),
    (
        "$filter=evidence/any(e: e/microsoft.graph.security.userEvidence/userAccount/"
        "userPrincipalName eq 'alice@contoso.com')",
        ["da1"],
    ),
    (
        "$filter=evidence/any(e: e/microsoft.graph.security.deviceEvidence/deviceDnsName "
        "eq 'pc123.contoso.com')",
        ["da2"],
    ),
    ("$orderby=lastUpdateDateTime asc", ["da3", "da1", "da2"]),
    ("$top=1", ["da3"]),
    ("$skip=1&$top=1", ["da1"]),
]


@pytest.mark.parametrize("version", ["beta", "v1.0"])
@pytest.mark.parametrize(("query", "expected"), cases({"alerts_v2": ALERT_FILTERS}))
def test_alerts_v2_documented_query(api: Api, version: str, query: str, expected: Expected) -> None:
    api.expect(f"/{version}/security/alerts_v2?{query}", expected)


def test_alerts_v2_count_with_top(api: Api) -> None:
    body = api.body("/beta/security/alerts_v2?$count=true&$top=1")
    assert body["@odata.count"] == 3
    assert ids(body) == ["da3"]
    # $top is the page size (reference 4.7): the rest follows one at a time
    every = ids(api.body("/beta/security/alerts_v2"))
    second = api.body(body["@odata.nextLink"])
    assert (ids(second), second["@odata.count"]) == (every[1:2], 3)
    third = api.body(second["@odata.nextLink"])
    assert ids(third) == every[2:]
    assert "@odata.nextLink" not in third


def test_select_context_urls(api: Api) -> None:
    body = api.body("/beta/security/alerts_v2?$select=id,title,severity")
    assert body["@odata.context"] == f"{ROOT}/$metadata#security/alerts_v2(id,title,severity)"
    one = api.body("/beta/security/alerts_v2/da1?$select=id,title")
    assert one["@odata.context"] == f"{ROOT}/$metadata#security/alerts_v2(id,title)/$entity"
    assert set(one) == {"@odata.context", "@odata.type", "id", "title"}


def test_incidents_documented_examples(api: Api) -> None:
    counted = api.body("/beta/security/incidents?$count=true")
    assert counted["@odata.count"] == 3
    assert ids(counted) == ["3", "2", "1"]
    assert ids(api.body("/beta/security/incidents?$top=10")) == ["3", "2", "1"]
    expanded = api.body("/beta/security/incidents?$expand=alerts")
    assert expanded["@odata.context"] == f"{ROOT}/$metadata#security/incidents(alerts())"
    by_id = {item["id"]: item for item in expanded["value"]}
    assert [a["id"] for a in by_id["1"]["alerts"]] == ["da1", "da2"]
    assert [a["id"] for a in by_id["2"]["alerts"]] == ["da3"]
    assert by_id["3"]["alerts"] == []
    first = by_id["1"]["alerts"][0]
    assert first["@odata.type"] == "#microsoft.graph.security.alert"
    assert first["evidence"][0]["@odata.type"] == "#microsoft.graph.security.userEvidence"


def test_incidents_expand_with_nested_select_and_outer_select(api: Api) -> None:
    body = api.body("/beta/security/incidents?$expand=alerts($select=id,title)&$filter=id eq '1'")
    assert body["@odata.context"] == f"{ROOT}/$metadata#security/incidents(alerts(id,title))"
    assert body["value"][0]["alerts"] == [
        {"@odata.type": "#microsoft.graph.security.alert", "id": "da1", "title": "Alert da1"},
        {"@odata.type": "#microsoft.graph.security.alert", "id": "da2", "title": "Alert da2"},
    ]
    both = api.body("/beta/security/incidents?$select=id,displayName&$expand=alerts&$top=1")
    assert both["@odata.context"] == f"{ROOT}/$metadata#security/incidents(id,displayName,alerts())"
    assert set(both["value"][0]) == {"@odata.type", "id", "displayName", "alerts"}


def test_incidents_top_above_50_is_graphs_400(api: Api) -> None:
    message = api.error("/beta/security/incidents?$top=100")
    assert "the limit of '50' for Top query has been exceeded" in message
    assert "The value from the incoming request is '100'" in message


def test_alerts_of_one_incident(api: Api) -> None:
    body = api.body("/beta/security/incidents/1/alerts")
    assert body["@odata.context"] == f"{ROOT}/$metadata#security/incidents('1')/alerts"
    assert ids(body) == ["da1", "da2"]
    one = api.body("/beta/security/incidents/1?$expand=alerts")
    assert one["@odata.context"] == f"{ROOT}/$metadata#security/incidents(alerts())/$entity"
    assert [a["id"] for a in one["alerts"]] == ["da1", "da2"]


def test_partner_documented_options(api: Api) -> None:
    body = api.body("/beta/security/partner/securityAlerts?$count=true")
    assert body["@odata.context"] == f"{ROOT}/$metadata#security/partner/securityAlerts"
    assert body["@odata.count"] == 2
    assert ids(body) == ["p2", "p1"]
    filtered = api.body("/beta/security/partner/securityAlerts?$filter=status eq 'active'")
    assert ids(filtered) == ["p1"]
    selected = api.body("/beta/security/partner/securityAlerts?$select=id,displayName")
    # partner alerts carry no @odata.type, like the documented example
    assert selected["value"][0] == {"id": "p2", "displayName": "Partner alert p2"}


def test_pim_alerts_with_the_three_expansions(api: Api) -> None:
    url = f"{PIM}/alerts?{SCOPE}&$expand=alertDefinition,alertConfiguration,alertIncidents"
    body = api.body(url)
    assert body["@odata.context"] == (
        f"{ROOT}/$metadata#identityGovernance/roleManagementAlerts/"
        "alerts(alertDefinition(),alertConfiguration(),alertIncidents())"
    )
    by_id = {item["id"]: item for item in body["value"]}
    tmga = by_id[TMGA]
    assert tmga["alertDefinition"]["id"] == TMGA
    assert tmga["alertConfiguration"]["@odata.type"] == (
        "#microsoft.graph.tooManyGlobalAdminsAssignedToTenantAlertConfiguration"
    )
    assert tmga["alertIncidents@odata.context"] == (
        f"{ROOT}/$metadata#identityGovernance/roleManagementAlerts/alerts('{TMGA}')/alertIncidents"
    )
    assert [i["id"] for i in tmga["alertIncidents"]] == [f"user{n}" for n in range(7)]
    assert all(
        i["@odata.type"] == "#microsoft.graph.tooManyGlobalAdminsAssignedToTenantAlertIncident"
        for i in tmga["alertIncidents"]
    )
    assert by_id[STALE]["alertIncidents"] == []
    star = api.body(f"{PIM}/alerts?{SCOPE}&$expand=*")
    assert star["value"] == body["value"]


def test_pim_lists_demand_the_scope_filter(api: Api) -> None:
    for collection in ("alerts", "alertConfigurations", "alertDefinitions"):
        assert "must be filtered by scope" in api.error(f"{PIM}/{collection}")
        assert "scopeType eq 'DirectoryRole'" in api.error(
            f"{PIM}/{collection}?$filter=scopeId eq '/'"
        )
        assert len(api.ids(f"{PIM}/{collection}?{SCOPE}")) == 2
    configurations = api.body(f"{PIM}/alertConfigurations?{SCOPE}&$expand=alertDefinition")
    assert configurations["@odata.context"] == (
        f"{ROOT}/$metadata#identityGovernance/roleManagementAlerts/"
        "alertConfigurations(alertDefinition())"
    )


@pytest.mark.parametrize("alert_segment", [f"alerts/{TMGA}", f"alerts('{TMGA}')"])
def test_pim_incidents_top_5_pages_with_skip(api: Api, alert_segment: str) -> None:
    first = api.body(f"{PIM}/{alert_segment}/alertIncidents?$top=5")
    assert first["@odata.context"] == (
        f"{ROOT}/$metadata#identityGovernance/roleManagementAlerts/alerts('{TMGA}')/alertIncidents"
    )
    assert ids(first) == [f"user{n}" for n in range(5)]
    assert first["@odata.nextLink"] == (
        f"{ROOT}/identityGovernance/roleManagementAlerts/alerts('{TMGA}')/alertIncidents"
        "?$top=5&$skip=5"
    )
    second = api.body(first["@odata.nextLink"])
    assert ids(second) == ["user5", "user6"]
    assert "@odata.nextLink" not in second
