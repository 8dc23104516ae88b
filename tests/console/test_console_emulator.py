"""The console's Emulator page on SQLite and PostgreSQL: admin-token unlock, throttle and faults,
snapshots, reset and the journal, each checked through the admin API and the audit log."""

from __future__ import annotations

import html
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from markupsafe import escape
from sqlalchemy import select
from starlette.testclient import TestClient

from alertgraph.emulator.admin import mint_admin
from alertgraph.http.app import create_app
from alertgraph.settings import Settings
from alertgraph.store.database import audit_table
from tests.api.conftest import TENANT_A, TENANT_B, alert, insert, mint
from tests.console.test_console_html import HOSTILE, csrf_of, reader_token, sign_in

ALERTS = "/beta/security/alerts_v2"
Build = Callable[..., tuple[TestClient, Any]]


@pytest.fixture
def build(db_url: str) -> Iterator[Build]:
    """``build(journal=True, ...)``: a client of an app with those settings (one database)."""
    opened: list[tuple[TestClient, Any]] = []

    def make(**overrides: Any) -> tuple[TestClient, Any]:
        app = create_app(Settings(database_url=db_url, **overrides))
        client = TestClient(app, base_url="http://testserver")
        client.__enter__()
        opened.append((client, app))
        return client, app

    yield make
    for client, app in opened:
        client.__exit__(None, None, None)
        app.state.store.engine.dispose()


def admin_token(app: Any, tenant: str = TENANT_A, *, server_wide: bool = False) -> str:
    return mint_admin(app.state.store, app.state.settings, tenant=tenant, server_wide=server_wide)


def unlocked(client: TestClient, app: Any) -> str:
    """Sign in with a Graph token, unlock with an admin token; the Emulator page's HTML."""
    sign_in(client, mint(app))
    page = client.get("/console/emulator").text
    response = client.post(
        "/console/emulator/unlock",
        data={"csrf": csrf_of(page), "admin_token": admin_token(app)},
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text
    assert response.headers["location"] == "/console/emulator?done=unlocked"
    page = client.get(response.headers["location"]).text
    assert "Controls unlocked with the admin token." in page
    return page


def admin_get(client: TestClient, app: Any, path: str) -> Any:
    answer = client.get(
        f"/_alertgraph/{path}", headers={"Authorization": f"Bearer {admin_token(app)}"}
    )
    assert answer.status_code == 200, answer.text
    return answer.json()


def audit_actions(app: Any) -> list[tuple[str, str, str]]:
    with app.state.store.engine.connect() as conn:
        rows = conn.execute(
            select(audit_table.c.action, audit_table.c.entity_id, audit_table.c.actor)
            .where(audit_table.c.entity_set == "_alertgraph")
            .order_by(audit_table.c.at)
        ).all()
    return [(row.action, row.entity_id, row.actor) for row in rows]


def test_a_graph_session_sees_the_controls_read_only_and_forged_posts_get_403(build) -> None:
    client, app = build()
    sign_in(client, mint(app))
    page = client.get("/console/emulator")
    assert page.status_code == 200
    text = page.text
    assert '<a href="/console/emulator">Emulator</a>' in text
    assert '<label for="admin_token">Admin token</label>' in text
    assert '<label for="f-throttle">Throttle</label>' in text
    assert '<label for="snapshot-name">Snapshot name</label>' in text
    # every control fieldset is disabled and the journal is withheld
    assert text.count("<fieldset disabled>") == 3
    assert "to admins only" in text
    csrf = csrf_of(text)
    forged = client.post(
        "/console/emulator/controls",
        data={"csrf": csrf, "throttle": "1/60"},
        follow_redirects=False,
    )
    assert forged.status_code == 403
    assert "never a Graph" in html.unescape(forged.text)
    # a Graph token is not an admin token, even with every permission
    refused = client.post(
        "/console/emulator/unlock",
        data={"csrf": csrf, "admin_token": mint(app)},
        follow_redirects=False,
    )
    assert refused.status_code == 401
    assert "only admin tokens" in html.unescape(refused.text)
    assert admin_get(client, app, "controls")["throttle"] == "off"
    assert audit_actions(app) == []


def test_a_reader_with_an_admin_token_still_needs_csrf(build) -> None:
    client, app = build()
    sign_in(client, reader_token(app))
    response = client.post(
        "/console/emulator/unlock",
        data={"csrf": "wrong", "admin_token": admin_token(app)},
        follow_redirects=False,
    )
    assert response.status_code == 403
    assert "CSRF" in response.text


def test_an_admin_token_of_another_tenant_is_refused(build) -> None:
    client, app = build()
    sign_in(client, mint(app))
    csrf = csrf_of(client.get("/console/emulator").text)
    response = client.post(
        "/console/emulator/unlock",
        data={"csrf": csrf, "admin_token": admin_token(app, TENANT_B)},
        follow_redirects=False,
    )
    assert response.status_code == 403
    assert f"for tenant {TENANT_B}" in response.text
    # a server-wide admin token may unlock, and then acts on the signed-in tenant only
    response = client.post(
        "/console/emulator/unlock",
        data={"csrf": csrf, "admin_token": admin_token(app, TENANT_B, server_wide=True)},
        follow_redirects=False,
    )
    assert response.status_code == 303
    client.post(
        "/console/emulator/controls",
        data={"csrf": csrf, "throttle": "7/3"},
        follow_redirects=False,
    )
    assert admin_get(client, app, "controls")["throttle"] == "7/3"
    wide = {"Authorization": f"Bearer {admin_token(app, TENANT_B, server_wide=True)}"}
    other = client.get("/_alertgraph/controls", headers=wide).json()
    assert other["throttle"] == "off"


def test_throttle_and_faults_change_through_the_form_and_are_audited(build) -> None:
    client, app = build()
    page = unlocked(client, app)
    assert "<fieldset disabled>" not in page
    csrf = csrf_of(page)
    response = client.post(
        "/console/emulator/controls",
        data={
            "csrf": csrf,
            "throttle": "10/5",
            "faults_on": "1",
            "rate": "1",
            "status": "503",
            "seed": "7",
            "latency": "",
            "path": "/security/incidents*",
            "method": "",
        },
        follow_redirects=False,
    )
    assert response.status_code == 303
    assert response.headers["location"] == "/console/emulator?done=controls"
    controls = admin_get(client, app, "controls")
    assert controls["throttle"] == "10/5"
    assert controls["faults"]["rate"] == 1.0
    assert controls["faults"]["seed"] == 7
    assert controls["faults"]["path"] == "/security/incidents*"
    page = client.get("/console/emulator?done=controls").text
    assert "Throttle and faults updated." in page
    assert 'name="throttle" value="10/5"' in page
    # the faults apply to Graph requests of the tenant (incidents only)
    headers = {"Authorization": f"Bearer {mint(app)}"}
    assert client.get("/beta/security/incidents", headers=headers).status_code == 503
    assert client.get(ALERTS, headers=headers).status_code == 200
    # faults off, throttle cleared
    client.post("/console/emulator/controls", data={"csrf": csrf, "throttle": "off"})
    assert admin_get(client, app, "controls")["faults"] is None
    client.post("/console/emulator/controls/clear", data={"csrf": csrf})
    actions = audit_actions(app)
    assert [a[0] for a in actions] == ["controls.update", "controls.update", "controls.clear"]
    assert all(actor.startswith("admin:") for _, _, actor in actions)


def test_bad_values_get_the_admin_apis_400_and_change_nothing(build) -> None:
    client, app = build()
    csrf = csrf_of(unlocked(client, app))
    response = client.post("/console/emulator/controls", data={"csrf": csrf, "throttle": "fast"})
    assert response.status_code == 400
    assert "is not off, graph or N/S" in html.unescape(response.text)
    response = client.post(
        "/console/emulator/controls",
        data={"csrf": csrf, "throttle": "off", "faults_on": "1", "rate": "2"},
    )
    assert response.status_code == 400
    assert "rate=2 is not a share of requests between 0 and 1" in response.text
    response = client.post("/console/emulator/snapshots/save", data={"csrf": csrf, "name": HOSTILE})
    assert response.status_code == 400
    assert HOSTILE not in response.text  # escaped
    assert str(escape(HOSTILE)) in response.text
    response = client.post(
        "/console/emulator/snapshots/restore", data={"csrf": csrf, "name": "nothing"}
    )
    assert response.status_code == 404
    assert admin_get(client, app, "controls")["throttle"] == "off"
    assert audit_actions(app) == []


def test_snapshot_save_restore_delete_and_reset(build) -> None:
    client, app = build()
    store = app.state.store
    insert(store, "alerts_v2", [alert("a-1", title="Before", status="new")])
    csrf = csrf_of(unlocked(client, app))
    response = client.post(
        "/console/emulator/snapshots/save",
        data={"csrf": csrf, "name": "before-test"},
        follow_redirects=False,
    )
    assert response.status_code == 303
    page = client.get("/console/emulator").text
    assert "<td>before-test</td>" in page
    assert 'aria-label="Restore before-test"' in page
    headers = {"Authorization": f"Bearer {mint(app)}"}
    patched = client.patch(f"{ALERTS}/a-1", json={"status": "resolved"}, headers=headers)
    assert patched.status_code == 200, patched.text
    client.post("/console/emulator/snapshots/restore", data={"csrf": csrf, "name": "before-test"})
    assert client.get(f"{ALERTS}/a-1", headers=headers).json()["status"] == "new"
    client.post("/console/emulator/reset", data={"csrf": csrf})
    assert client.get(f"{ALERTS}/a-1", headers=headers).status_code == 404
    client.post("/console/emulator/snapshots/delete", data={"csrf": csrf, "name": "before-test"})
    assert admin_get(client, app, "snapshots")["value"] == []
    assert [a[:2] for a in audit_actions(app)] == [
        ("snapshot.save", "before-test"),
        ("snapshot.restore", "before-test"),
        ("tenant.reset", TENANT_A),
        ("snapshot.delete", "before-test"),
    ]


def test_journal_shows_the_tenants_requests_escaped_and_without_javascript(build) -> None:
    client, app = build(journal=True)
    headers = {"Authorization": f"Bearer {mint(app)}"}
    hostile = "/beta/security/alerts_v2?$filter=title eq '<b>x</b>'"
    client.get(hostile, headers=headers)
    client.get(ALERTS, headers={"Authorization": f"Bearer {mint(app, TENANT_B)}"})
    page = unlocked(client, app)
    assert '<a href="/console/emulator#journal">Refresh</a>' in page
    assert "<b>x</b>" not in page
    assert "&lt;b&gt;x&lt;/b&gt;" in page
    part = client.get("/console/emulator/journal").text
    assert 'id="journal-body"' in part
    assert part.count("<tr><td>") == 1  # tenant A's one request; B's is not shown
    assert "Bearer" not in part


def test_signing_out_forgets_the_admin_token(build) -> None:
    client, app = build()
    csrf = csrf_of(unlocked(client, app))
    client.post("/console/signout", data={"csrf": csrf})
    sign_in(client, mint(app))
    page = client.get("/console/emulator").text
    assert '<label for="admin_token">Admin token</label>' in page
    csrf = csrf_of(page)
    forged = client.post("/console/emulator/reset", data={"csrf": csrf})
    assert forged.status_code == 403


def test_with_the_admin_api_off_the_page_offers_nothing(build) -> None:
    client, app = build(admin_api=False)
    sign_in(client, mint(app))
    page = client.get("/console/emulator")
    assert page.status_code == 200
    assert "--no-admin-api" in page.text
    assert "<form" not in page.text.split("<main")[1].split("</main>")[0]
    csrf = csrf_of(page.text)
    for path in ("unlock", "controls", "snapshots/save", "reset"):
        response = client.post(
            f"/console/emulator/{path}",
            data={"csrf": csrf, "admin_token": admin_token(app), "name": "x"},
        )
        assert response.status_code == 403, path
    assert client.get("/_alertgraph/controls").status_code == 404
