"""`alertgraph serve`, `token` and `import` as a user runs them (SQLite and PostgreSQL)."""

from __future__ import annotations

import contextlib
import json
import re
import shlex
import sqlite3
import subprocess
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx

from alertgraph.seed.records import generate_alerts
from tests.live import live_server, run_cli


def test_serve_demo_prints_a_working_curl_line(db_url, tmp_path) -> None:
    with live_server(db_url, tmp_path, "--demo") as server:
        log = server.log()
        assert f"Base URL:  {server.base}/beta" in log
        curl = next(line.strip() for line in log.splitlines() if line.strip().startswith("curl "))
        args = shlex.split(curl)
        result = subprocess.run(args, capture_output=True, text=True, timeout=30, check=True)
        body = json.loads(result.stdout)
        assert len(body["value"]) == 2
        # $top is the page size (spec 4.7): the demo has more alerts, so a next link follows.
        assert "$top=2" in body["@odata.nextLink"]
        # The demo data covers all three families.
        headers = {"Authorization": f"Bearer {server.token()}"}
        partner = httpx.get(f"{server.base}/beta/security/partner/securityAlerts", headers=headers)
        assert partner.status_code == 200
        assert partner.json()["value"]
        pim = httpx.get(
            f"{server.base}/beta/identityGovernance/roleManagementAlerts/alertDefinitions",
            params={"$filter": "scopeId eq '/' and scopeType eq 'DirectoryRole'"},
            headers=headers,
        )
        assert pim.status_code == 200
        assert len(pim.json()["value"]) == 7


def test_token_flags_shape_the_claims(db_url, tmp_path) -> None:
    with live_server(db_url, tmp_path) as server:
        reader = server.token(
            "--app-id", "11111111-2222-3333-4444-555555555555", "--role", "SecurityAlert.Read.All"
        )
        assert re.fullmatch(r"[\w-]+\.[\w-]+\.[\w-]+", reader)
        url = f"{server.base}/beta/security/alerts_v2"
        assert httpx.get(url, headers={"Authorization": f"Bearer {reader}"}).status_code == 200
        partner = httpx.get(
            f"{server.base}/beta/security/partner/securityAlerts",
            headers={"Authorization": f"Bearer {reader}"},
        )
        assert partner.status_code == 403
        assert "PartnerSecurity.Read.All" in partner.json()["error"]["message"]
        assert httpx.get(url, headers={"Authorization": "Bearer nope"}).status_code == 401


def test_import_validates_then_upserts(db_url, tmp_path) -> None:
    good = tmp_path / "alerts.ndjson"
    good.write_text(
        "\n".join(
            json.dumps(
                {
                    "id": f"imp-{n}",
                    "title": f"imported {n}",
                    "severity": "low",
                    "status": "new",
                    "serviceSource": "microsoftDefenderForEndpoint",
                    "createdDateTime": f"2024-06-0{n + 1}T00:00:00Z",
                }
            )
            for n in range(3)
        )
    )
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps([{"id": "ok", "severity": "low"}, {"id": "x", "severity": "huge"}]))
    out = run_cli("import", str(good), "--into", "security/alerts_v2", "--db", db_url)
    assert "3" in out
    run_cli("import", str(good), "--into", "security/alerts_v2", "--db", db_url)  # idempotent
    failed = run_cli(
        "import", str(bad), "--into", "security/alerts_v2", "--db", db_url, check=False
    )
    assert "record 1" in failed
    assert "severity" in failed
    assert "huge" in failed
    with live_server(db_url, tmp_path) as server:
        headers = {"Authorization": f"Bearer {server.token()}"}
        body = httpx.get(
            f"{server.base}/beta/security/alerts_v2", params={"$count": "true"}, headers=headers
        ).json()
        assert body["@odata.count"] == 3
        assert [a["id"] for a in body["value"]] == ["imp-2", "imp-1", "imp-0"]


def test_app_add_then_client_credentials_token_is_accepted(db_url, tmp_path) -> None:
    tenant = "cccccccc-0000-4000-8000-00000000000c"
    out = run_cli(
        "app",
        "add",
        "--db",
        db_url,
        "--tenant",
        tenant,
        "--role",
        "PartnerSecurity.Read.All",
        "--name",
        "msp-dashboard",
    )
    fields = dict(line.split(":", 1) for line in out.strip().splitlines())
    client_id, secret = fields["client_id"].strip(), fields["client_secret"].strip()
    refused = run_cli("app", "add", "--db", db_url, "--role", "Nope.All", check=False)
    assert "unknown permission Nope.All" in refused
    with live_server(db_url, tmp_path) as server:
        issued = httpx.post(
            f"{server.base}/{tenant}/oauth2/v2.0/token",
            data={
                "grant_type": "client_credentials",
                "client_id": client_id,
                "client_secret": secret,
                "scope": "https://graph.microsoft.com/.default",
            },
        )
        assert issued.status_code == 200, issued.text
        token = issued.json()["access_token"]
        headers = {"Authorization": f"Bearer {token}"}
        partner = httpx.get(f"{server.base}/beta/security/partner/securityAlerts", headers=headers)
        assert partner.status_code == 200
        alerts = httpx.get(f"{server.base}/beta/security/alerts_v2", headers=headers)
        assert alerts.status_code == 403
        wrong = httpx.post(
            f"{server.base}/{tenant}/oauth2/v2.0/token",
            data={
                "grant_type": "client_credentials",
                "client_id": client_id,
                "client_secret": "wrong",
                "scope": "https://graph.microsoft.com/.default",
            },
        )
        assert wrong.status_code == 401
        assert wrong.json()["error"] == "invalid_client"


def test_a_first_import_beside_a_running_server_leaves_it_answering(db_url, tmp_path) -> None:
    """A first load into an empty collection may take a SQLite database for itself, but only when
    nothing else has it open: with a server running, the import keeps the WAL and the server
    answers throughout (here from another table), then serves the imported alerts."""
    path = tmp_path / "alerts.ndjson"
    records = generate_alerts(400, seed=5, tenant_id="t", start=datetime(2025, 1, 1, tzinfo=UTC))
    path.write_text("".join(json.dumps(record) + "\n" for record in records))
    with live_server(db_url, tmp_path) as server:
        headers = {"Authorization": f"Bearer {server.token()}"}
        base = f"{server.base}/beta/security"
        answers: list[tuple[int, float]] = []
        importing = threading.Event()
        importing.set()

        def probe() -> None:
            with httpx.Client(headers=headers, timeout=25) as client:
                while importing.is_set():
                    started = time.monotonic()
                    status = client.get(f"{base}/incidents", params={"$top": "1"}).status_code
                    answers.append((status, time.monotonic() - started))
                    time.sleep(0.02)

        prober = threading.Thread(target=probe)
        prober.start()
        try:
            out = run_cli("import", str(path), "--into", "security/alerts_v2", "--db", db_url)
        finally:
            importing.clear()
            prober.join()
        assert "400" in out
        assert answers
        assert {status for status, _ in answers} == {200}
        assert max(seconds for _, seconds in answers) < 5
        body = httpx.get(f"{base}/alerts_v2", params={"$count": "true"}, headers=headers).json()
        assert body["@odata.count"] == 400
        if db_url.startswith("sqlite"):
            database = Path(db_url.removeprefix("sqlite:///"))
            # the alerts' pages went through the WAL (a rollback journal would have removed it)
            assert database.with_name(database.name + "-wal").stat().st_size > 1_000_000
            with contextlib.closing(sqlite3.connect(database)) as conn:
                assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
