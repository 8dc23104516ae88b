"""The Microsoft Graph JavaScript client 3.x against `alertgraph serve --tls`, with no workaround.

That client sends the bearer token only to https URLs (of Graph or of its ``customHosts``) and
re-reads every nextLink as https, so HTTPS is what makes it work. tests/js/graph-client.mjs drives
it as an application would; this test checks its summary against what the server holds. It needs
node (20+) and npm; without them it skips, unless ALERTGRAPH_REQUIRE_POSTGRES=1 (CI), where
missing tools fail the run as a missing PostgreSQL does.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import math
import os
import re
import shutil
import subprocess
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import httpx
import pytest

from tests.conftest import REQUIRE_PG
from tests.live import LiveServer, live_server

pytestmark = pytest.mark.sdk

PROJECT = Path(__file__).resolve().parents[1] / "js"
SCRIPT = PROJECT / "graph-client.mjs"
#: written into node_modules after a successful ``npm ci``: reinstall only when the lock changes
STAMP = PROJECT / "node_modules" / ".alertgraph-installed"
PIM_SCOPE = "scopeId eq '/' and scopeType eq 'DirectoryRole'"


def _missing_tools() -> str | None:
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        return "node and npm are needed to run the Graph JavaScript client (tests/js)"
    version = subprocess.run([node, "--version"], capture_output=True, text=True).stdout
    found = re.match(r"v(\d+)\.", version)
    if found is None or int(found.group(1)) < 20:
        return f"tests/js needs Node.js 20 or later (global fetch); found {version.strip()!r}"
    return None


@pytest.fixture(scope="module")
def node_project() -> Path:
    """tests/js with its pinned packages installed (``npm ci``, skipped when already current)."""
    problem = _missing_tools()
    if problem is not None:
        if REQUIRE_PG:
            pytest.fail(problem + " (ALERTGRAPH_REQUIRE_POSTGRES=1)")
        pytest.skip(problem)
    lock = hashlib.sha256(
        (PROJECT / "package.json").read_bytes() + (PROJECT / "package-lock.json").read_bytes()
    ).hexdigest()
    if not STAMP.is_file() or STAMP.read_text() != lock:
        installed = subprocess.run(
            ["npm", "ci", "--no-audit", "--no-fund"],
            cwd=PROJECT,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert installed.returncode == 0, f"npm ci failed:\n{installed.stdout}\n{installed.stderr}"
        STAMP.write_text(lock)
    return PROJECT


def printed(server: LiveServer, pattern: str) -> str:
    found = re.search(pattern, server.log())
    assert found, f"serve did not print {pattern!r}:\n{server.log()}"
    return found.group(1)


def server_walk(server: LiveServer, headers: dict[str, str], url: str) -> list[dict[str, Any]]:
    """Every item of a collection, read with httpx: what the JS client should also see."""
    items: list[dict[str, Any]] = []
    next_url: str | None = url
    with httpx.Client(verify=server.verify, headers=headers, timeout=30) as client:
        while next_url is not None:
            reply = client.get(next_url)
            assert reply.status_code == 200, reply.text
            items += reply.json()["value"]
            next_url = reply.json().get("@odata.nextLink")
    return items


def node_run(
    project: Path, base_url: str, token: str, ca_file: str | None
) -> subprocess.CompletedProcess[str]:
    env = {
        name: value
        for name, value in os.environ.items()
        # no way around certificate checks may leak in from the caller's environment
        if name not in {"NODE_TLS_REJECT_UNAUTHORIZED", "NODE_OPTIONS", "NODE_EXTRA_CA_CERTS"}
    }
    env |= {"ALERTGRAPH_BASE_URL": base_url, "ALERTGRAPH_TOKEN": token}
    if ca_file is not None:
        env["NODE_EXTRA_CA_CERTS"] = ca_file
    return subprocess.run(
        ["node", str(SCRIPT)], cwd=project, env=env, capture_output=True, text=True, timeout=60
    )


def instant(text: str) -> tuple[datetime, str]:
    """A Graph timestamp as something ordered: its width varies (trailing zeros are trimmed)."""
    whole, _, fraction = text.removesuffix("Z").partition(".")
    return datetime.fromisoformat(whole), fraction.ljust(7, "0")


def run_script(project: Path, base_url: str, token: str, ca_file: str) -> dict[str, Any]:
    result = node_run(project, base_url, token, ca_file)
    assert result.returncode == 0, f"graph-client.mjs failed:\n{result.stderr}"
    summary: dict[str, Any] = json.loads(result.stdout)
    return summary


def test_graph_js_client_over_tls(node_project: Path, db_url: str, tmp_path: Path) -> None:
    with live_server(db_url, tmp_path, "--tls", "--demo") as server:
        base_url = printed(server, r"Base URL:\s+(\S+)")
        ca_file = printed(server, r"NODE_EXTRA_CA_CERTS=(\S+)")
        assert base_url == f"{server.base}/beta"
        token = server.token()
        headers = {"Authorization": f"Bearer {token}"}
        alerts = f"{base_url}/security/alerts_v2"
        expected_all = [a["id"] for a in server_walk(server, headers, f"{alerts}?$select=id")]
        all_high = [
            a["id"] for a in server_walk(server, headers, f"{alerts}?$filter=severity eq 'high'")
        ]
        expected_high = all_high[:5]
        pim_url = f"{base_url}/identityGovernance/roleManagementAlerts/alerts?$filter={PIM_SCOPE}"
        expected_pim = [a["id"] for a in server_walk(server, headers, pim_url)]

        summary = run_script(node_project, base_url, token, ca_file)

        assert (summary["baseUrl"], summary["version"]) == (server.base, "beta")
        *exchanges, failed = summary["exchanges"]
        for exchange in [*exchanges, failed]:
            assert exchange["url"].startswith(f"{base_url}/"), exchange
            assert exchange["bearer"], f"no token sent with {exchange}"
            # the client tags each request; the server echoes the tag, as Graph does
            assert exchange["clientRequestId"], exchange
            assert exchange["echoedClientRequestId"] == exchange["clientRequestId"], exchange
        for exchange in exchanges:
            assert 200 <= exchange["status"] < 300, exchange
            if exchange["status"] != 204:
                # the client parses a body as JSON only when this part is exactly application/json
                assert exchange["contentType"].split(";")[0] == "application/json", exchange
        # Every nextLink the client received is the very next URL it asked for (except after
        # the $top=5 request, whose first page of five is all the script reads).
        for received, following in itertools.pairwise(exchanges):
            if "nextLink" in received and "top=5" not in received["url"]:
                assert following["url"] == received["nextLink"]
        followed = [e for e in exchanges if "nextLink" in e and "top=5" not in e["url"]]
        skiptokens = [e for e in followed if "$skiptoken=" in e["nextLink"]]
        skips = [e for e in followed if "$skip=" in e["nextLink"]]
        assert len(skiptokens) + len(skips) == len(followed)

        top = summary["filteredTop"]
        assert top["ids"] == expected_high
        assert top["severities"] == ["high"]
        assert top["odataTypes"] == ["#microsoft.graph.security.alert"]
        # $top is the page size: a next link follows while high alerts remain, keeping $top
        if len(all_high) > 5:
            assert dict(parse_qsl(urlsplit(top["nextLink"]).query))["$top"] == "5"
        else:
            assert top["nextLink"] is None

        paged = summary["pagedAlerts"]
        assert paged["complete"]
        assert len(paged["ids"]) == len(set(paged["ids"]))
        assert paged["ids"] == expected_all
        counted = httpx.get(
            alerts, params={"$count": "true", "$top": "1"}, headers=headers, verify=server.verify
        ).json()["@odata.count"]
        assert len(paged["ids"]) == counted
        assert len(skiptokens) == math.ceil(counted / 100) - 1 >= 2

        alert = summary["alert"]
        assert alert["id"] == paged["ids"][0]
        assert alert["before"]["assignedTo"] != "js-client@contoso.com"
        wanted = {"status": "inProgress", "assignedTo": "js-client@contoso.com"}
        assert alert["patchResponse"] == {"id": alert["id"], **wanted}
        assert {k: alert["after"][k] for k in wanted} == wanted
        assert instant(alert["after"]["lastUpdateDateTime"]) > instant(
            alert["beforeLastUpdateDateTime"]
        )
        stored = httpx.get(f"{alerts}/{alert['id']}", headers=headers, verify=server.verify).json()
        assert {k: stored[k] for k in wanted} == wanted

        assert failed["status"] == 400
        assert failed["contentType"].split(";")[0] == "application/json"
        error = summary["error"]
        assert error["graphError"]
        assert (error["statusCode"], error["code"]) == (400, "BadRequest")
        assert "Did you mean 'severity'?" in error["message"]
        assert error["requestId"]
        assert error["dateParsed"]

        pim = summary["pim"]
        assert pim["ids"] == expected_pim
        assert pim["scopes"] == ["DirectoryRole:/"]
        incidents = pim["incidentIds"]
        assert pim["incidentsComplete"]
        assert len(incidents) == len(set(incidents)) == pim["busiest"]["incidentCount"] >= 3
        assert len(skips) == math.ceil(len(incidents) / 2) - 1


def test_graph_js_client_needs_https(node_project: Path, db_url: str, tmp_path: Path) -> None:
    """Why --tls: over plain http the client leaves the token off, so the server answers 401."""
    with live_server(db_url, tmp_path, "--demo") as server:
        result = node_run(node_project, f"{server.base}/beta", server.token(), None)
        assert result.returncode == 1
        assert "Access token is empty." in result.stderr  # the server's 401 message
        assert '"statusCode": 401' in result.stderr
