"""Every error path leaves as Graph's envelope, with the request ids (SQLite and PostgreSQL)."""

from __future__ import annotations

import pytest

from alertgraph.http import reads as api
from alertgraph.http.call import Reply


def assert_envelope(response, status: int, code: str | None = None) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    error = response.json()["error"]
    assert set(error) >= {"code", "message", "innerError"}
    if code is not None:
        assert error["code"] == code
    inner = error["innerError"]
    assert inner["request-id"] == response.headers["request-id"]
    assert inner["client-request-id"] == response.headers["client-request-id"]
    assert len(inner["date"]) == 19  # seconds precision, no zone, as Graph sends it
    return error


def test_unknown_route_is_404(client, headers) -> None:
    error = assert_envelope(client.get("/beta/security/nothing", headers=headers), 404)
    assert "nothing" in error["message"]
    assert_envelope(client.get("/favicon.ico"), 404)


def test_wrong_method_is_405_with_allow(client, headers) -> None:
    response = client.delete("/beta/security/alerts_v2/x", headers=headers)
    assert_envelope(response, 405)
    assert "PATCH" in response.headers["allow"]


@pytest.mark.parametrize("method", ["TRACE", "CONNECT", "PROPFIND"])
def test_a_method_graph_does_not_serve_is_a_graph_405(client, headers, method) -> None:
    response = client.request(method, "/beta/security/alerts_v2", headers=headers)
    error = assert_envelope(response, 405)
    assert method in error["message"]
    assert response.headers["allow"] == "GET, POST"


@pytest.mark.parametrize(
    ("query", "position"),
    [
        ("$orderby=null", 0),
        ("$orderby=now()", 0),
        ("$orderby=title,null desc", 6),
        ("$orderby=1 add 2", 2),  # an operation is placed at its operator
    ],
)
def test_ordering_by_a_constant_is_refused(client, headers, query, position) -> None:
    # a constant orders nothing, and now() would move the keyset position between pages
    response = client.get(f"/beta/security/alerts_v2?{query}&$top=2", headers=headers)
    error = assert_envelope(response, 400)
    assert "the same for every item" in error["message"]
    assert f"position {position}" in error["message"]
    expanded = client.get(
        f"/beta/security/incidents?$expand=alerts({query.replace('&', ';')})", headers=headers
    )
    assert_envelope(expanded, 400)


@pytest.mark.parametrize(
    "expression",
    [
        "createdDateTime add duration'P99999999D' gt now()",
        "-duration'P99999999D' lt duration'P1D'",
        "now() sub createdDateTime gt duration'PT99999999999999999999S'",
    ],
)
def test_a_duration_beyond_int64_ticks_is_a_400(client, headers, expression) -> None:
    response = client.get(
        "/beta/security/alerts_v2", params={"$filter": expression}, headers=headers
    )
    error = assert_envelope(response, 400)
    assert "longer than a duration can be: at most P10675199D" in error["message"]
    counted = client.get(
        "/beta/security/alerts_v2/$count", params={"$filter": expression}, headers=headers
    )
    assert_envelope(counted, 400)


def test_missing_token_is_401_with_challenge(client) -> None:
    response = client.get("/beta/security/alerts_v2")
    assert_envelope(response, 401, "InvalidAuthenticationToken")
    assert response.headers["www-authenticate"].startswith("Bearer")


def test_client_request_id_is_echoed(client, headers) -> None:
    response = client.get(
        "/beta/security/alerts_v2/none", headers={**headers, "client-request-id": "abc-123"}
    )
    assert response.headers["client-request-id"] == "abc-123"
    assert response.json()["error"]["innerError"]["client-request-id"] == "abc-123"


def test_unexpected_failure_is_500_without_traceback(client, headers, monkeypatch, caplog) -> None:
    def explode(call) -> Reply:
        raise RuntimeError("secret internal detail")

    monkeypatch.setitem(api.ROUTES, ("entity", "GET"), explode)
    with caplog.at_level("ERROR", logger="alertgraph"):
        response = client.get("/beta/security/alerts_v2/x", headers=headers)
    error = assert_envelope(response, 500, "generalException")
    assert "secret internal detail" not in response.text
    assert response.headers["request-id"] in error["message"]
    assert "secret internal detail" in caplog.text


@pytest.mark.parametrize(
    ("content_type", "body", "status"),
    [("text/plain", b"hello", 415), ("application/json", b"{not json", 400)],
)
def test_bad_bodies(client, headers, content_type, body, status) -> None:
    response = client.patch(
        "/beta/security/alerts_v2/x",
        headers={**headers, "Content-Type": content_type},
        content=body,
    )
    assert_envelope(response, status)


def test_oversized_body_is_413(client, headers, settings) -> None:
    big = b'{"assignedTo": "' + b"x" * (settings.max_body_bytes + 10) + b'"}'
    response = client.patch(
        "/beta/security/alerts_v2/x",
        headers={**headers, "Content-Type": "application/json"},
        content=big,
    )
    assert_envelope(response, 413)


def test_metadata_is_the_csdl(client) -> None:
    response = client.get("/beta/$metadata")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/xml")
    assert b'EntityType Name="alert"' in response.content


def test_a_token_sent_without_its_scheme_is_not_echoed(client, app) -> None:
    from tests.factories import mint

    token = mint(app)
    response = client.get("/beta/security/alerts_v2", headers={"Authorization": token})
    assert_envelope(response, 401, "InvalidAuthenticationToken")
    assert token[:20] not in response.text
    assert token[:20] not in response.headers["www-authenticate"]
    basic = client.get("/beta/security/alerts_v2", headers={"Authorization": "Basic abc"})
    assert "'Basic'" in basic.json()["error"]["message"]
