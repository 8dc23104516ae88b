"""Manual alerts, createAlert, moveAlerts and mergeIncidents over HTTP (SQLite and PostgreSQL)."""

from __future__ import annotations

import pytest

from tests.api.test_workflow_alerts import ALERT_URL, INCIDENT_URL, ROOT
from tests.factories import TENANT_A, TENANT_B, alert, incident, insert, mint

MANUAL = "#microsoft.graph.security.manualAlert"


def manual_alert(**overrides):
    body = {
        "@odata.type": MANUAL,
        "title": "Suspicious sign-in reported by the help desk",
        "description": "User reported an MFA prompt they did not start.",
        "category": "InitialAccess",
        "severity": "high",
        "mitreTechniques": ["T1078"],
        "recommendedActions": "Reset the password.",
        "entityDefinitions": [
            {
                "entityType": "user",
                "entityIdentifier": "userPrincipalName",
                "identifierValue": "alice@contoso.com",
                "role": "impacted",
            },
            {
                "entityType": "ip",
                "entityIdentifier": "address",
                "identifierValue": "203.0.113.7",
                "role": "related",
            },
        ],
    }
    body.update(overrides)
    return body


@pytest.fixture
def seeded(store):
    insert(
        store,
        "incidents",
        [
            incident("100", createdDateTime="2024-05-02T00:00:00Z", customTags=["a"]),
            incident("200", createdDateTime="2024-04-01T00:00:00Z", customTags=["b"]),
            incident("300", severity="low"),
        ],
    )
    insert(
        store,
        "alerts_v2",
        [
            alert("a1", incidentId="100", severity="low"),
            alert("a2", incidentId="100", severity="high"),
            alert("b1", incidentId="200", severity="medium"),
            alert("c1", incidentId="300", severity="low"),
        ],
    )
    insert(store, "incidents", [incident("100")], tenant=TENANT_B)
    return store


def test_manual_alert_is_created_with_graphs_defaults(client, seeded, headers) -> None:
    response = client.post(ALERT_URL, json=manual_alert(), headers=headers)
    assert response.status_code == 201, response.text
    created = response.json()
    assert created["@odata.context"] == f"{ROOT}/$metadata#security/alerts_v2/$entity"
    assert created["@odata.type"] == "#microsoft.graph.security.alert"
    assert created["id"].endswith("_aml")
    assert created["providerAlertId"].startswith("manual_")
    assert created["detectionSource"] == "manual"
    assert created["serviceSource"] == "microsoft365Defender"
    assert (created["status"], created["classification"], created["determination"]) == (
        "new",
        "unknown",
        "unknown",
    )
    assert created["createdDateTime"] == created["lastUpdateDateTime"]
    assert created["alertWebUrl"] == (
        f"https://security.microsoft.com/alerts/{created['id']}?tid={TENANT_A}"
    )
    assert created["mitreTechniques"] == ["T1078"]
    assert response.headers["location"] == f"{ROOT}/security/alerts_v2/{created['id']}"
    user, ip = created["evidence"]
    assert user["@odata.type"] == "#microsoft.graph.security.userEvidence"
    assert user["userAccount"]["userPrincipalName"] == "alice@contoso.com"
    assert ip["@odata.type"] == "#microsoft.graph.security.ipEvidence"
    assert ip["ipAddress"] == "203.0.113.7"
    assert ip["detailedRoles"] == ["related"]

    new_incident = client.get(f"{INCIDENT_URL}/{created['incidentId']}", headers=headers).json()
    assert new_incident["severity"] == "high"
    assert new_incident["status"] == "active"
    assert created["incidentId"].isdigit()
    stored = client.get(f"{ALERT_URL}/{created['id']}", headers=headers).json()
    assert stored == {**created, "@odata.context": stored["@odata.context"]}


def test_manual_alert_links_to_an_existing_incident(client, seeded, headers) -> None:
    response = client.post(ALERT_URL, json=manual_alert(linkToIncident=300), headers=headers)
    assert response.status_code == 201, response.text
    assert response.json()["incidentId"] == "300"
    linked = client.get(f"{INCIDENT_URL}/300", headers=headers).json()
    assert linked["severity"] == "high"  # raised to the new alert's
    missing = client.post(ALERT_URL, json=manual_alert(linkToIncident=999), headers=headers)
    assert missing.status_code == 404
    assert "999" in missing.json()["error"]["message"]


def test_manual_alert_problems_in_one_400(client, seeded, headers) -> None:
    body = manual_alert(description="x" * 5001, severity="urgent", colour="red")
    del body["title"]
    body["entityDefinitions"] = [
        {
            "entityType": "file",
            "entityIdentifier": "md5",
            "identifierValue": "abc",
            "role": "impacted",
        },
        {"entityType": "user", "identifierValue": "bob", "role": "boss"},
    ]
    response = client.post(ALERT_URL, json=body, headers=headers)
    assert response.status_code == 400
    message = response.json()["error"]["message"]
    assert "title: is required" in message
    assert "5001 characters" in message
    assert "'urgent' is not a member" in message
    assert "colour: is not accepted" in message
    assert "'md5' does not identify a file; use one of: sha256, sha1" in message
    assert "entityDefinitions[1].entityIdentifier: is required" in message
    assert "entityDefinitions[1].role" in message
    assert "Accepted fields: title, description" in message


@pytest.mark.parametrize(
    "changes",
    [
        {"@odata.type": None},
        {"@odata.type": "#microsoft.graph.security.alert"},
        {"entityDefinitions": []},
        {
            "entityDefinitions": [
                {
                    "entityType": "ip",
                    "entityIdentifier": "address",
                    "identifierValue": "1.2.3.4",
                    "role": "related",
                }
            ]
            * 101
        },
    ],
)
def test_manual_alert_needs_its_type_and_1_to_100_entities(
    client, seeded, headers, changes
) -> None:
    body = manual_alert(**changes)
    if body["@odata.type"] is None:
        del body["@odata.type"]
    response = client.post(ALERT_URL, json=body, headers=headers)
    assert response.status_code == 400, response.text


def test_create_alert_action(client, seeded, headers) -> None:
    payload = manual_alert()
    del payload["@odata.type"]
    response = client.post(
        f"{ALERT_URL}/createAlert", json={"createAlertInput": payload}, headers=headers
    )
    assert response.status_code == 201, response.text
    assert response.json()["title"] == payload["title"]
    bad = client.post(f"{ALERT_URL}/createAlert", json=payload, headers=headers)
    assert bad.status_code == 400
    assert "createAlertInput" in bad.json()["error"]["message"]


def test_move_alerts_to_an_incident(client, seeded, headers) -> None:
    body = {
        "alertIds": ["a2", "c1"],
        "incidentId": "200",
        "alertComment": "same campaign",
        "newCorrelationReasons": "sameAsset, temporalProximity",
    }
    response = client.post(f"{ALERT_URL}/moveAlerts", json=body, headers=headers)
    assert response.status_code == 200, response.text
    assert response.json() == {
        "@odata.context": f"{ROOT}/$metadata#microsoft.graph.security.mergeResponse",
        "targetIncidentId": "200",
    }
    moved = client.get(f"{ALERT_URL}/a2", headers=headers).json()
    assert moved["incidentId"] == "200"
    assert moved["comments"][-1]["comment"] == "same campaign"
    assert client.get(f"{INCIDENT_URL}/200", headers=headers).json()["severity"] == "high"
    source = client.get(f"{INCIDENT_URL}/100", headers=headers).json()
    assert source["severity"] == "low"  # only a1 is left
    emptied = client.get(f"{INCIDENT_URL}/300", headers=headers).json()
    assert (emptied["status"], emptied["redirectIncidentId"]) == ("redirected", "200")


def test_move_alerts_without_incident_creates_one(client, seeded, headers) -> None:
    response = client.post(f"{ALERT_URL}/moveAlerts", json={"alertIds": ["a1"]}, headers=headers)
    assert response.status_code == 200, response.text
    target = response.json()["targetIncidentId"]
    assert target not in ("100", "200", "300")
    assert client.get(f"{ALERT_URL}/a1", headers=headers).json()["incidentId"] == target
    assert client.get(f"{INCIDENT_URL}/{target}", headers=headers).json()["severity"] == "low"


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"alertIds": ["a1", "zz"], "incidentId": "200"}, 404),
        ({"alertIds": ["a1"], "incidentId": "999"}, 404),
        ({"alertIds": []}, 400),
        ({"alertIds": ["a1"], "newCorrelationReasons": "sameVibe"}, 400),
        ({"alertIds": ["a1"], "incident": "200"}, 400),
        (None, 400),
    ],
)
def test_move_alerts_errors(client, seeded, headers, body, status) -> None:
    response = client.post(f"{ALERT_URL}/moveAlerts", json=body, headers=headers)
    assert response.status_code == status, response.text
    assert client.get(f"{ALERT_URL}/a1", headers=headers).json()["incidentId"] == "100"


@pytest.mark.parametrize(
    ("url", "body", "where"),
    [
        (f"{ALERT_URL}/moveAlerts", {"alertIds": [None]}, "alertIds[0]"),
        (f"{ALERT_URL}/moveAlerts", {"alertIds": ["a1", ""]}, "alertIds[1]"),
        (f"{INCIDENT_URL}/mergeIncidents", {"incidentIds": [None, "200"]}, "incidentIds[0]"),
    ],
)
def test_null_or_empty_ids_are_named_not_looked_up(client, seeded, headers, url, body, where):
    response = client.post(url, json=body, headers=headers)
    assert response.status_code == 400, response.text
    message = response.json()["error"]["message"]
    assert message.startswith(f"{where}: expected an "), message
    assert "None" not in message


def test_a_mistyped_id_is_one_problem(client, seeded, headers) -> None:
    response = client.post(f"{ALERT_URL}/moveAlerts", json={"alertIds": [1]}, headers=headers)
    assert response.status_code == 400, response.text
    message = response.json()["error"]["message"]
    assert "alertIds[0]" in message
    assert "required" not in message  # the list is there: one of its items is wrong


def test_merge_incidents_into_the_oldest(client, seeded, headers) -> None:
    body = {
        "incidentIds": ["100", "200"],
        "incidentComment": "one attack",
        "mergeReasons": "sameCampaign, sameActor",
    }
    response = client.post(f"{INCIDENT_URL}/mergeIncidents", json=body, headers=headers)
    assert response.status_code == 200, response.text
    assert response.json() == {
        "@odata.context": f"{ROOT}/$metadata#microsoft.graph.security.mergeResponse",
        "targetIncidentId": "200",
    }
    merged = client.get(f"{INCIDENT_URL}/100", headers=headers).json()
    assert (merged["status"], merged["redirectIncidentId"]) == ("redirected", "200")
    target = client.get(f"{INCIDENT_URL}/200", headers=headers).json()
    assert target["severity"] == "high"
    assert target["customTags"] == ["b", "a"]
    assert target["comments"][-1]["comment"] == "one attack"
    for alert_id in ("a1", "a2", "b1"):
        moved = client.get(f"{ALERT_URL}/{alert_id}", headers=headers).json()
        assert moved["incidentId"] == "200"
        if alert_id != "b1":
            assert moved["incidentWebUrl"].startswith(
                "https://security.microsoft.com/incidents/200?"
            )
    again = client.patch(f"{INCIDENT_URL}/100", json={"status": "active"}, headers=headers)
    assert again.status_code == 400
    assert "merged into incident '200'" in again.json()["error"]["message"]
    twice = client.post(
        f"{INCIDENT_URL}/mergeIncidents", json={"incidentIds": ["100", "300"]}, headers=headers
    )
    assert twice.status_code == 400


@pytest.mark.parametrize(
    ("ids", "status"), [(["100"], 400), (["100", "nope"], 404), (["100", "100"], 400)]
)
def test_merge_incidents_errors(client, seeded, headers, ids, status) -> None:
    response = client.post(
        f"{INCIDENT_URL}/mergeIncidents", json={"incidentIds": ids}, headers=headers
    )
    assert response.status_code == status, response.text


def test_actions_are_tenant_scoped(client, seeded, app) -> None:
    other = {"Authorization": f"Bearer {mint(app, TENANT_B)}"}
    response = client.post(
        f"{ALERT_URL}/moveAlerts", json={"alertIds": ["a1"], "incidentId": "100"}, headers=other
    )
    assert response.status_code == 404
    link = client.post(ALERT_URL, json=manual_alert(linkToIncident=300), headers=other)
    assert link.status_code == 404


def test_manual_alerts_and_actions_are_beta_only(client, seeded, headers) -> None:
    v1 = "/v1.0/security"
    # v1.0's model has no manualAlert type: a 400 pointing at /beta (test_paths_and_versions)
    assert client.post(f"{v1}/alerts_v2", json=manual_alert(), headers=headers).status_code == 400
    move = {"alertIds": ["a1"], "incidentId": "200"}
    assert client.post(f"{v1}/alerts_v2/moveAlerts", json=move, headers=headers).status_code == 404
    merge = {"incidentIds": ["100", "200"]}
    response = client.post(f"{v1}/incidents/mergeIncidents", json=merge, headers=headers)
    assert response.status_code == 404
    assert client.get(f"{ALERT_URL}/a1", headers=headers).json()["incidentId"] == "100"
    comment = client.post(f"{v1}/alerts_v2/a1/comments", json={"comment": "v1"}, headers=headers)
    assert comment.status_code == 200
    assert comment.json()["@odata.context"] == (
        "http://testserver/v1.0/$metadata#security/alerts_v2('a1')/comments"
    )
