"""The admin API and tenant snapshots through HTTP: credentials, scope, audit, restore, journal."""

from __future__ import annotations

from sqlalchemy import select

from alertgraph.store.database import TENANT, audit_table
from tests.api.conftest import TENANT_A, TENANT_B, alert, insert
from tests.emulator.conftest import Factory, admin_headers, bearer

ALERTS = "/beta/security/alerts_v2"


def _ids(client, headers):
    return sorted(item["id"] for item in client.get(ALERTS, headers=headers).json()["value"])


def test_admin_api_takes_admin_tokens_only(serve: Factory) -> None:
    client, app = serve()
    graph_token = bearer(app)
    refused = client.get("/_alertgraph/controls", headers=graph_token)
    assert refused.status_code == 401
    assert "admin tokens" in refused.json()["error"]["message"]
    assert client.get("/_alertgraph/controls").status_code == 401
    # and an admin token is not a Graph token
    assert client.get(ALERTS, headers=admin_headers(app)).status_code == 401
    mine = client.get("/_alertgraph/controls", headers=admin_headers(app))
    assert mine.status_code == 200
    assert mine.json() == {"tenant": TENANT_A, "throttle": "off", "faults": None}


def test_admin_is_scoped_to_its_tenant_unless_server_wide(serve: Factory) -> None:
    client, app = serve()
    other = client.get(f"/_alertgraph/controls?tenant={TENANT_B}", headers=admin_headers(app))
    assert other.status_code == 403
    assert "scoped to tenant" in other.json()["error"]["message"]
    wide = admin_headers(app, server_wide=True)
    answer = client.get(f"/_alertgraph/controls?tenant={TENANT_B}", headers=wide)
    assert answer.status_code == 200
    assert answer.json()["tenant"] == TENANT_B


def test_admin_api_can_be_switched_off(serve: Factory) -> None:
    client, app = serve(admin_api=False)
    assert client.get("/_alertgraph/controls", headers=admin_headers(app)).status_code == 404


def test_snapshot_restore_through_the_admin_api(serve: Factory) -> None:
    client, app = serve()
    store = app.state.store
    insert(store, "alerts_v2", [alert("a1"), alert("a2")])
    insert(store, "alerts_v2", [alert("b1")], tenant=TENANT_B)
    admin, headers = admin_headers(app), bearer(app)
    saved = client.post("/_alertgraph/snapshots", headers=admin, json={"name": "clean"})
    assert saved.status_code == 201
    assert saved.json()["counts"]["alerts_v2"] == 2
    # the test changes things...
    client.patch(f"{ALERTS}/a1", headers=headers, json={"status": "resolved"})
    client.post(f"{ALERTS}/a2/comments", headers=headers, json=[{"comment": "x"}])
    insert(store, "alerts_v2", [alert("a3")])
    insert(store, "alerts_v2", [alert("b2")], tenant=TENANT_B)
    restored = client.post("/_alertgraph/snapshots/clean/restore", headers=admin)
    assert restored.status_code == 200
    assert _ids(client, headers) == ["a1", "a2"]
    assert client.get(f"{ALERTS}/a1", headers=headers).json()["status"] == "new"
    # the other tenant kept its own change
    assert _ids(client, bearer(app, TENANT_B)) == ["b1", "b2"]
    listed = client.get("/_alertgraph/snapshots", headers=admin).json()["value"]
    assert [item["name"] for item in listed] == ["clean"]
    # tenant B's admin does not see or restore tenant A's snapshot
    other_admin = admin_headers(app, TENANT_B)
    assert client.get("/_alertgraph/snapshots", headers=other_admin).json()["value"] == []
    missing = client.post("/_alertgraph/snapshots/clean/restore", headers=other_admin)
    assert missing.status_code == 404
    assert client.delete("/_alertgraph/snapshots/clean", headers=admin).status_code == 204
    assert client.get("/_alertgraph/snapshots", headers=admin).json()["value"] == []


def test_unknown_or_bad_snapshot_names(serve: Factory) -> None:
    client, app = serve()
    insert(app.state.store, "alerts_v2", [alert("a1")])
    admin = admin_headers(app)
    client.post("/_alertgraph/snapshots", headers=admin, json={"name": "one"})
    unknown = client.post("/_alertgraph/snapshots/two/restore", headers=admin)
    assert unknown.status_code == 404
    error = unknown.json()["error"]
    assert error["code"] == "itemNotFound"
    assert "No snapshot named 'two'" in error["message"]
    assert "its snapshots: one" in error["message"]
    bad = client.post("/_alertgraph/snapshots", headers=admin, json={"name": "../x"})
    assert bad.status_code == 400
    assert "not a valid snapshot name" in bad.json()["error"]["message"]
    assert client.delete("/_alertgraph/snapshots/two", headers=admin).status_code == 404
    # nothing was touched by the failed restore
    assert _ids(client, bearer(app)) == ["a1"]


def test_reset_empties_or_reseeds_one_tenant(serve: Factory) -> None:
    client, app = serve()
    insert(app.state.store, "alerts_v2", [alert("a1")])
    insert(app.state.store, "alerts_v2", [alert("b1")], tenant=TENANT_B)
    admin = admin_headers(app)
    emptied = client.post("/_alertgraph/reset", headers=admin)
    assert emptied.status_code == 200
    assert emptied.json()["counts"]["alerts_v2"] == 0
    assert _ids(client, bearer(app)) == []
    assert _ids(client, bearer(app, TENANT_B)) == ["b1"]
    seeded = client.post("/_alertgraph/reset", headers=admin, json={"demo": True}).json()
    assert seeded["counts"]["alerts_v2"] == 300
    assert seeded["counts"]["incidents"] > 0


def test_every_admin_action_is_audited(serve: Factory) -> None:
    client, app = serve()
    admin = admin_headers(app)
    client.patch("/_alertgraph/controls", headers=admin, json={"throttle": "5/10"})
    client.post("/_alertgraph/snapshots", headers=admin, json={"name": "s"})
    client.post("/_alertgraph/snapshots/s/restore", headers=admin)
    client.delete("/_alertgraph/snapshots/s", headers=admin)
    client.post("/_alertgraph/reset", headers=admin)
    client.delete("/_alertgraph/controls", headers=admin)
    with app.state.store.engine.connect() as conn:
        rows = conn.execute(
            select(audit_table.c.action, audit_table.c.entity_id)
            .where(audit_table.c[TENANT] == TENANT_A, audit_table.c.entity_set == "_alertgraph")
            .order_by(audit_table.c.at)
        ).all()
    assert [tuple(row) for row in rows] == [
        ("controls.update", "controls"),
        ("snapshot.save", "s"),
        ("snapshot.restore", "s"),
        ("snapshot.delete", "s"),
        ("tenant.reset", TENANT_A),
        ("controls.clear", "controls"),
    ]


def test_run_time_throttle_and_bad_controls(serve: Factory) -> None:
    client, app = serve()
    admin = admin_headers(app)
    assert (
        client.patch("/_alertgraph/controls", headers=admin, json={"throttle": "1/60"}).json()[
            "throttle"
        ]
        == "1/60"
    )
    assert client.get(ALERTS, headers=bearer(app)).status_code == 200
    assert client.get(ALERTS, headers=bearer(app)).status_code == 429
    bad = client.patch("/_alertgraph/controls", headers=admin, json={"throttle": "fast"})
    assert bad.status_code == 400
    assert "is not off, graph or N/S" in bad.json()["error"]["message"]
    unknown = client.patch("/_alertgraph/controls", headers=admin, json={"speed": 1})
    assert unknown.status_code == 400
    assert client.delete("/_alertgraph/controls", headers=admin).status_code == 204
    assert client.get("/_alertgraph/controls", headers=admin).json()["throttle"] == "off"


def test_journal_records_requests_without_tokens(serve: Factory) -> None:
    client, app = serve(journal=True, journal_bodies=True)
    insert(app.state.store, "alerts_v2", [alert("a1")])
    headers = bearer(app)
    client.get(f"{ALERTS}?$top=1", headers={**headers, "client-request-id": "c-1"})
    client.patch(f"{ALERTS}/a1", headers=headers, json={"status": "inProgress"})
    client.get(ALERTS)  # unauthenticated: no tenant, not journaled
    client.get(ALERTS, headers=bearer(app, TENANT_B))
    har = client.get("/_alertgraph/journal", headers=admin_headers(app)).json()
    entries = har["log"]["entries"]
    assert har["log"]["version"] == "1.2"
    assert [(e["request"]["method"], e["response"]["status"]) for e in entries] == [
        ("GET", 200),
        ("PATCH", 200),
    ]
    first = entries[0]
    assert first["request"]["queryString"] == [{"name": "$top", "value": "1"}]
    assert {"name": "client-request-id", "value": "c-1"} in first["request"]["headers"]
    assert entries[1]["request"]["postData"]["text"] == '{"status":"inProgress"}'
    token = headers["Authorization"].split()[1]
    text = str(har)
    assert token not in text
    assert "authorization" not in text.lower()


def test_the_journal_is_bounded(serve: Factory) -> None:
    from alertgraph.emulator.journal import TRIM_EVERY, entries

    client, app = serve(journal=True, journal_max_entries=10)
    headers = bearer(app)
    for number in range(TRIM_EVERY + 10):
        client.get(f"{ALERTS}?$top=1&n={number}", headers=headers)
    kept = entries(app.state.store)
    assert len(kept) <= 10 + TRIM_EVERY
    assert len(kept) < TRIM_EVERY + 10
    assert kept[-1]["url"].endswith(f"n={TRIM_EVERY + 9}")
    assert not any(row["url"].endswith("n=0") for row in kept)
