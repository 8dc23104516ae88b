"""Security alert and incident writes over HTTP: PATCH, comments, audit (SQLite and PostgreSQL)."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from alertgraph.settings import Settings
from alertgraph.store.database import audit_table
from tests.factories import TENANT_B, alert, app_client, built_app, incident, insert, mint

ALERT_URL = "/beta/security/alerts_v2"
INCIDENT_URL = "/beta/security/incidents"
ROOT = "http://testserver/beta"


@pytest.fixture
def seeded(store):
    insert(
        store,
        "incidents",
        [incident("100"), incident("200", createdDateTime="2024-04-01T00:00:00Z")],
    )
    insert(
        store,
        "alerts_v2",
        [
            alert("a1", incidentId="100", severity="low"),
            alert("a2", incidentId="100", severity="medium"),
            alert("b1", incidentId="200", severity="high"),
        ],
    )
    return store


def audit_rows(store, entity_id=None):
    query = select(audit_table)
    if entity_id is not None:
        query = query.where(audit_table.c.entity_id == entity_id)
    with store.engine.connect() as conn:
        return [dict(row) for row in conn.execute(query.order_by(audit_table.c.at)).mappings()]


def test_patch_alert_answers_200_with_the_updated_alert(client, seeded, headers) -> None:
    body = {
        "status": "resolved",
        "classification": "truePositive",
        "determination": "malware",
        "assignedTo": "o'brien@contoso.com",
    }
    response = client.patch(f"{ALERT_URL}/a1", json=body, headers=headers)
    assert response.status_code == 200, response.text
    updated = response.json()
    assert updated["@odata.context"] == f"{ROOT}/$metadata#security/alerts_v2/$entity"
    assert {key: updated[key] for key in body} == body
    assert updated["lastUpdateDateTime"] > "2024-05-01T12:00:00Z"
    assert updated["resolvedDateTime"] == updated["lastUpdateDateTime"]
    again = client.get(f"{ALERT_URL}/a1", headers=headers).json()
    assert again["status"] == "resolved"

    reopened = client.patch(f"{ALERT_URL}/a1", json={"status": "inProgress"}, headers=headers)
    assert reopened.status_code == 200
    assert reopened.json()["resolvedDateTime"] is None


@pytest.mark.parametrize(
    ("url", "raw"),
    [
        ("/a1", b'{"status": "resolved", "classification": "falsePositive", "status": "new"}'),
        ("/a1/comments", b'{"comment": "one", "comment": "two"}'),
    ],
)
def test_a_member_given_twice_is_refused_and_nothing_changes(
    client, seeded, headers, url, raw
) -> None:
    before = client.get(f"{ALERT_URL}/a1", headers=headers).json()
    sent = {**headers, "Content-Type": "application/json"}
    method = "PATCH" if url == "/a1" else "POST"
    response = client.request(method, f"{ALERT_URL}{url}", content=raw, headers=sent)
    assert response.status_code == 400, response.text
    message = response.json()["error"]["message"]
    assert "gives the member 'status' twice" in message or "member 'comment' twice" in message
    assert client.get(f"{ALERT_URL}/a1", headers=headers).json() == before


def test_patch_writes_an_audit_record_with_before_and_after(client, seeded, headers) -> None:
    response = client.patch(
        f"{ALERT_URL}/a1", json={"assignedTo": "me@contoso.com"}, headers=headers
    )
    assert response.status_code == 200
    rows = [row for row in audit_rows(seeded, "a1") if row["action"] == "update"]
    assert len(rows) == 1
    row = rows[0]
    assert row["actor"] == "analyst@contoso.com"
    assert row["entity_set"] == "alerts_v2"
    assert row["request_id"] == response.headers["request-id"]
    assert row["changes"]["fields"]["assignedTo"] == {"before": None, "after": "me@contoso.com"}
    assert "lastUpdateDateTime" in row["changes"]["fields"]
    assert "status" not in row["changes"]["fields"]


def test_patch_problems_come_in_one_400_with_the_updatable_list(client, seeded, headers) -> None:
    body = {
        "severty": "high",
        "title": "renamed",
        "status": 7,
        "classification": "benignPositive",
        "determination": "maybe",
    }
    response = client.patch(f"{ALERT_URL}/a1", json=body, headers=headers)
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "BadRequest"
    message = error["message"]
    assert "5 problems" in message
    assert "Did you mean 'severity'?" in message
    assert "title: can't be updated" in message
    assert "status: expected a member name" in message
    assert "retired" in message
    assert "informationalExpectedActivity" in message
    assert "'maybe' is not a member of microsoft.graph.security.alertDetermination" in message
    assert message.endswith(
        "Updatable properties: assignedTo, classification, determination, status."
    )
    assert {detail["target"] for detail in error["details"]} == set(body)
    assert client.get(f"{ALERT_URL}/a1", headers=headers).json()["title"] == "Alert a1"


@pytest.mark.parametrize(
    "body",
    [None, [], {}, {"status": None}, {"@odata.type": "#microsoft.graph.security.incident"}],
)
def test_patch_without_a_usable_body_is_400(client, seeded, headers, body) -> None:
    if body is None:
        response = client.patch(f"{ALERT_URL}/a1", headers=headers)
    else:
        response = client.patch(f"{ALERT_URL}/a1", json=body, headers=headers)
    assert response.status_code == 400, response.text
    assert response.json()["error"]["code"] == "BadRequest"


def test_type_annotation_of_the_entity_is_accepted(client, seeded, headers) -> None:
    body = {"@odata.type": "#microsoft.graph.security.alert", "status": "inProgress"}
    assert client.patch(f"{ALERT_URL}/a1", json=body, headers=headers).status_code == 200


def test_unknown_and_foreign_ids_are_404(client, seeded, app, headers) -> None:
    response = client.patch(f"{ALERT_URL}/nope", json={"status": "new"}, headers=headers)
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "itemNotFound"
    other = {"Authorization": f"Bearer {mint(app, TENANT_B)}"}
    assert client.patch(f"{ALERT_URL}/a1", json={"status": "new"}, headers=other).status_code == 404
    comment = {"comment": "x"}
    assert client.post(f"{ALERT_URL}/a1/comments", json=comment, headers=other).status_code == 404
    assert (
        client.patch(f"{INCIDENT_URL}/100", json={"status": "active"}, headers=other).status_code
        == 404
    )


def test_read_only_token_is_403(client, seeded, app) -> None:
    token = mint(
        app,
        scopes=["SecurityAlert.Read.All"],
        user="reader@contoso.com",
        directory_roles=["Security Reader"],
    )
    response = client.patch(
        f"{ALERT_URL}/a1", json={"status": "new"}, headers={"Authorization": f"Bearer {token}"}
    )
    assert response.status_code == 403
    assert audit_rows(seeded) == []


def test_evolvable_members_need_the_prefer_header(client, seeded, headers) -> None:
    body = {"status": "awaitingAction"}
    response = client.patch(f"{INCIDENT_URL}/100", json=body, headers=headers)
    assert response.status_code == 400
    assert "Prefer: include-unknown-enum-members" in response.json()["error"]["message"]
    prefer = {**headers, "Prefer": "include-unknown-enum-members"}
    response = client.patch(f"{INCIDENT_URL}/100", json=body, headers=prefer)
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "awaitingAction"
    assert (
        client.get(f"{INCIDENT_URL}/100", headers=headers).json()["status"] == "unknownFutureValue"
    )
    sentinel = client.patch(
        f"{ALERT_URL}/a1", json={"status": "unknownFutureValue"}, headers=headers
    )
    assert sentinel.status_code == 400


def test_comments_accept_the_object_and_the_sdk_array(client, seeded, headers) -> None:
    first = client.post(
        f"{ALERT_URL}/a1/comments",
        json={"@odata.type": "microsoft.graph.security.alertComment", "comment": "first"},
        headers=headers,
    )
    assert first.status_code == 200, first.text
    body = first.json()
    assert body["@odata.context"] == f"{ROOT}/$metadata#security/alerts_v2('a1')/comments"
    assert [item["comment"] for item in body["value"]] == ["first"]
    assert body["value"][0]["createdByDisplayName"] == "analyst@contoso.com"
    assert body["value"][0]["createdDateTime"].endswith("Z")

    second = client.post(
        f"{ALERT_URL}/a1/comments",
        json=[
            {
                "comment": "Triage \u2013 O'Brien",
                "@odata.type": "microsoft.graph.security.alertComment",
            }
        ],
        headers=headers,
    )
    assert second.status_code == 200
    assert [item["comment"] for item in second.json()["value"]] == [
        "first",
        "Triage \u2013 O'Brien",
    ]
    alert_now = client.get(f"{ALERT_URL}/a1", headers=headers).json()
    assert len(alert_now["comments"]) == 2
    listed = client.get(f"{ALERT_URL}/a1/comments", headers=headers).json()
    assert listed["value"] == second.json()["value"]


def test_incident_comments_have_their_own_context(client, seeded, headers) -> None:
    response = client.post(f"{INCIDENT_URL}/100/comments", json={"comment": "hi"}, headers=headers)
    assert response.status_code == 200
    body = response.json()
    assert body["@odata.context"] == f"{ROOT}/$metadata#security/incidents('100')/comments"
    assert client.get(f"{INCIDENT_URL}/100", headers=headers).json()["lastModifiedBy"] == (
        "analyst@contoso.com"
    )


@pytest.mark.parametrize(
    "body",
    [
        [],
        {"text": "x"},
        {"comment": ""},
        {"comment": "x", "createdDateTime": "2024-01-01T00:00:00Z"},
    ],
)
def test_bad_comment_bodies_are_400(client, seeded, headers, body) -> None:
    response = client.post(f"{ALERT_URL}/a1/comments", json=body, headers=headers)
    assert response.status_code == 400, response.text


def test_strict_graph_rejects_the_array_body_as_graph_does(db_url) -> None:
    with built_app(Settings(database_url=db_url, strict_graph=True)) as app:
        insert(app.state.store, "alerts_v2", [alert("a1")])
        with app_client(app) as client:
            headers = {"Authorization": f"Bearer {mint(app)}"}
            response = client.post(
                f"{ALERT_URL}/a1/comments", json=[{"comment": "x"}], headers=headers
            )
            assert response.status_code == 400
            assert "Empty Payload" in response.json()["error"]["message"]
            ok = client.post(f"{ALERT_URL}/a1/comments", json={"comment": "x"}, headers=headers)
            assert ok.status_code == 200


def test_incident_patch_reaches_its_alerts(client, seeded, headers) -> None:
    body = {
        "status": "resolved",
        "classification": "falsePositive",
        "determination": "notMalicious",
        "assignedTo": "lead@contoso.com",
        "customTags": ["triaged", "q2"],
    }
    response = client.patch(f"{INCIDENT_URL}/100", json=body, headers=headers)
    assert response.status_code == 200, response.text
    updated = response.json()
    assert updated["@odata.type"] == "#microsoft.graph.security.incident"
    assert {key: updated[key] for key in body} == body
    assert updated["lastModifiedBy"] == "analyst@contoso.com"
    for alert_id in ("a1", "a2"):
        one = client.get(f"{ALERT_URL}/{alert_id}", headers=headers).json()
        assert one["status"] == "resolved"
        assert one["resolvedDateTime"] is not None
        assert one["classification"] == "falsePositive"
        assert one["assignedTo"] == "lead@contoso.com"
    untouched = client.get(f"{ALERT_URL}/b1", headers=headers).json()
    assert untouched["status"] == "new"


def test_incident_follows_its_alerts(client, seeded, headers) -> None:
    client.patch(f"{ALERT_URL}/a1", json={"status": "resolved"}, headers=headers)
    assert client.get(f"{INCIDENT_URL}/100", headers=headers).json()["status"] == "active"
    client.patch(f"{ALERT_URL}/a2", json={"status": "resolved"}, headers=headers)
    resolved = client.get(f"{INCIDENT_URL}/100", headers=headers).json()
    assert resolved["status"] == "resolved"
    assert resolved["severity"] == "medium"  # the highest of low and medium
    client.patch(f"{ALERT_URL}/a1", json={"status": "inProgress"}, headers=headers)
    reopened = client.get(f"{INCIDENT_URL}/100", headers=headers).json()
    assert reopened["status"] == "active"
    assert reopened["lastUpdateDateTime"] > "2024-05-01T12:00:00Z"


def test_redirected_is_not_writable(client, seeded, headers) -> None:
    response = client.patch(f"{INCIDENT_URL}/100", json={"status": "redirected"}, headers=headers)
    assert response.status_code == 400
    assert "mergeIncidents" in response.json()["error"]["message"]


def test_audit_and_update_commit_together(client, seeded, headers, monkeypatch) -> None:
    from alertgraph.store import transaction as actions

    real = actions._insert_audit

    def insert_then_fail(conn, record) -> None:
        real(conn, record)
        raise RuntimeError("disk full")

    monkeypatch.setattr(actions, "_insert_audit", insert_then_fail)
    response = client.patch(f"{ALERT_URL}/a1", json={"status": "resolved"}, headers=headers)
    assert response.status_code == 500
    monkeypatch.undo()
    assert client.get(f"{ALERT_URL}/a1", headers=headers).json()["status"] == "new"
    assert client.get(f"{INCIDENT_URL}/100", headers=headers).json()["lastUpdateDateTime"] == (
        "2024-05-01T12:00:00Z"
    )
    assert audit_rows(seeded) == []
