"""PostgreSQL round trips: pooled connections checked only after idle, reads without BEGIN."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import create_engine, event, text
from tests.conftest import PG_URL, fresh_pg_schema
from tests.factories import alert, app_client, built_app, insert, mint

from alertgraph.settings import Settings
from alertgraph.store import database
from alertgraph.store.database import Store


def _backend_pids(store: Store) -> list[int]:
    """The server process of every connection in the store's pool (all checked out at once)."""
    held = [store.engine.connect() for _ in range(store.engine.pool.checkedin())]  # type: ignore[attr-defined]
    try:
        return [int(conn.execute(text("SELECT pg_backend_pid()")).scalar_one()) for conn in held]
    finally:
        for conn in held:
            conn.close()


@pytest.mark.postgres
def test_a_connection_killed_while_idle_is_replaced(monkeypatch: pytest.MonkeyPatch) -> None:
    with fresh_pg_schema() as url, built_app(Settings(database_url=url)) as app:
        store = app.state.store
        insert(store, "alerts_v2", [alert("a1")])
        headers = {"Authorization": f"Bearer {mint(app)}"}
        with app_client(app) as client:
            assert client.get("/v1.0/security/alerts_v2/a1", headers=headers).status_code == 200
            pids = _backend_pids(store)
            assert pids
            admin = create_engine(PG_URL.replace("postgresql://", "postgresql+psycopg://", 1))
            try:
                with admin.begin() as conn:
                    for pid in pids:
                        conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
            finally:
                admin.dispose()
            monkeypatch.setattr(database, "IDLE_CHECK_SECONDS", 0.0)  # every connection "idle"
            answer = client.get("/v1.0/security/alerts_v2/a1", headers=headers)
            assert answer.status_code == 200, answer.text
            assert answer.json()["id"] == "a1"
            assert not set(pids) & set(_backend_pids(store))


@pytest.mark.postgres
def test_a_busy_pool_sends_no_ping_and_reads_send_no_begin() -> None:
    with fresh_pg_schema() as url, built_app(Settings(database_url=url)) as app:
        store = app.state.store
        insert(store, "alerts_v2", [alert("a1")])
        headers = {"Authorization": f"Bearer {mint(app)}"}
        pings: list[Any] = []
        real_ping = store.engine.dialect.do_ping

        def counted_ping(dbapi_connection: Any) -> bool:
            pings.append(dbapi_connection)
            return bool(real_ping(dbapi_connection))

        store.engine.dialect.do_ping = counted_ping
        reads: list[bool] = []  # per read of the alert: was its connection in autocommit?

        def record(conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
            if "FROM security_alerts" in statement:
                reads.append(conn.connection.dbapi_connection.autocommit)

        event.listen(store.engine, "before_cursor_execute", record)
        with app_client(app) as client:
            for _ in range(3):
                answer = client.get("/v1.0/security/alerts_v2/a1", headers=headers)
                assert answer.status_code == 200
        assert pings == []
        # in autocommit psycopg sends no BEGIN before the SELECT and no ROLLBACK after it
        assert reads == [True, True, True]


def test_patch_of_an_alert_whose_incident_has_no_row(db_url: str) -> None:
    """Alerts imported without their incidents still take a PATCH (nothing to align)."""
    with built_app(Settings(database_url=db_url)) as app:
        insert(app.state.store, "alerts_v2", [alert("a1", incidentId="404")])
        headers = {"Authorization": f"Bearer {mint(app)}"}
        with app_client(app) as client:
            answer = client.patch(
                "/v1.0/security/alerts_v2/a1", json={"status": "resolved"}, headers=headers
            )
            assert answer.status_code == 200, answer.text
            assert answer.json()["status"] == "resolved"
            assert answer.json()["incidentId"] == "404"
            again = client.get("/v1.0/security/alerts_v2/a1", headers=headers).json()
            assert again["status"] == "resolved"
            assert again["resolvedDateTime"] == answer.json()["resolvedDateTime"]
            none = client.get("/v1.0/security/incidents/404", headers=headers)
            assert none.status_code == 404


def test_count_rides_with_the_page_and_holds_past_its_end(db_url: str) -> None:
    """On PostgreSQL the count comes with the page's rows; an empty page still counts them all."""
    with built_app(Settings(database_url=db_url)) as app:
        records = [alert(f"h{i}", severity="high") for i in range(3)]
        records += [alert(f"l{i}", severity="low") for i in range(2)]
        insert(app.state.store, "alerts_v2", records)
        headers = {"Authorization": f"Bearer {mint(app)}"}
        base = "/v1.0/security/alerts_v2?$count=true&$filter=severity eq 'high'"
        with app_client(app) as client:
            page = client.get(base + "&$top=2&$orderby=id", headers=headers).json()
            assert page["@odata.count"] == 3
            assert [item["id"] for item in page["value"]] == ["h0", "h1"]
            assert list(page)[:2] == ["@odata.context", "@odata.count"]
            past = client.get(base + "&$skip=10", headers=headers).json()
            assert (past["@odata.count"], past["value"]) == (3, [])
            none = client.get(base.replace("high", "informational"), headers=headers).json()
            assert (none["@odata.count"], none["value"]) == (0, [])
