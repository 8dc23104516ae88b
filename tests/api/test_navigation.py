"""Navigation paths: an incident's alerts, one alert below it, PIM single-valued links."""

from __future__ import annotations

from tests import factories
from tests.factories import alert, insert, mint


def incident(incident_id: str, **overrides):
    return factories.incident(
        incident_id,
        severity="high",
        createdDateTime="2024-05-01T00:00:00Z",
        lastUpdateDateTime="2024-05-02T00:00:00Z",
        **overrides,
    )


def test_incident_alerts_collection_count_and_item(client, store, headers) -> None:
    insert(store, "incidents", [incident("7"), incident("8")])
    insert(
        store,
        "alerts_v2",
        [
            alert("a1", incidentId="7", createdDateTime="2024-05-01T01:00:00Z"),
            alert("a2", incidentId="7", createdDateTime="2024-05-01T02:00:00Z", severity="high"),
            alert("b1", incidentId="8"),
        ],
    )
    body = client.get("/beta/security/incidents/7/alerts", headers=headers).json()
    assert [a["id"] for a in body["value"]] == ["a2", "a1"]
    assert (
        body["@odata.context"] == "http://testserver/beta/$metadata#security/incidents('7')/alerts"
    )
    filtered = client.get(
        "/beta/security/incidents/7/alerts?$filter=severity eq 'high'", headers=headers
    ).json()
    assert [a["id"] for a in filtered["value"]] == ["a2"]
    count = client.get("/beta/security/incidents/7/alerts/$count", headers=headers)
    assert count.text == "2"
    assert client.get("/beta/security/incidents/7/alerts/a1", headers=headers).json()["id"] == "a1"
    assert client.get("/beta/security/incidents/7/alerts/b1", headers=headers).status_code == 404
    assert client.get("/beta/security/incidents/9/alerts", headers=headers).status_code == 404


def test_incident_alerts_paging_stays_on_the_navigation_path(client, store, headers) -> None:
    insert(store, "incidents", [incident("7")])
    insert(
        store,
        "alerts_v2",
        [alert(f"a{n:03d}", incidentId="7") for n in range(120)] + [alert("other", incidentId="8")],
    )
    url = "http://testserver/beta/security/incidents/7/alerts"
    seen = []
    while url:
        body = client.get(url, headers=headers).json()
        seen += [a["id"] for a in body["value"]]
        url = body.get("@odata.nextLink")
        if url:
            assert url.startswith("http://testserver/beta/security/incidents('7')/alerts?")
    assert len(seen) == len(set(seen)) == 120


def test_incident_read_permission_is_enough_for_its_alerts(client, app, store) -> None:
    insert(store, "incidents", [incident("7")])
    insert(store, "alerts_v2", [alert("a1", incidentId="7")])
    token = mint(
        app, app_id="11111111-2222-3333-4444-555555555555", roles=["SecurityIncident.Read.All"]
    )
    headers = {"Authorization": f"Bearer {token}"}
    assert client.get("/beta/security/incidents/7/alerts", headers=headers).status_code == 200
    assert client.get("/beta/security/alerts_v2", headers=headers).status_code == 403


def test_pim_alert_definition_navigation(client, store, headers) -> None:
    definition_id = "DirectoryRole_t_StaleSignInAlert"
    insert(
        store,
        "pim_definitions",
        [
            {
                "id": definition_id,
                "displayName": "Potential stale accounts",
                "scopeId": "/",
                "scopeType": "DirectoryRole",
            }
        ],
    )
    insert(
        store,
        "pim_alerts",
        [
            {
                "id": definition_id,
                "alertDefinitionId": definition_id,
                "scopeId": "/",
                "scopeType": "DirectoryRole",
                "isActive": True,
                "incidentCount": 0,
            }
        ],
    )
    base = "/beta/identityGovernance/roleManagementAlerts/alerts"
    body = client.get(f"{base}/{definition_id}/alertDefinition", headers=headers).json()
    assert body["displayName"] == "Potential stale accounts"
    assert "alertDefinitions/$entity" in body["@odata.context"]


def test_comments_count_segment(client, store, headers) -> None:
    insert(
        store,
        "alerts_v2",
        [
            alert(
                "c1",
                comments=[
                    {"comment": "one", "createdDateTime": "2024-05-01T00:00:00Z"},
                    {"comment": "two", "createdDateTime": "2024-05-02T00:00:00Z"},
                ],
            )
        ],
    )
    response = client.get("/beta/security/alerts_v2/c1/comments/$count", headers=headers)
    assert response.status_code == 200
    assert response.text == "2"
    assert (
        client.get("/beta/security/alerts_v2/zz/comments/$count", headers=headers).status_code
        == 404
    )
