"""JSON batching over HTTP on both databases: POST /{version}/$batch as Graph's json-batching
page describes it (20 requests at most, ids, relative urls, headers, bodies, dependsOn → 424)."""

from __future__ import annotations

import base64
from typing import Any

import pytest
from starlette.testclient import TestClient

from alertgraph.http.app import create_app
from tests.api.conftest import TENANT_A, TENANT_B, alert, insert, mint
from tests.api.test_workflow_alerts import incident

BATCH = "/beta/$batch"


@pytest.fixture
def data(store: Any) -> Any:
    insert(store, "alerts_v2", [alert("a1", incidentId="7"), alert("a2", incidentId="7")])
    insert(store, "incidents", [incident("7", recommendedActions="Isolate.")])
    insert(store, "alerts_v2", [alert("b-only")], tenant=TENANT_B)
    return store


def _by_id(response: Any) -> dict[str, dict[str, Any]]:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/json")
    return {item["id"]: item for item in response.json()["responses"]}


def test_items_answer_with_their_own_status_headers_and_body(client, data, headers) -> None:
    response = client.post(
        BATCH,
        headers=headers,
        json={
            "requests": [
                {"id": "1", "method": "GET", "url": "/security/alerts_v2?$select=id&$top=5"},
                {"id": "2", "method": "GET", "url": "security/incidents/7"},
                {"id": "3", "method": "GET", "url": "/security/alerts_v2/nope"},
                {"id": "4", "method": "GET", "url": "/security/alerts_v2/$count"},
                {
                    "id": "5",
                    "method": "PATCH",
                    "url": "/security/alerts_v2/a1",
                    "headers": {"Content-Type": "application/json"},
                    "body": {"status": "inProgress"},
                },
                {"id": "6", "method": "DELETE", "url": "/security/alerts_v2/a1"},
            ]
        },
    )
    items = _by_id(response)
    assert set(items) == {"1", "2", "3", "4", "5", "6"}
    assert items["1"]["status"] == 200
    assert sorted(a["id"] for a in items["1"]["body"]["value"]) == ["a1", "a2"]
    assert items["1"]["body"]["@odata.context"].startswith("http://testserver/beta/$metadata#")
    assert items["1"]["headers"]["content-type"].startswith("application/json")
    assert items["2"]["body"]["id"] == "7"
    assert items["3"]["status"] == 404
    assert items["3"]["body"]["error"]["code"] == "itemNotFound"
    assert items["4"]["status"] == 200
    assert items["4"]["headers"]["content-type"].startswith("text/plain")
    assert base64.b64decode(items["4"]["body"]) == b"2"
    assert items["5"]["status"] == 200
    assert items["5"]["body"]["status"] == "inProgress"
    assert items["6"]["status"] == 405
    # the write happened, exactly as the same PATCH sent alone
    alone = client.get("/beta/security/alerts_v2/a1", headers=headers).json()
    assert alone["status"] == "inProgress"


def test_depends_on_failure_gives_424_down_the_chain(client, data, headers) -> None:
    response = client.post(
        BATCH,
        headers=headers,
        json={
            "requests": [
                {"id": "bad", "method": "GET", "url": "/security/alerts_v2/nope"},
                {"id": "next", "method": "GET", "url": "/security/incidents", "dependsOn": ["BAD"]},
                {
                    "id": "last",
                    "method": "GET",
                    "url": "/security/incidents",
                    "dependsOn": ["next"],
                },
                {"id": "ok", "method": "GET", "url": "/security/incidents"},
                {
                    "id": "after-ok",
                    "method": "GET",
                    "url": "/security/alerts_v2",
                    "dependsOn": ["ok"],
                },
            ]
        },
    )
    items = _by_id(response)
    assert items["bad"]["status"] == 404
    for ident in ("next", "last"):
        assert items[ident]["status"] == 424
        assert items[ident]["body"]["error"]["code"] == "FailedDependency"
    assert "bad" in items["next"]["body"]["error"]["message"]
    assert items["ok"]["status"] == 200
    assert items["after-ok"]["status"] == 200


def test_dependencies_run_first(client, data, headers) -> None:
    """A PATCH and the GET that depends on it: the GET sees the write whatever the listing order."""
    response = client.post(
        BATCH,
        headers=headers,
        json={
            "requests": [
                {
                    "id": "read",
                    "method": "GET",
                    "url": "/security/alerts_v2/a2",
                    "dependsOn": ["w"],
                },
                {
                    "id": "w",
                    "method": "PATCH",
                    "url": "/security/alerts_v2/a2",
                    "headers": {"content-type": "application/json"},
                    "body": {"assignedTo": "batch@contoso.com"},
                },
            ]
        },
    )
    items = _by_id(response)
    assert items["w"]["status"] == 200
    assert items["read"]["body"]["assignedTo"] == "batch@contoso.com"


def test_twenty_requests_at_most(client, data, headers) -> None:
    def batch(n: int) -> dict[str, Any]:
        return {
            "requests": [
                {"id": str(i), "method": "GET", "url": "/security/alerts_v2/$count"}
                for i in range(n)
            ]
        }

    assert len(_by_id(client.post(BATCH, headers=headers, json=batch(20)))) == 20
    refused = client.post(BATCH, headers=headers, json=batch(21))
    assert refused.status_code == 400
    assert refused.json()["error"]["code"] == "BadRequest"
    assert "21 requests" in refused.json()["error"]["message"]
    assert "at most 20" in refused.json()["error"]["message"]


@pytest.mark.parametrize(
    ("requests", "says"),
    [
        (
            [{"id": "1", "method": "GET", "url": "/x"}, {"id": "1", "method": "GET", "url": "/y"}],
            "twice",
        ),
        (
            [{"id": "a", "method": "GET", "url": "/x"}, {"id": "A", "method": "GET", "url": "/y"}],
            "twice",
        ),
        ([{"method": "GET", "url": "/x"}], "'id' is required"),
        ([{"id": "1", "method": "FETCH", "url": "/x"}], "'method'"),
        ([{"id": "1", "method": "GET"}], "'url' is required"),
        (
            [{"id": "1", "method": "GET", "url": "http://testserver/beta/security/alerts_v2"}],
            "absolute",
        ),
        ([{"id": "1", "method": "GET", "url": "/x", "dependsOn": ["2"]}], "dependsOn"),
        (
            [
                {"id": "1", "method": "GET", "url": "/x", "dependsOn": ["2"]},
                {"id": "2", "method": "GET", "url": "/x", "dependsOn": ["1"]},
            ],
            "cycle",
        ),
        ([{"id": "1", "method": "POST", "url": "/x", "body": {"a": 1}}], "Content-Type"),
        ([], "empty"),
        ("no", '"requests" array'),
    ],
)
def test_malformed_batches_are_400(client, data, headers, requests, says) -> None:
    response = client.post(BATCH, headers=headers, json={"requests": requests})
    assert response.status_code == 400, response.text
    assert response.json()["error"]["code"] == "BadRequest"
    assert says in response.json()["error"]["message"]


def test_each_item_is_authorized_with_the_callers_token(client, app, data) -> None:
    reader = mint(
        app, app_id="11111111-0000-4000-8000-000000000001", roles=["SecurityAlert.Read.All"]
    )
    response = client.post(
        BATCH,
        headers={"Authorization": f"Bearer {reader}"},
        json={
            "requests": [
                {"id": "alerts", "method": "GET", "url": "/security/alerts_v2"},
                {"id": "incidents", "method": "GET", "url": "/security/incidents"},
                {
                    "id": "write",
                    "method": "PATCH",
                    "url": "/security/alerts_v2/a1",
                    # a token in the item's headers is not used: the caller's is
                    "headers": {
                        "Content-Type": "application/json",
                        "Authorization": f"Bearer {mint(app)}",
                    },
                    "body": {"status": "resolved"},
                },
                {"id": "other-tenant", "method": "GET", "url": "/security/alerts_v2/b-only"},
            ]
        },
    )
    items = _by_id(response)
    assert items["alerts"]["status"] == 200
    assert items["incidents"]["status"] == 403
    assert items["write"]["status"] == 403
    assert "SecurityAlert.ReadWrite.All" in items["write"]["body"]["error"]["message"]
    assert items["other-tenant"]["status"] == 404
    assert client.post(BATCH, json={"requests": []}).status_code == 401


def test_nested_batch_and_method(client, data, headers) -> None:
    items = _by_id(
        client.post(
            "/BETA/$Batch",
            headers=headers,
            json={
                "requests": [
                    {
                        "id": "inner",
                        "method": "POST",
                        "url": "/$batch",
                        "headers": {"Content-Type": "application/json"},
                        "body": {"requests": [{"id": "x", "method": "GET", "url": "/$metadata"}]},
                    },
                    {"id": "meta", "method": "GET", "url": "/$metadata"},
                ]
            },
        )
    )
    assert items["inner"]["status"] == 400
    assert "Nested" in items["inner"]["body"]["error"]["message"]
    assert items["meta"]["status"] == 200
    assert base64.b64decode(items["meta"]["body"]).startswith(b"<?xml")
    wrong = client.get(BATCH, headers=headers)
    assert wrong.status_code == 405
    assert wrong.headers["allow"] == "POST"


def test_v1_batch_answers_in_v1_shape(client, data, headers) -> None:
    items = _by_id(
        client.post(
            "/v1.0/$batch",
            headers=headers,
            json={"requests": [{"id": "1", "method": "GET", "url": "/security/incidents/7"}]},
        )
    )
    body = items["1"]["body"]
    assert body["@odata.context"].startswith("http://testserver/v1.0/$metadata#")
    assert body["id"] == "7"
    assert "recommendedActions" not in body


def test_middleware_sees_every_sub_request(settings, data) -> None:
    """Items go through the whole application, so middleware (throttling, journals...) counts
    each of them as it counts a request sent alone."""
    app = create_app(settings, store=data)
    seen: list[tuple[str, str]] = []

    class Recorder:
        def __init__(self, inner: Any) -> None:
            self.inner = inner

        async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
            if scope["type"] == "http":
                seen.append((scope["method"], scope["path"]))
            await self.inner(scope, receive, send)

    app.add_middleware(Recorder)
    headers = {"Authorization": f"Bearer {mint(app, TENANT_A)}"}
    with TestClient(app) as test_client:
        response = test_client.post(
            BATCH,
            headers=headers,
            json={
                "requests": [
                    {"id": "1", "method": "GET", "url": "/security/alerts_v2"},
                    {"id": "2", "method": "GET", "url": "/security/incidents/7?$select=id"},
                ]
            },
        )
    assert response.status_code == 200
    assert seen == [
        ("POST", "/beta/$batch"),
        ("GET", "/beta/security/alerts_v2"),
        ("GET", "/beta/security/incidents/7"),
    ]
