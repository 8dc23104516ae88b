"""One tenant never sees or changes another's data.

Both tenants hold the same ids in every entity set (alerts a1/a2, incident 100, partner alert p1,
the PIM alert PIM_KEY and its incidents i-1/i-2) plus ids of their own. Tenant B probes every read,
write, action, navigation, $expand, $count and continuation token; A's data must be untouched and
another tenant's id answers 404 exactly as an id nobody has.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlsplit

import pytest
from sqlalchemy import func, select

from alertgraph.store.database import TENANT, audit_table
from tests.factories import TENANT_A, TENANT_B, insert, mint
from tests.security.conftest import (
    PIM_FILTER,
    PIM_KEY,
    PIM_SCOPE,
    bearer,
    claims_for,
    incident_record,
    seed_tenant,
    sign,
)

ALERTS = "/beta/security/alerts_v2"
INCIDENTS = "/beta/security/incidents"
PARTNER = "/beta/security/partner/securityAlerts"
PIM = "/beta/identityGovernance/roleManagementAlerts"
A_PIM = "DirectoryRole_A_StaleSignInAlert"
MANUAL = {
    "title": "Reported by the help desk",
    "description": "An MFA prompt the user did not start.",
    "category": "InitialAccess",
    "severity": "high",
    "entityDefinitions": [
        {
            "entityType": "user",
            "entityIdentifier": "userPrincipalName",
            "identifierValue": "alice@contoso.com",
            "role": "impacted",
        }
    ],
}


@pytest.fixture
def two(store):
    seed_tenant(store, TENANT_A, "A", own="555")
    seed_tenant(store, TENANT_B, "B", own="777")
    return store


@pytest.fixture
def as_a(app) -> dict[str, str]:
    return bearer(mint(app, TENANT_A))


@pytest.fixture
def as_b(app) -> dict[str, str]:
    return bearer(mint(app, TENANT_B))


def snapshot(client, headers) -> dict[str, Any]:
    """Everything tenant A can read, to compare before and after B's attempts."""
    paths = [
        f"{ALERTS}?$orderby=id",
        f"{INCIDENTS}?$orderby=id&$expand=alerts",
        f"{PARTNER}?$orderby=id",
        f"{PIM}/alerts?{PIM_FILTER}",
        f"{PIM}/alerts/{PIM_KEY}/alertIncidents",
        f"{PIM}/alerts/{A_PIM}/alertIncidents",
        f"{PIM}/alertConfigurations?{PIM_FILTER}",
        f"{PIM}/alertDefinitions?{PIM_FILTER}",
        f"{PIM}/operations",
    ]
    result = {}
    for path in paths:
        response = client.get(path, headers=headers)
        assert response.status_code == 200, (path, response.text)
        result[path] = response.json()["value"]
    return result


def assert_not_found(response) -> None:
    assert response.status_code == 404, response.text
    assert response.json()["error"]["code"] == "itemNotFound"


def test_lists_and_counts_hold_only_the_callers_rows(client, two, as_b) -> None:
    alerts = client.get(f"{ALERTS}?$count=true", headers=as_b).json()
    assert sorted(a["id"] for a in alerts["value"]) == ["B-only", "a1", "a2"]
    assert all(a["title"].startswith("B ") for a in alerts["value"])
    assert alerts["@odata.count"] == 3
    assert client.get(f"{ALERTS}/$count", headers=as_b).text == "3"
    incidents = client.get(f"{INCIDENTS}?$count=true", headers=as_b).json()
    assert sorted(i["id"] for i in incidents["value"]) == ["100", "777"]
    assert incidents["@odata.count"] == 2
    assert client.get(f"{INCIDENTS}/$count", headers=as_b).text == "2"
    partner = client.get(f"{PARTNER}?$count=true", headers=as_b).json()
    assert sorted(p["id"] for p in partner["value"]) == ["B-p", "p1"]
    assert client.get(f"{PARTNER}/$count", headers=as_b).text == "2"
    pim = client.get(f"{PIM}/alerts?{PIM_FILTER}&$count=true", headers=as_b).json()
    assert sorted(p["id"] for p in pim["value"]) == [
        "DirectoryRole_B_StaleSignInAlert",
        PIM_KEY,
    ]
    for collection in ("alertDefinitions", "alertConfigurations"):
        body = client.get(f"{PIM}/{collection}?{PIM_FILTER}", headers=as_b).json()
        assert [item["id"] for item in body["value"]] == [PIM_KEY]
    definition = client.get(f"{PIM}/alertDefinitions/{PIM_KEY}", headers=as_b).json()
    assert definition["displayName"] == "B def"


def test_filters_and_lambdas_never_reach_other_tenants(client, two, as_b) -> None:
    by_title = client.get(f"{ALERTS}?$filter=title eq 'A a1'", headers=as_b).json()
    assert by_title["value"] == []
    lam = client.get(f"{INCIDENTS}?$filter=alerts/any(a: a/title eq 'A a1')", headers=as_b)
    assert lam.status_code == 200, lam.text
    assert lam.json()["value"] == []
    own = client.get(f"{INCIDENTS}?$filter=alerts/any(a: a/title eq 'B a1')", headers=as_b)
    assert own.status_code == 200, own.text
    assert [i["id"] for i in own.json()["value"]] == ["100"]


@pytest.mark.parametrize(
    "option",
    ["$filter=_tenant eq 'x'", "$select=_tenant", "$orderby=_tenant", "$filter=_parent eq 'x'"],
)
def test_system_columns_are_not_addressable(client, two, as_b, option: str) -> None:
    response = client.get(f"{ALERTS}?{option}", headers=as_b)
    assert response.status_code == 400, response.text
    assert TENANT_A not in response.text


@pytest.mark.parametrize(
    "path",
    [
        f"{ALERTS}/A-only",
        f"{INCIDENTS}/555",
        f"{PARTNER}/A-p",
        f"{PIM}/alerts/{A_PIM}",
        f"{PIM}/alerts/{A_PIM}/alertIncidents",
        f"{PIM}/alerts/{A_PIM}/alertIncidents/i-1",
        f"{PIM}/alerts/{PIM_KEY}/alertIncidents/A-i",
        f"{PIM}/alerts/{A_PIM}/alertDefinition",
        f"{PIM}/alerts/{A_PIM}/alertConfiguration",
        f"{INCIDENTS}/555/alerts",
        f"{INCIDENTS}/555/alerts/$count",
        f"{INCIDENTS}/100/alerts/A-only",
        f"{INCIDENTS}/555?$expand=alerts",
        f"{ALERTS}/A-only/comments",
    ],
)
def test_another_tenants_id_is_404_like_an_unknown_one(client, two, as_b, path: str) -> None:
    theirs = client.get(path, headers=as_b)
    assert_not_found(theirs)
    nobody = client.get(
        path.replace("A-", "Z-").replace("555", "999").replace(A_PIM, "nope"), headers=as_b
    )
    assert nobody.status_code == 404
    assert theirs.json()["error"]["code"] == nobody.json()["error"]["code"]


def test_shared_ids_resolve_to_the_callers_own_rows(client, two, as_b) -> None:
    assert client.get(f"{ALERTS}/a1", headers=as_b).json()["title"] == "B a1"
    assert client.get(f"{INCIDENTS}/100", headers=as_b).json()["displayName"] == "B incident 100"
    expanded = client.get(f"{INCIDENTS}/100?$expand=alerts", headers=as_b).json()
    assert sorted(a["title"] for a in expanded["alerts"]) == ["B a1", "B a2"]
    listed = client.get(f"{INCIDENTS}?$expand=alerts", headers=as_b).json()["value"]
    titles = [a["title"] for incident in listed for a in incident["alerts"]]
    assert sorted(titles) == ["B a1", "B a2", "B only"]
    nav = client.get(f"{INCIDENTS}/100/alerts", headers=as_b).json()["value"]
    assert sorted(a["title"] for a in nav) == ["B a1", "B a2"]
    assert client.get(f"{INCIDENTS}/100/alerts/$count", headers=as_b).text == "2"
    incidents = client.get(f"{PIM}/alerts/{PIM_KEY}/alertIncidents", headers=as_b).json()
    assert sorted(i["id"] for i in incidents["value"]) == ["B-i", "i-1", "i-2"]
    definition = client.get(f"{PIM}/alerts/{PIM_KEY}/alertDefinition", headers=as_b).json()
    assert definition["displayName"] == "B def"


def test_writes_and_actions_on_another_tenants_ids(client, two, as_a, as_b) -> None:
    before = snapshot(client, as_a)
    attempts = [
        ("PATCH", f"{ALERTS}/A-only", {"status": "resolved"}),
        ("PATCH", f"{INCIDENTS}/555", {"status": "resolved"}),
        ("PATCH", f"{PARTNER}/A-p", {"status": "resolved"}),
        ("PATCH", f"{PIM}/alerts/{A_PIM}", {"isActive": False}),
        (
            "PATCH",
            f"{PIM}/alertConfigurations/{A_PIM}",
            {"@odata.type": "#microsoft.graph.staleSignInAlertConfiguration", "isEnabled": False},
        ),
        ("POST", f"{ALERTS}/A-only/comments", {"comment": "from B"}),
        ("POST", f"{INCIDENTS}/555/comments", {"comment": "from B"}),
        ("POST", f"{ALERTS}/moveAlerts", {"alertIds": ["A-only"], "incidentId": "777"}),
        ("POST", f"{ALERTS}/moveAlerts", {"alertIds": ["a1"], "incidentId": "555"}),
        ("POST", f"{ALERTS}/moveAlerts", {"alertIds": ["a1", "A-only"]}),
        ("POST", f"{INCIDENTS}/mergeIncidents", {"incidentIds": ["100", "555"]}),
        ("POST", f"{INCIDENTS}/mergeIncidents", {"incidentIds": ["555", "777"]}),
        ("POST", f"{ALERTS}/createAlert", {"createAlertInput": {**MANUAL, "linkToIncident": 555}}),
        (
            "POST",
            ALERTS,
            {
                "@odata.type": "#microsoft.graph.security.manualAlert",
                **MANUAL,
                "linkToIncident": 555,
            },
        ),
        ("POST", f"{PIM}/alerts/{A_PIM}/refresh", None),
        ("POST", f"{PIM}/alerts/{A_PIM}/alertIncidents/i-1/remediate", None),
        ("POST", f"{PIM}/alerts/{PIM_KEY}/alertIncidents/A-i/remediate", None),
    ]
    for method, path, body in attempts:
        response = client.request(method, path, json=body, headers=as_b)
        assert response.status_code == 404, (method, path, response.text)
    assert snapshot(client, as_a) == before
    # nothing was created in B either, and nothing was audited anywhere
    assert client.get(f"{ALERTS}/$count", headers=as_b).text == "3"
    with two.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(audit_table)).scalar_one() == 0


def test_writes_on_shared_ids_change_only_the_callers_rows(client, two, as_a, as_b) -> None:
    before = snapshot(client, as_a)
    writes = [
        ("PATCH", f"{ALERTS}/a1", {"status": "resolved"}, 200),
        ("PATCH", f"{INCIDENTS}/100", {"status": "resolved", "customTags": ["x"]}, 200),
        ("PATCH", f"{PARTNER}/p1", {"status": "resolved"}, 200),
        ("PATCH", f"{PIM}/alerts/{PIM_KEY}", {"isActive": False}, 204),
        (
            "PATCH",
            f"{PIM}/alertConfigurations/{PIM_KEY}",
            {"@odata.type": "#microsoft.graph.staleSignInAlertConfiguration", "isEnabled": False},
            204,
        ),
        ("POST", f"{ALERTS}/a1/comments", {"comment": "from B"}, 200),
        ("POST", f"{INCIDENTS}/100/comments", {"comment": "from B"}, 200),
        ("POST", f"{ALERTS}/moveAlerts", {"alertIds": ["a2"], "incidentId": "777"}, 200),
        ("POST", f"{INCIDENTS}/mergeIncidents", {"incidentIds": ["100", "777"]}, 200),
        (
            "POST",
            f"{ALERTS}/createAlert",
            {"createAlertInput": {**MANUAL, "linkToIncident": 100}},
            201,
        ),
        ("POST", f"{PIM}/alerts/{PIM_KEY}/alertIncidents/i-1/remediate", None, 200),
        ("POST", f"{PIM}/alerts/{PIM_KEY}/refresh", None, 202),
        ("POST", f"{PIM}/alerts/refresh", PIM_SCOPE, 202),
    ]
    for method, path, body, status in writes:
        response = client.request(method, path, json=body, headers=as_b)
        assert response.status_code == status, (method, path, response.text)
    assert snapshot(client, as_a) == before
    with two.engine.connect() as conn:
        tenants = {row[0] for row in conn.execute(select(audit_table.c[TENANT]))}
    assert tenants == {TENANT_B}
    # B's changes are there for B
    assert client.get(f"{ALERTS}/a1", headers=as_b).json()["status"] == "resolved"
    remaining = client.get(f"{PIM}/alerts/{PIM_KEY}/alertIncidents", headers=as_b).json()
    assert sorted(i["id"] for i in remaining["value"]) == ["B-i", "i-2"]


def test_pim_operation_ids_are_per_tenant(client, two, as_a, as_b) -> None:
    started = client.post(f"{PIM}/alerts/refresh", json=PIM_SCOPE, headers=as_a)
    assert started.status_code == 202
    location = urlsplit(started.headers["location"]).path
    assert client.get(location, headers=as_a).status_code == 200
    assert_not_found(client.get(location, headers=as_b))
    assert client.get(f"{PIM}/operations", headers=as_b).json()["value"] == []
    # one alert's refresh has a predictable id (refresh:<alertId>): still B's own
    one = client.post(f"{PIM}/alerts/{PIM_KEY}/refresh", headers=as_a)
    location = urlsplit(one.headers["location"]).path
    assert_not_found(client.get(location, headers=as_b))
    mine = client.post(f"{PIM}/alerts/{PIM_KEY}/refresh", headers=as_b)
    assert urlsplit(mine.headers["location"]).path == location
    a_operation = client.get(location, headers=as_a).json()
    b_operation = client.get(location, headers=as_b).json()
    assert a_operation["id"] == b_operation["id"]
    assert client.get(f"{PIM}/operations/$count", headers=as_b).text == "1"


def test_continuation_tokens_are_bound_to_the_tenant(client, two, as_a, as_b) -> None:
    many = [incident_record(str(1000 + n), "X") for n in range(60)]
    insert(two, "incidents", many, tenant=TENANT_A)
    insert(two, "incidents", many, tenant=TENANT_B)
    first = client.get(INCIDENTS, headers=as_a).json()
    next_link = first["@odata.nextLink"]
    assert client.get(next_link, headers=as_a).status_code == 200
    replayed = client.get(next_link, headers=as_b)
    assert replayed.status_code == 400, replayed.text
    error = replayed.json()["error"]
    assert "$skiptoken" in error["message"]
    # through a navigation too
    insert(
        two,
        "alerts_v2",
        [{**_alert(f"n{n:03d}"), "incidentId": "100"} for n in range(110)],
        tenant=TENANT_A,
    )
    nav = client.get(f"{INCIDENTS}/100/alerts", headers=as_a).json()
    assert client.get(nav["@odata.nextLink"], headers=as_b).status_code == 400


def _alert(alert_id: str) -> dict[str, Any]:
    from tests.factories import alert

    return alert(alert_id)


def test_tenant_ids_match_exactly(client, two) -> None:
    """A tid differing only in case is another tenant on both databases."""
    upper = sign(two, claims_for(TENANT_A.upper()))
    assert client.get(ALERTS, headers=bearer(upper)).json()["value"] == []
    padded = sign(two, claims_for(TENANT_A + "."))
    assert client.get(ALERTS, headers=bearer(padded)).json()["value"] == []


@pytest.mark.parametrize(
    ("key", "status", "code"),
    [
        # a NUL is no character of any key: refused as bad input before any lookup
        ("a%00b", 400, "BadRequest"),
        ("%00", 400, "BadRequest"),
        ("a1%00", 400, "BadRequest"),
        # anything else is just a key nobody has
        ("A-only%27%20or%20%271%27%3D%271", 404, "itemNotFound"),
        ("a1'", 404, "itemNotFound"),
        ("a1%2Fcomments", 404, "itemNotFound"),
    ],
)
def test_hostile_ids_are_not_found_not_errors(
    client, two, as_b, key: str, status: int, code: str
) -> None:
    for path in (
        f"{ALERTS}/{key}",
        f"{INCIDENTS}/{key}/alerts",
        f"{PIM}/alerts/{key}/alertIncidents",
    ):
        response = client.get(path, headers=as_b)
        assert response.status_code == status, (path, response.text)
        assert response.json()["error"]["code"] == code, (path, response.text)
    patch = client.patch(f"{ALERTS}/{key}", json={"status": "new"}, headers=as_b)
    assert patch.status_code == status, patch.text
    assert patch.json()["error"]["code"] == code, patch.text


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("PATCH", f"{ALERTS}/a1", {"assignedTo": "mallory\u0000@contoso.com"}),
        ("PATCH", f"{ALERTS}/a1", {"status\u0000": "new"}),
        ("POST", f"{ALERTS}/a1/comments", {"comment": "\u0000"}),
        ("PATCH", f"{INCIDENTS}/100", {"customTags": ["ok", "bad\u0000"]}),
        ("GET", f"{ALERTS}?$filter=title eq 'a%00'", None),
        ("GET", f"{ALERTS}?$search=%00", None),
    ],
)
def test_nul_characters_are_400_on_both_databases(client, two, as_b, method, path, body) -> None:
    """PostgreSQL text can't hold NUL; the request must fail as a 400, not in the database."""
    content = None if body is None else json.dumps(body)  # NUL leaves as \\u0000
    headers = {**as_b, "Content-Type": "application/json"}
    response = client.request(method, path, content=content, headers=headers)
    assert response.status_code == 400, response.text
    assert client.get(f"{ALERTS}/a1", headers=as_b).json()["assignedTo"] is None
