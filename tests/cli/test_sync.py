"""``alertgraph sync`` against a second alertgraph (a real ``serve --demo``) as the upstream.

A small forwarding proxy in front of it answers 429/503 with Retry-After first, corrupts a record
or fails a collection on demand, so politeness and all-or-nothing writes are tested on the wire.
Local stores run on SQLite and PostgreSQL (``db_url``).
"""

from __future__ import annotations

import http.server
import re
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
from click.testing import CliRunner
from sqlalchemy import select

from alertgraph.cli import main
from alertgraph.schema.endpoints import entity_set
from alertgraph.settings import Settings
from alertgraph.store.database import PARENT, TENANT, Store, meta_table
from tests.live import LiveServer, free_port, live_server, run_cli

TENANT_ID = Settings().default_tenant
SETS = (
    "alerts_v2",
    "incidents",
    "partner_alerts",
    "pim_alerts",
    "pim_definitions",
    "pim_configurations",
    "pim_incidents",
)


@pytest.fixture(scope="module")
def upstream(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    folder = tmp_path_factory.mktemp("upstream")
    with live_server(f"sqlite:///{folder / 'upstream.db'}", folder, "--demo") as server:
        yield server


@pytest.fixture(scope="module")
def token(upstream: LiveServer) -> str:
    return upstream.token()


def dump(url: str, tenant: str = TENANT_ID) -> dict[str, dict[str, dict[str, Any]]]:
    """Every stored record of a tenant, per set, by (parent and) id."""
    store = Store.open(url)
    try:
        found: dict[str, dict[str, dict[str, Any]]] = {}
        with store.engine.connect() as conn:
            for name in SETS:
                table = store.tables[name]
                rows = conn.execute(select(table).where(table.c[TENANT] == tenant)).mappings()
                found[name] = {
                    f"{row.get(PARENT, '')}/{row['id']}": store.to_json(entity_set(name), row)
                    for row in rows
                }
        return found
    finally:
        store.engine.dispose()


def sync(*args: str) -> Any:
    return CliRunner().invoke(main, ["sync", *args])


class Proxy:
    """Forwards GETs to the upstream; ``fault(path, n)`` decides an early answer per request."""

    def __init__(self, target: str) -> None:
        self.target = target
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log: list[tuple[float, str, int]] = []
        self.fault: Callable[[str, int], tuple[int, dict[str, str]] | None] = lambda _p, _n: None
        self.rewrite: Callable[[str, dict[str, Any]], None] = lambda _p, _b: None
        proxy = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                path = self.path.split("?")[0]
                seen = sum(1 for _, logged, _ in proxy.log if logged == path)
                early = proxy.fault(path, seen)
                if early is not None:
                    status, headers = early
                    self._answer(
                        status, b'{"error":{"code":"TooManyRequests","message":"x"}}', headers
                    )
                    proxy.log.append((time.monotonic(), path, status))
                    return
                upstream = httpx.get(
                    proxy.target + self.path,
                    headers={
                        "Authorization": self.headers.get("Authorization", ""),
                        "Prefer": self.headers.get("Prefer", ""),
                        "Host": f"127.0.0.1:{proxy.port}",
                    },
                    timeout=30,
                )
                body = upstream.content
                if upstream.status_code == 200:
                    parsed = orjson.loads(body)
                    proxy.rewrite(path, parsed)
                    body = orjson.dumps(parsed)
                self._answer(upstream.status_code, body, {})
                proxy.log.append((time.monotonic(), path, upstream.status_code))

            def _answer(self, status: int, body: bytes, headers: dict[str, str]) -> None:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                for name, value in headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *_args: Any) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def proxy(upstream: LiveServer) -> Iterator[Proxy]:
    running = Proxy(upstream.base)
    yield running
    running.close()


def test_sync_copies_every_collection_faithfully(upstream, token, db_url) -> None:
    result = sync("--from", upstream.base, "--token", token, "--db", db_url)
    assert result.exit_code == 0, result.output
    assert re.search(r"Synced into tenant \S+: \d+ alerts_v2, \d+ incidents", result.output)
    source, copy = dump(upstream.database_url), dump(db_url)
    for name in SETS:
        assert source[name], name
        assert copy[name] == source[name], name  # same ids, values and timestamps


def test_a_second_run_fetches_what_changed(upstream, token, db_url) -> None:
    assert sync("--from", upstream.base, "--token", token, "--db", db_url).exit_code == 0
    headers = {"Authorization": f"Bearer {token}"}
    alerts = httpx.get(
        f"{upstream.base}/beta/security/alerts_v2?$top=2&$orderby=lastUpdateDateTime asc",
        headers=headers,
    ).json()["value"]
    target = alerts[0]["id"]
    added = httpx.post(
        f"{upstream.base}/beta/security/alerts_v2/{target}/comments",
        json={"comment": "seen upstream after the first sync"},
        headers=headers,
    )
    assert added.status_code == 200, added.text
    result = sync("--from", upstream.base, "--token", token, "--db", db_url)
    assert result.exit_code == 0, result.output
    fetched = int(re.search(r"(\d+) alerts_v2", result.output).group(1))  # type: ignore[union-attr]
    total = len(dump(upstream.database_url)["alerts_v2"])
    assert 1 <= fetched < total / 2, result.output
    local = dump(db_url)["alerts_v2"][f"/{target}"]
    remote = dump(upstream.database_url)["alerts_v2"][f"/{target}"]
    assert local == remote
    assert local["comments"][-1]["comment"] == "seen upstream after the first sync"


def test_retry_after_is_honoured_and_next_links_followed(proxy, upstream, token, db_url) -> None:
    def throttle(path: str, seen: int) -> tuple[int, dict[str, str]] | None:
        if seen == 0:
            return 429, {"Retry-After": "1"}
        if seen == 1 and path.endswith("incidents"):
            return 503, {"Retry-After": "1"}
        return None

    proxy.fault = throttle
    result = sync("--from", proxy.base, "--token", token, "--db", db_url)
    assert result.exit_code == 0, result.output
    assert "wait 5 times" in result.output
    for path in {path for _, path, _ in proxy.log}:
        answers = [(at, status) for at, logged, status in proxy.log if logged == path]
        refused = [at for at, status in answers if status in (429, 503)]
        served = [at for at, status in answers if status == 200]
        assert refused, path
        assert served, path
        assert min(served) - max(refused) >= 0.95, path  # waited the second it was told
    alerts_pages = [s for _, p, s in proxy.log if p.endswith("alerts_v2") and s == 200]
    assert len(alerts_pages) > 1  # the demo's 300 alerts span several pages
    assert dump(db_url)["alerts_v2"] == dump(upstream.database_url)["alerts_v2"]


def test_a_bad_record_stops_the_run_and_nothing_is_written(proxy, token, db_url) -> None:
    bad: list[str] = []

    def corrupt(path: str, body: dict[str, Any]) -> None:
        if path.endswith("alerts_v2") and not bad:
            body["value"][3]["severity"] = "catastrophic"
            bad.append(body["value"][3]["id"])

    proxy.rewrite = corrupt
    result = sync("--from", proxy.base, "--token", token, "--db", db_url)
    assert result.exit_code == 1
    assert bad[0] in result.output
    assert "severity" in result.output
    assert "catastrophic" in result.output
    assert "Traceback" not in result.output
    assert all(not records for records in dump(db_url).values())
    store = Store.open(db_url)
    try:
        with store.engine.connect() as conn:
            keys = conn.execute(select(meta_table.c.key)).scalars().all()
    finally:
        store.engine.dispose()
    assert not [key for key in keys if key.startswith("sync/")]  # no cursor moved


def test_an_interrupted_run_resumes(proxy, upstream, token, db_url) -> None:
    proxy.fault = lambda path, _n: (500, {}) if path.endswith("securityAlerts") else None
    failed = sync("--from", proxy.base, "--token", token, "--db", db_url)
    assert failed.exit_code == 1
    assert "securityAlerts" in failed.output
    assert "500" in failed.output
    assert not dump(db_url)["alerts_v2"]
    proxy.fault = lambda _p, _n: None
    resumed = sync("--from", proxy.base, "--token", token, "--db", db_url)
    assert resumed.exit_code == 0, resumed.output
    assert dump(db_url) == dump(upstream.database_url)


def test_anonymize_replaces_identities_consistently_and_keeps_ids(upstream, token, db_url) -> None:
    result = sync("--from", upstream.base, "--token", token, "--db", db_url, "--anonymize")
    assert result.exit_code == 0, result.output
    source, copy = dump(upstream.database_url), dump(db_url)
    for name in SETS:
        assert set(copy[name]) == set(source[name]), name  # ids kept
    originals: set[str] = set()
    for alert in source["alerts_v2"].values():
        for item in alert["evidence"]:
            account = item.get("userAccount") or {}
            originals.update(
                str(account[key])
                for key in ("userPrincipalName", "displayName", "accountName")
                if account.get(key)
            )
            originals.update(str(item[key]) for key in ("hostName", "ipAddress") if item.get(key))
    for incident in source["pim_incidents"].values():
        originals.update(
            str(incident[key])
            for key in ("assigneeUserPrincipalName", "assigneeDisplayName")
            if incident.get(key)
        )
    assert len(originals) > 20
    text = orjson.dumps(copy).decode().lower()
    leaked = sorted(value for value in originals if value.lower() in text)
    assert not leaked
    by_user: dict[str, set[str]] = {}
    for alert in copy["alerts_v2"].values():
        for item in alert["evidence"]:
            account = item.get("userAccount") or {}
            if account.get("azureAdUserId") and account.get("userPrincipalName"):
                by_user.setdefault(account["azureAdUserId"], set()).add(
                    account["userPrincipalName"]
                )
    assert by_user
    assert all(len(names) == 1 for names in by_user.values())  # same person, same stand-in


def test_client_credentials_get_the_token(upstream, db_url) -> None:
    roles = (
        "SecurityAlert.Read.All",
        "SecurityIncident.Read.All",
        "PartnerSecurity.Read.All",
        "RoleManagementAlert.Read.Directory",
    )
    created = run_cli(
        "app", "add", "--db", upstream.database_url, *(f"--role={role}" for role in roles)
    )
    client_id = re.search(r"client_id:\s+(\S+)", created).group(1)  # type: ignore[union-attr]
    secret = re.search(r"client_secret:\s+(\S+)", created).group(1)  # type: ignore[union-attr]
    result = sync(
        *("--from", upstream.base, "--db", db_url),
        *("--client-id", client_id, "--client-secret", secret),
        *("--authority", f"{upstream.base}/{TENANT_ID}"),
    )
    assert result.exit_code == 0, result.output
    assert f"Synced into tenant {TENANT_ID}" in result.output  # the token's tenant
    assert dump(db_url)["alerts_v2"] == dump(upstream.database_url)["alerts_v2"]
    refused = sync(
        *("--from", upstream.base, "--db", db_url),
        *("--client-id", client_id, "--client-secret", "wrong"),
        *("--authority", f"{upstream.base}/{TENANT_ID}"),
    )
    assert refused.exit_code == 1
    assert "client credentials" in refused.output
    assert "Traceback" not in refused.output


def test_missing_credentials_are_a_usage_error(db_url) -> None:
    result = sync("--from", "http://127.0.0.1:9", "--db", db_url)
    assert result.exit_code == 2
    assert "--token" in result.output
    wrong = sync("--from", "ftp://example", "--token", "x", "--db", db_url)
    assert wrong.exit_code == 2
    assert "--from" in wrong.output


def test_an_unreachable_upstream_is_one_line(db_url, tmp_path: Path) -> None:
    result = sync("--from", f"http://127.0.0.1:{free_port()}", "--token", "x", "--db", db_url)
    assert result.exit_code == 1
    assert "failed" in result.output
    assert "Traceback" not in result.output


def test_sync_asks_only_what_graph_documents(upstream, token, tmp_path: Path) -> None:
    """Against --strict-graph (Graph's documented options only) a second, incremental run works."""
    folder = tmp_path / "strict"
    folder.mkdir()
    local = f"sqlite:///{tmp_path / 'local.db'}"
    with live_server(upstream.database_url, folder, "--strict-graph") as strict:
        for _ in range(2):
            result = sync("--from", strict.base, "--token", token, "--db", local)
            assert result.exit_code == 0, result.output
