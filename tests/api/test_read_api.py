"""The three alert lists over HTTP: shape, paging, get by id, headers (SQLite and PostgreSQL)."""

from __future__ import annotations

from urllib.parse import urlsplit

from tests.factories import TENANT_B, alert, insert, mint

PIM_SCOPE = "$filter=scopeId eq '/' and scopeType eq 'DirectoryRole'"


def test_alerts_list_is_graph_json_newest_first(client, store, headers) -> None:
    insert(
        store,
        "alerts_v2",
        [
            alert("a", createdDateTime="2024-05-01T10:00:00Z"),
            alert("b", createdDateTime="2024-05-03T10:00:00.1234567Z"),
            alert("c", createdDateTime="2024-05-02T10:00:00+02:00"),
        ],
    )
    response = client.get("/beta/security/alerts_v2", headers=headers)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    assert response.headers["request-id"]
    body = response.json()
    assert body["@odata.context"] == "http://testserver/beta/$metadata#security/alerts_v2"
    assert [item["id"] for item in body["value"]] == ["b", "c", "a"]
    first = body["value"][0]
    assert first["@odata.type"] == "#microsoft.graph.security.alert"
    assert first["createdDateTime"] == "2024-05-03T10:00:00.1234567Z"
    assert body["value"][1]["createdDateTime"] == "2024-05-02T08:00:00Z"
    assert first["severity"] == "medium"
    assert "@odata.nextLink" not in body


def test_v1_serves_alerts_too(client, store, headers) -> None:
    insert(store, "alerts_v2", [alert("a")])
    body = client.get("/v1.0/security/alerts_v2/a", headers=headers).json()
    assert body["id"] == "a"
    assert body["@odata.context"] == "http://testserver/v1.0/$metadata#security/alerts_v2/$entity"


def test_paging_follows_absolute_next_links_to_every_row_once(client, store, headers) -> None:
    # 230 alerts with many ties on createdDateTime: the id breaks them.
    insert(
        store,
        "alerts_v2",
        [alert(f"x{n:03d}", createdDateTime=f"2024-05-01T10:{n % 7:02d}:00Z") for n in range(230)],
    )
    seen: list[str] = []
    url = "http://testserver/beta/security/alerts_v2"
    pages = 0
    while url:
        response = client.get(url, headers={**headers, "Accept": "*/*"})
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["value"], "a page with a nextLink must not be empty"
        seen.extend(item["id"] for item in body["value"])
        url = body.get("@odata.nextLink")
        if url:
            assert urlsplit(url).netloc == "testserver"
        pages += 1
    assert pages >= 3
    assert len(seen) == 230
    assert len(set(seen)) == 230


def test_get_unknown_id_is_404_envelope(client, headers) -> None:
    response = client.get("/beta/security/alerts_v2/nope", headers=headers)
    assert response.status_code == 404
    error = response.json()["error"]
    assert error["code"] == "itemNotFound"
    assert "nope" in error["message"]
    assert error["innerError"]["request-id"] == response.headers["request-id"]


def test_other_tenant_sees_nothing(client, app, store, headers) -> None:
    insert(store, "alerts_v2", [alert("shared-id")])
    other = {"Authorization": f"Bearer {mint(app, TENANT_B)}"}
    assert client.get("/beta/security/alerts_v2", headers=other).json()["value"] == []
    assert client.get("/beta/security/alerts_v2/shared-id", headers=other).status_code == 404
    assert client.get("/beta/security/alerts_v2/shared-id", headers=headers).status_code == 200


def test_partner_alerts_list_and_get(client, store, headers) -> None:
    insert(
        store,
        "partner_alerts",
        [
            {
                "id": "p1",
                "alertType": "usageAnomalyDetection",
                "confidenceLevel": "high",
                "customerTenantId": "c1",
                "detectedDateTime": "2024-05-01T00:00:00Z",
                "displayName": "Anomaly",
                "severity": "high",
                "status": "active",
                "subscriptionId": "s1",
                "isTest": False,
            }
        ],
    )
    body = client.get("/beta/security/partner/securityAlerts", headers=headers).json()
    assert body["@odata.context"].endswith("$metadata#security/partner/securityAlerts")
    assert body["value"][0]["isTest"] is False
    one = client.get("/beta/security/partner/securityAlerts/p1", headers=headers).json()
    assert one["status"] == "active"
    assert one["activityLogs"] == []


def test_pim_alerts_require_the_scope_filter(client, store, headers) -> None:
    insert(
        store,
        "pim_alerts",
        [
            {
                "id": "DirectoryRole_t_StaleSignInAlert",
                "alertDefinitionId": "DirectoryRole_t_StaleSignInAlert",
                "incidentCount": 0,
                "isActive": True,
                "scopeId": "/",
                "scopeType": "DirectoryRole",
            }
        ],
    )
    base = "/beta/identityGovernance/roleManagementAlerts/alerts"
    missing = client.get(base, headers=headers)
    assert missing.status_code == 400
    assert "scopeId eq '/' and scopeType eq 'DirectoryRole'" in missing.json()["error"]["message"]
    listed = client.get(f"{base}?{PIM_SCOPE}", headers=headers)
    assert listed.status_code == 200, listed.text
    assert [a["id"] for a in listed.json()["value"]] == ["DirectoryRole_t_StaleSignInAlert"]
    one = client.get(f"{base}/DirectoryRole_t_StaleSignInAlert", headers=headers)
    assert one.status_code == 200


def test_count_segment_is_plain_text(client, store, headers) -> None:
    insert(store, "alerts_v2", [alert("a"), alert("b", severity="high")])
    response = client.get(
        "/beta/security/alerts_v2/$count?$filter=severity eq 'high'", headers=headers
    )
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    assert response.text == "1"


def _walk(client, headers, url: str) -> list[dict]:
    items: list[dict] = []
    while url:
        body = client.get(url, headers=headers).json()
        items += body["value"]
        url = body.get("@odata.nextLink")
    return items


def test_keyset_paging_crosses_null_sort_keys_in_both_directions(client, store, headers) -> None:
    records = [
        alert(f"n{n:03d}", createdDateTime=f"2024-05-01T10:{n % 50:02d}:00Z") for n in range(90)
    ]
    for n in range(90, 140):  # no createdDateTime: nulls sort last descending, first ascending
        records.append(alert(f"n{n:03d}", createdDateTime=None))
    insert(store, "alerts_v2", records)
    base = "http://testserver/beta/security/alerts_v2"
    newest = _walk(client, headers, base)
    assert len({a["id"] for a in newest}) == len(newest) == 140
    stamps = [a["createdDateTime"] for a in newest]
    assert stamps[90:] == [None] * 50
    assert None not in stamps[:90]
    assert stamps[:90] == sorted(stamps[:90], reverse=True)
    oldest = _walk(client, headers, f"{base}?$orderby=createdDateTime asc")
    assert len({a["id"] for a in oldest}) == len(oldest) == 140
    assert [a["createdDateTime"] for a in oldest][:50] == [None] * 50
    assert [a["id"] for a in oldest[:50]] == sorted(a["id"] for a in oldest[:50])
