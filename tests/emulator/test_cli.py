"""The emulator commands as a user runs them: real ``alertgraph`` processes on both databases."""

from __future__ import annotations

import json

import httpx
import pytest

from tests.api.conftest import TENANT_A, TENANT_B
from tests.live import live_server, run_cli


def _one_line_error(output: str) -> str:
    lines = [line for line in output.strip().splitlines() if line.strip()]
    assert "Traceback" not in output
    assert lines[-1].startswith("Error:"), output
    return lines[-1]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--throttle", "fast"], "throttle 'fast' is not off, graph or N/S"),
        (["--throttle", "0/5"], "N must be at least 1"),
        (["--faults", "rate=1.5,status=503,seed=1"], "rate=1.5 is not a share of requests"),
        (["--faults", "rate=0.1,status=418,seed=1"], "status=418 is not one of 429, 500"),
        (["--faults", "speed=9"], "unknown setting 'speed'"),
    ],
)
def test_malformed_serve_options_are_one_clear_line(tmp_path, args, message) -> None:
    output = run_cli("serve", "--db", f"sqlite:///{tmp_path / 'a.db'}", *args, check=False)
    line = _one_line_error(output)
    assert message in line
    assert "--throttle" in line or "--faults" in line


@pytest.mark.parametrize(
    ("variable", "value"), [("ALERTGRAPH_THROTTLE", "fast"), ("ALERTGRAPH_FAULTS", "speed=9")]
)
def test_a_malformed_variable_is_named_with_its_flag(tmp_path, variable, value) -> None:
    db = f"sqlite:///{tmp_path / 'a.db'}"
    line = _one_line_error(run_cli("serve", "--db", db, env={variable: value}, check=False))
    assert f"(or {variable})" in line  # the value came from the variable, not the flag


def test_snapshot_and_reset_commands(db_url) -> None:
    run_cli("reset", "--db", db_url, "--tenant", TENANT_A, "--demo")
    run_cli("reset", "--db", db_url, "--tenant", TENANT_B, "--demo")
    saved = run_cli("snapshot", "save", "seeded", "--db", db_url, "--tenant", TENANT_A)
    assert f"Saved snapshot 'seeded' of tenant {TENANT_A}: 300 alerts_v2" in saved
    emptied = run_cli("reset", "--db", db_url, "--tenant", TENANT_A)
    assert f"Tenant {TENANT_A} reset: no rows." in emptied
    restored = run_cli("snapshot", "restore", "seeded", "--db", db_url, "--tenant", TENANT_A)
    assert "300 alerts_v2" in restored
    listed = run_cli("snapshot", "list", "--db", db_url)
    assert listed.startswith(f"seeded\t{TENANT_A}\t")
    # unknown names: one line, nothing changed
    unknown = run_cli(
        "snapshot", "restore", "nope", "--db", db_url, "--tenant", TENANT_A, check=False
    )
    assert "no snapshot named 'nope' for tenant" in _one_line_error(unknown)
    assert "its snapshots: seeded" in unknown
    wrong_tenant = run_cli(
        "snapshot", "restore", "seeded", "--db", db_url, "--tenant", TENANT_B, check=False
    )
    assert "its snapshots: none" in _one_line_error(wrong_tenant)
    bad = run_cli("snapshot", "save", "a b", "--db", db_url, check=False)
    assert "not a valid snapshot name" in _one_line_error(bad)
    assert "Deleted snapshot 'seeded'" in run_cli(
        "snapshot", "delete", "seeded", "--db", db_url, "--tenant", TENANT_A
    )
    assert run_cli("snapshot", "list", "--db", db_url).strip() == "No snapshots."
    again = run_cli(
        "snapshot", "delete", "seeded", "--db", db_url, "--tenant", TENANT_A, check=False
    )
    assert "no snapshot named 'seeded'" in _one_line_error(again)


def test_serve_journal_and_har_export(db_url, tmp_path) -> None:
    with live_server(db_url, tmp_path, "--demo", "--journal") as server:
        headers = {"Authorization": f"Bearer {server.token()}"}
        url = f"{server.base}/beta/security/alerts_v2"
        assert httpx.get(url, params={"$top": "3"}, headers=headers).status_code == 200
        assert httpx.get(f"{url}/missing", headers=headers).status_code == 404
        har_file = tmp_path / "requests.har"
        printed = run_cli("journal", "export", str(har_file), "--db", db_url)
        assert f"Wrote 2 requests to {har_file} (HAR 1.2)." in printed
        tail = run_cli("journal", "tail", "--no-follow", "--db", db_url)
    har = json.loads(har_file.read_text())
    log = har["log"]
    assert log["version"] == "1.2"
    assert log["creator"]["name"] == "alertgraph"
    first, second = log["entries"]
    assert first["request"]["method"] == "GET"
    assert first["request"]["url"] == f"{url}?%24top=3"
    assert first["response"]["status"] == 200
    assert first["response"]["statusText"] == "OK"
    assert second["response"]["status"] == 404
    for entry in log["entries"]:
        # the fields HAR 1.2 requires
        assert {"startedDateTime", "time", "request", "response", "cache", "timings"} <= set(entry)
        assert {"method", "url", "httpVersion", "cookies", "headers", "queryString",
                "headersSize", "bodySize"} <= set(entry["request"])  # fmt: skip
        assert {"status", "statusText", "httpVersion", "cookies", "headers", "content",
                "redirectURL", "headersSize", "bodySize"} <= set(entry["response"])  # fmt: skip
        names = {header["name"].lower() for header in entry["request"]["headers"]}
        assert "authorization" not in names
    assert headers["Authorization"].split()[1] not in har_file.read_text()
    assert " 404 GET " in tail
    assert " 200 GET " in tail


def test_serve_throttle_and_admin_token(db_url, tmp_path) -> None:
    with live_server(db_url, tmp_path, "--throttle", "2/60") as server:
        assert "Throttle:  2/60" in server.log()
        headers = {"Authorization": f"Bearer {server.token()}"}
        url = f"{server.base}/beta/security/alerts_v2"
        assert [httpx.get(url, headers=headers).status_code for _ in range(3)] == [200, 200, 429]
        admin = server.token("--admin")
        controls = httpx.get(
            f"{server.base}/_alertgraph/controls", headers={"Authorization": f"Bearer {admin}"}
        )
        assert controls.json()["throttle"] == "2/60"
        assert httpx.get(url, headers={"Authorization": f"Bearer {admin}"}).status_code == 401


def test_serve_without_admin_api(db_url, tmp_path) -> None:
    with live_server(db_url, tmp_path, "--no-admin-api") as server:
        admin = server.token("--admin")
        answer = httpx.get(
            f"{server.base}/_alertgraph/controls", headers={"Authorization": f"Bearer {admin}"}
        )
        assert answer.status_code == 404


def test_serve_faults_replay(db_url, tmp_path) -> None:
    runs = []
    for attempt in range(2):
        run_cli("reset", "--db", db_url)
        folder = tmp_path / str(attempt)
        folder.mkdir()
        with live_server(db_url, folder, "--faults",
                         "rate=0.4,status=503,seed=5") as server:  # fmt: skip
            headers = {"Authorization": f"Bearer {server.token()}"}
            url = f"{server.base}/beta/security/alerts_v2"
            runs.append([httpx.get(url, headers=headers).status_code for _ in range(15)])
    assert runs[0] == runs[1]
    assert set(runs[0]) == {200, 503}
