"""``alertgraph simulate``: seeded, consistent, paced events; a live poller misses none of them.

Runs the real command (in-process through click, or as a process beside a real ``serve``) on SQLite
and PostgreSQL, and checks what lands in the store and what a ``ge``-cursor poller sees over HTTP.
"""

from __future__ import annotations

import re
import subprocess
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
from click.testing import CliRunner
from sqlalchemy import func, select

from alertgraph.cli import main
from alertgraph.schema.endpoints import entity_set
from alertgraph.settings import Settings
from alertgraph.store.codec import format_datetime, now_ticks, parse_datetime
from alertgraph.store.database import PARENT, TENANT, Store, audit_table
from tests.live import ALERTGRAPH, live_server

TENANT_ID = Settings().default_tenant
SEVERITY = ("unknown", "informational", "low", "medium", "high")
DATETIME = re.compile(r"\d{4}-\d\d-\d\dT[\d:.]+Z")


def simulate(db_url: str, *args: str) -> str:
    result = CliRunner().invoke(main, ["simulate", "--db", db_url, *args])
    assert result.exit_code == 0, result.output
    return result.output


def records(db_url: str, set_name: str) -> list[dict[str, Any]]:
    store = Store.open(db_url)
    try:
        es = entity_set(set_name)
        table = store.tables[set_name]
        with store.engine.connect() as conn:
            rows = conn.execute(
                select(table).where(table.c[TENANT] == TENANT_ID).order_by(table.c.id)
            ).mappings()
            return [store.to_json(es, dict(row)) for row in rows]
    finally:
        store.engine.dispose()


def without_times(value: Any) -> Any:
    if isinstance(value, str) and DATETIME.fullmatch(value):
        return "<time>"
    if isinstance(value, dict):
        return {key: without_times(item) for key, item in value.items()}
    if isinstance(value, list):
        return [without_times(item) for item in value]
    return value


def all_times(value: Any) -> list[str]:
    if isinstance(value, str) and DATETIME.fullmatch(value):
        return [value]
    if isinstance(value, dict):
        return [t for item in value.values() for t in all_times(item)]
    if isinstance(value, list):
        return [t for item in value for t in all_times(item)]
    return []


def test_the_same_seed_gives_the_same_tenant(db_url, tmp_path) -> None:
    other = f"sqlite:///{tmp_path / 'other.db'}"
    simulate(db_url, "--seed", "5", "--events", "60", "--rate", "100000")
    time.sleep(0.05)  # a different clock for the second run
    simulate(other, "--seed", "5", "--events", "60", "--rate", "100000")
    for name in ("alerts_v2", "incidents", "partner_alerts", "pim_alerts", "pim_incidents"):
        first, second = records(db_url, name), records(other, name)
        assert first, name
        assert without_times(first) == without_times(second), name
    third = f"sqlite:///{tmp_path / 'third.db'}"
    simulate(third, "--seed", "6", "--events", "60", "--rate", "100000")
    assert {a["id"] for a in records(third, "alerts_v2")}.isdisjoint(
        {a["id"] for a in records(db_url, "alerts_v2")}
    )


def test_events_keep_incidents_consistent_and_audited(db_url) -> None:
    before = now_ticks()
    output = simulate(db_url, "--seed", "11", "--events", "120", "--rate", "100000")
    after = now_ticks()
    kinds = Counter(
        {kind: int(count) for count, kind in re.findall(r"(\d+) ([a-z_]+)", output.split(":")[-1])}
    )
    assert sum(kinds.values()) == 120, output
    assert kinds["alert"] >= 30, output  # at least a quarter are new alerts
    assert {"triage", "comment", "incident", "pim", "partner_alert"} <= set(kinds), output
    alerts = records(db_url, "alerts_v2")
    incidents = {incident["id"]: incident for incident in records(db_url, "incidents")}
    assert len(alerts) == kinds["alert"]
    by_incident: dict[str, list[dict[str, Any]]] = {}
    for alert in alerts:
        assert alert["evidence"], alert["id"]
        by_incident.setdefault(alert["incidentId"], []).append(alert)
        for stamp in all_times(alert):
            assert parse_datetime(stamp) <= after, (alert["id"], stamp)
        assert before <= parse_datetime(alert["createdDateTime"]) <= after
    assert any(len(members) > 1 for members in by_incident.values())  # correlation happened
    for incident_id, members in by_incident.items():
        incident = incidents[incident_id]
        worst = max(SEVERITY.index(alert["severity"]) for alert in members)
        assert incident["severity"] == SEVERITY[worst], incident_id
        if all(alert["status"] == "resolved" for alert in members):
            assert incident["status"] == "resolved", incident_id
        else:
            assert incident["status"] in ("active", "inProgress", "awaitingAction"), incident_id
    store = Store.open(db_url)
    try:
        with store.engine.connect() as conn:
            audited = conn.execute(
                select(func.count(func.distinct(audit_table.c.request_id))).where(
                    audit_table.c[TENANT] == TENANT_ID
                )
            ).scalar_one()
            pim_table = store.tables["pim_incidents"]
            counts = dict(
                conn.execute(
                    select(pim_table.c[PARENT], func.count())
                    .where(pim_table.c[TENANT] == TENANT_ID)
                    .group_by(pim_table.c[PARENT])
                ).all()
            )
    finally:
        store.engine.dispose()
    assert audited == 120  # one audited transaction per event
    for pim in records(db_url, "pim_alerts"):
        assert pim["incidentCount"] == counts.get(pim["id"], 0), pim["id"]


def test_rate_is_held(db_url) -> None:
    started = time.monotonic()
    output = simulate(db_url, "--seed", "2", "--rate", "600", "--duration", "3")
    elapsed = time.monotonic() - started
    written = int(re.search(r"Wrote (\d+) events", output).group(1))  # type: ignore[union-attr]
    assert 27 <= written <= 30, output  # 10 a second for 3 s
    assert elapsed < 3 * 1.1 + 2, elapsed  # start-up aside, not slower than the rate


def test_bad_flags_are_one_line_errors(db_url) -> None:
    result = CliRunner().invoke(main, ["simulate", "--db", db_url, "--rate", "0"])
    assert result.exit_code == 2
    assert "--rate" in result.output
    assert "Traceback" not in result.output


def poll(client: httpx.Client, cursor: str, seen: dict[str, int]) -> str:
    """One poll of a connector: ge cursor, ascending, every nextLink; returns the new cursor."""
    query = (
        f"$filter={quote(f'lastUpdateDateTime ge {cursor}')}"
        "&$orderby=lastUpdateDateTime%20asc&$top=7&$select=id,lastUpdateDateTime"
    )
    url: str | None = f"/beta/security/alerts_v2?{query}"
    newest = parse_datetime(cursor)
    while url is not None:
        response = client.get(url)
        assert response.status_code == 200, response.text
        body = response.json()
        for item in body["value"]:
            stamp = parse_datetime(item["lastUpdateDateTime"])
            seen[item["id"]] = max(stamp, seen.get(item["id"], 0))
            newest = max(newest, stamp)
        url = body.get("@odata.nextLink")
    return format_datetime(newest)


def test_a_poller_beside_serve_and_simulate_misses_nothing(db_url, tmp_path: Path) -> None:
    """Three writers in three processes (simulator, server, this test's PATCHes), one poller."""
    with live_server(db_url, tmp_path) as server:
        headers = {"Authorization": f"Bearer {server.token()}"}
        cursor = format_datetime(now_ticks())
        process = subprocess.Popen(
            [
                *ALERTGRAPH,
                "simulate",
                "--db",
                db_url,
                *("--seed", "4", "--rate", "1200"),
                "--duration",
                "5",
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        seen: dict[str, int] = {}
        patched: list[tuple[str, int]] = []
        with httpx.Client(base_url=server.base, headers=headers, timeout=30) as client:

            def patcher() -> None:
                while process.poll() is None:
                    found = client.get("/beta/security/alerts_v2?$top=3&$select=id").json()
                    for item in found["value"]:
                        response = client.patch(
                            f"/beta/security/alerts_v2/{item['id']}",
                            json={"assignedTo": f"poller-test-{len(patched)}"},
                        )
                        assert response.status_code == 200, response.text
                        stamp = parse_datetime(response.json()["lastUpdateDateTime"])
                        patched.append((item["id"], stamp))

            thread = threading.Thread(target=patcher)
            thread.start()
            while process.poll() is None:
                cursor = poll(client, cursor, seen)
            thread.join()
            cursor = poll(client, cursor, seen)
        output = process.communicate()[0]
        assert process.returncode == 0, output
    assert patched, "the server took no writes"
    final = {
        alert["id"]: parse_datetime(alert["lastUpdateDateTime"])
        for alert in records(db_url, "alerts_v2")
    }
    missed = {key: stamp for key, stamp in final.items() if seen.get(key, 0) < stamp}
    assert not missed, output
    for key, stamp in patched:
        assert seen[key] >= stamp


def test_serve_simulate_keeps_the_tenant_alive_in_the_server(db_url, tmp_path: Path) -> None:
    with live_server(db_url, tmp_path, "--simulate", "1200") as server:
        headers = {"Authorization": f"Bearer {server.token()}"}
        url = f"{server.base}/beta/security/alerts_v2?$count=true&$top=1"
        counts = []
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and (len(counts) < 2 or counts[-1] <= counts[0]):
            response = httpx.get(url, headers=headers, timeout=10)
            assert response.status_code == 200, response.text
            counts.append(response.json()["@odata.count"])
            time.sleep(0.5)
        assert "Simulating tenant" in server.log()
    assert counts[-1] > counts[0], counts


def test_a_tenant_with_data_is_moved_along(db_url) -> None:
    from alertgraph.seed.records import demo_data
    from alertgraph.store.importer import import_records

    store = Store.open(db_url)
    try:
        for path, items in demo_data(tenant_id=TENANT_ID, alerts=60, partner_alerts=12).items():
            import_records(
                store, path, ((f"r{n}", r) for n, r in enumerate(items)), tenant=TENANT_ID
            )
    finally:
        store.engine.dispose()
    before = {alert["id"]: alert for alert in records(db_url, "alerts_v2")}
    pim_before = records(db_url, "pim_alerts")
    output = simulate(db_url, "--seed", "3", "--events", "60", "--rate", "100000")
    assert "was empty" not in output  # the demo's PIM catalogue is used as it is
    after = {alert["id"]: alert for alert in records(db_url, "alerts_v2")}
    assert set(before) < set(after)
    changed = [key for key in before if after[key] != before[key]]
    assert changed  # existing alerts were triaged or commented on
    assert [alert["id"] for alert in records(db_url, "pim_alerts")] == [
        alert["id"] for alert in pim_before
    ]


def test_duration_is_wall_clock_when_events_run_late() -> None:
    """A database slower than the rate: late events are written at once, and the run still
    stops when --duration has passed (not after rate x duration events)."""
    from alertgraph.simulate.pace import run_paced

    now = [0.0]

    def slow_step() -> str:
        now[0] += 1.0  # each write takes a second, where the rate wants one every 10 ms
        return "alert"

    tally = run_paced(
        slow_step, rate=6000, events=None, duration=5, sleep=lambda s: None, clock=lambda: now[0]
    )
    assert tally.total == 5  # not the 500 events 5 s at 6,000 a minute would schedule
    assert now[0] == 5.0
