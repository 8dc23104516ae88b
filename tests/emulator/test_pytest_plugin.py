"""The pytest plugin as a connector author uses it: the docs' example suite run by pytest itself.

The example is taken from docs/testing-connectors.md and run in a separate pytest process (as in a
user's project, where the plugin is found through its entry point), with the server's journal on so
a last test can check that the throttled and faulted runs really met 429s and 503s.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

CHECK = """
def test_the_runs_met_429_and_503(alertgraph_server):
    har = alertgraph_server.admin("GET", "journal?top=1000")
    statuses = [entry["response"]["status"] for entry in har["log"]["entries"]]
    assert 429 in statuses
    assert 503 in statuses
    for entry in har["log"]["entries"]:
        names = {header["name"].lower() for header in entry["request"]["headers"]}
        assert "authorization" not in names


def test_token_takes_the_claims_of_alertgraph_token(alertgraph_server):
    import json
    import urllib.error
    import urllib.request

    def get(token, path):
        request = urllib.request.Request(
            f"{alertgraph_server.url}/beta/{path}", headers={"Authorization": f"Bearer {token}"}
        )
        try:
            with urllib.request.urlopen(request) as answer:
                return answer.status, json.loads(answer.read())
        except urllib.error.HTTPError as exc:
            return exc.code, json.loads(exc.read())

    reader = alertgraph_server.token(app_id="siem", roles=["SecurityAlert.Read.All"])
    assert get(reader, "security/alerts_v2?$top=1")[0] == 200
    assert get(reader, "security/incidents")[0] == 403


def test_a_fresh_tenant(alertgraph_tenant, alertgraph_server):
    import json
    import urllib.request

    token = alertgraph_server.token(tenant=alertgraph_tenant)
    request = urllib.request.Request(
        f"{alertgraph_server.url}/beta/security/alerts_v2/$count",
        headers={"Authorization": f"Bearer {token}"},
    )
    with urllib.request.urlopen(request) as answer:
        assert answer.read() == b"300"
"""


def _example() -> str:
    text = (ROOT / "docs" / "testing-connectors.md").read_text()
    section = text[text.index("### Example: a connector's tests") :]
    found = re.search(r"```python\n(.*?)```", section, re.S)
    assert found is not None
    return found.group(1)


def _pytest(folder: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *args],
        cwd=folder,
        capture_output=True,
        text=True,
        timeout=900,
    )


@pytest.mark.slow
@pytest.mark.sdk
def test_the_documented_connector_suite_passes(tmp_path: Path) -> None:
    (tmp_path / "pytest.ini").write_text("[pytest]\nalertgraph_serve_args = --journal\n")
    (tmp_path / "test_connector.py").write_text(_example())
    (tmp_path / "test_zz_checks.py").write_text(CHECK)
    result = _pytest(tmp_path, "-W", "ignore::DeprecationWarning")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "8 passed" in result.stdout, result.stdout


def test_the_plugin_is_idle_unless_its_fixtures_are_used(tmp_path: Path) -> None:
    (tmp_path / "pytest.ini").write_text(
        "[pytest]\naddopts = --strict-markers --strict-config\nfilterwarnings = error\n"
    )
    (tmp_path / "test_plain.py").write_text("def test_plain():\n    assert True\n")
    result = _pytest(tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 passed" in result.stdout
    fixtures = _pytest(tmp_path, "--fixtures")
    for name in ("alertgraph_server", "alertgraph_isolated", "alertgraph_tenant"):
        assert name in fixtures.stdout
    assert not list(tmp_path.rglob("*.db"))
