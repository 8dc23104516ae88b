"""Bad input to the admin API through HTTP: a 400 in Graph's envelope naming the problem, never a
500, and nothing changed."""

from __future__ import annotations

from typing import Any

from tests.api.conftest import TENANT_A, TENANT_B, alert, insert
from tests.emulator.conftest import Factory, admin_headers, bearer

ALERTS = "/beta/security/alerts_v2"


def _bad_request(response: Any, *needles: str) -> str:
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert error["code"] == "BadRequest"
    for needle in needles:
        assert needle in error["message"], error["message"]
    return str(error["message"])


def test_journal_after_and_top_out_of_range(serve: Factory) -> None:
    client, app = serve(journal=True)
    client.get(ALERTS, headers=bearer(app))
    admin = admin_headers(app)
    for after in ("-1", "9223372036854775808", "99999999999999999999999", "²", "1" * 5000):
        _bad_request(
            client.get(f"/_alertgraph/journal?after={after}", headers=admin),
            "'after' must be a whole number from 0 to 9223372036854775807",
        )
    largest = client.get("/_alertgraph/journal?after=9223372036854775807", headers=admin)
    assert largest.status_code == 200
    assert largest.json()["log"]["entries"] == []
    for top in ("1001", "-1", "x"):
        _bad_request(
            client.get(f"/_alertgraph/journal?top={top}", headers=admin),
            "'top' must be a whole number from 0 to 1000",
        )
    most = client.get("/_alertgraph/journal?top=1000", headers=admin)
    assert len(most.json()["log"]["entries"]) == 1
    _bad_request(
        client.get("/_alertgraph/journal?top=1&top=2000", headers=admin),
        "'top' is given 2 times",
    )


def test_tenant_parameter_must_be_one_guid(serve: Factory) -> None:
    client, app = serve(journal=True)
    insert(app.state.store, "alerts_v2", [alert("a1")])
    insert(app.state.store, "alerts_v2", [alert("b1")], tenant=TENANT_B)
    wide = admin_headers(app, server_wide=True)
    routes = [
        ("POST", "/_alertgraph/reset"),
        ("GET", "/_alertgraph/controls"),
        ("PATCH", "/_alertgraph/controls"),
        ("DELETE", "/_alertgraph/controls"),
        ("GET", "/_alertgraph/snapshots"),
        ("POST", "/_alertgraph/snapshots"),
        ("POST", "/_alertgraph/snapshots/s/restore"),
        ("DELETE", "/_alertgraph/snapshots/s"),
        ("GET", "/_alertgraph/journal"),
    ]
    for method, path in routes:
        for query in ("tenant=not-a-guid", "tenant=", f"tenant={TENANT_A}x"):
            _bad_request(
                client.request(method, f"{path}?{query}", headers=wide),
                "'tenant' must be a tenant id, a GUID",
            )
        _bad_request(
            client.request(method, f"{path}?tenant={TENANT_A}&tenant={TENANT_B}", headers=wide),
            "'tenant' is given 2 times",
        )
    # nothing was reset, and a GUID still works
    assert [item["id"] for item in client.get(ALERTS, headers=bearer(app)).json()["value"]] == [
        "a1"
    ]
    answer = client.post(f"/_alertgraph/reset?tenant={TENANT_B}", headers=wide)
    assert answer.status_code == 200
    assert answer.json()["tenant"] == TENANT_B


def test_unknown_body_members_are_refused_with_nothing_changed(serve: Factory) -> None:
    client, app = serve()
    insert(app.state.store, "alerts_v2", [alert("a1")])
    admin = admin_headers(app)
    _bad_request(
        client.post("/_alertgraph/reset", headers=admin, json={"demo": False, "x": 1}),
        'Unknown member "x"',
        'allowed: "demo"',
    )
    assert [item["id"] for item in client.get(ALERTS, headers=bearer(app)).json()["value"]] == [
        "a1"
    ]
    _bad_request(
        client.post("/_alertgraph/snapshots", headers=admin, json={"name": "s", "nmae": "t"}),
        'Unknown member "nmae"',
        'allowed: "name"',
    )
    assert client.get("/_alertgraph/snapshots", headers=admin).json()["value"] == []


def test_messages_show_json_values_not_python_ones(serve: Factory) -> None:
    client, app = serve()
    admin = admin_headers(app)
    cases = [
        ({"throttle": None}, "throttle null is not off, graph or N/S"),
        ({"throttle": True}, "throttle true is not"),
        ({"throttle": {"n": 1}}, 'throttle {"n":1} is not'),
        ({"faults": {"rate": None}}, "faults: rate=null is not"),
        ({"faults": {"status": True}}, "faults: status=true is not"),
        ({"faults": {"unknownEnums": None}}, "faults: unknownEnums=null is not"),
        ({"faults": {"path": ["x"]}}, 'faults: path=["x"] is not'),
        ({"faults": [1]}, "faults must be an object (or null for no faults), got [1]"),
        # a seed past 64 bits was stored and then failed to serialize: a 500
        ({"faults": {"rate": 0.1, "status": 503, "seed": "9" * 40}}, "of at most 64 bits"),
    ]
    for body, needle in cases:
        message = _bad_request(client.patch("/_alertgraph/controls", headers=admin, json=body))
        assert needle in message
        assert "None" not in message
        assert "True" not in message
    _bad_request(
        client.post("/_alertgraph/reset", headers=admin, json={"demo": None}),
        "'demo' must be true or false, got null",
    )
    assert client.get("/_alertgraph/controls", headers=admin).json()["throttle"] == "off"


def test_a_snapshot_reports_one_creation_time(serve: Factory) -> None:
    client, app = serve()
    admin = admin_headers(app)
    saved = client.post("/_alertgraph/snapshots", headers=admin, json={"name": "s"}).json()
    listed = client.get("/_alertgraph/snapshots", headers=admin).json()["value"]
    restored = client.post("/_alertgraph/snapshots/s/restore", headers=admin).json()
    assert saved["createdAt"] == listed[0]["createdAt"] == restored["createdAt"]
    assert saved == restored


def test_a_token_for_the_wrong_audience_is_told_which_it_has(serve: Factory) -> None:
    client, app = serve()
    refused = client.get("/_alertgraph/controls", headers=bearer(app))
    assert refused.status_code == 401
    error = refused.json()["error"]
    assert error["code"] == "InvalidAuthenticationToken"
    assert error["message"].startswith(
        "Access token audience is 'https://graph.microsoft.com'; this API takes only tokens for "
        "api://alertgraph-admin."
    )
    assert "alertgraph token --admin" in error["message"]
    # and the other way round
    graph = client.get(ALERTS, headers=admin_headers(app))
    assert graph.status_code == 401
    message = graph.json()["error"]["message"]
    assert message.startswith("Access token audience is 'api://alertgraph-admin';")
    assert "https://graph.microsoft.com" in message
