"""The README's tour works as printed against a real ``alertgraph serve --demo``.

The shell commands of the tour are taken from README.md itself and run one by one in a single bash
session (so the variables the README defines carry over), with only the server address swapped for
the test server's. A trailing ``# NNN`` comment in the README is the status the command must show.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

import alertgraph
from tests.live import LiveServer, live_server

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
README_SERVER = "http://127.0.0.1:8000"

# Lines a user types that start or install things; the test provides their effect instead.
NOT_UNATTENDED = (
    "scripts/",
    ". .venv/bin/activate",
    "alertgraph serve",
    "createdb",
    "export ALERTGRAPH_DATABASE_URL",
)


ERROR_CODES = {401: "InvalidAuthenticationToken", 403: "Forbidden"}


@dataclass
class Ran:
    command: str
    returncode: int
    output: str

    @property
    def expected_status(self) -> int | None:
        found = re.search(r"#\s*(\d{3})\b", self.command.splitlines()[-1])
        return int(found.group(1)) if found else None


def tour_commands(text: str) -> list[str]:
    """The tour's shell commands (continuation lines joined), up to the PostgreSQL section."""
    tour = text[text.index("## A short tour") : text.index("### PostgreSQL")]
    commands: list[str] = []
    for block in re.findall(r"```sh\n(.*?)```", tour, re.S):
        pending = ""
        for line in block.splitlines():
            pending += line
            if line.endswith("\\"):
                pending += "\n"
                continue
            command, pending = pending.strip(), ""
            if command and not command.startswith("#"):
                commands.append(command)
    return commands


def run_in_one_shell(commands: list[str], cwd: Path, env: dict[str, str]) -> list[Ran]:
    script = ['alertgraph() { "$ALERTGRAPH_PYTHON" -m alertgraph "$@"; }']
    for i, command in enumerate(commands):
        script += [f"printf '\\n@@begin {i}\\n'", "{", command, "} 2>&1", "rc=$?"]
        script += [f"printf '\\n@@end {i} %d\\n' $rc"]
    result = subprocess.run(
        ["bash", "-c", "\n".join(script)],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    ran = []
    for i, command in enumerate(commands):
        found = re.search(rf"@@begin {i}\n(.*?)\n@@end {i} (\d+)\n", result.stdout, re.S)
        assert found, f"no trace of `{command}` in:\n{result.stdout}\n{result.stderr}"
        ran.append(Ran(command, int(found.group(2)), found.group(1).strip()))
    return ran


def shell_env(server: LiveServer) -> dict[str, str]:
    """What the README's second shell has: `alertgraph` on PATH, the server's database."""
    package_root = str(Path(alertgraph.__file__).resolve().parents[1])
    return {
        **os.environ,
        "ALERTGRAPH_PYTHON": sys.executable,
        "ALERTGRAPH_DATABASE_URL": server.database_url,
        "PYTHONPATH": os.pathsep.join([package_root, os.environ.get("PYTHONPATH", "")]),
    }


def check(ran: Ran) -> None:
    where = f"`{ran.command}` printed:\n{ran.output}"
    assert ran.returncode == 0, where
    if ran.command.startswith("alertgraph import"):
        assert ran.output.startswith("Imported "), where
        return
    if not ran.command.startswith("curl") or re.search(r">\s*\S+\.json", ran.command):
        return
    body = ran.output
    status = ran.expected_status
    if " -D -" in ran.command:
        head, _, body = ran.output.partition("\n\n")
        assert head.startswith(f"HTTP/1.1 {status or 200}"), where
        assert body.strip() == "" or json.loads(body), where
        return
    answer = json.loads(body)
    if status is not None and status >= 400:
        assert answer["error"]["code"] == ERROR_CODES[status], where
    else:
        assert "error" not in answer, where


def test_readme_tour_runs_as_printed(db_url: str, tmp_path: Path) -> None:
    text = README.read_text()
    assert f"SERVER={README_SERVER}" in text
    commands = tour_commands(text)
    with live_server(db_url, tmp_path, "--demo") as server:
        runnable = [
            c.replace(README_SERVER, server.base)
            for c in commands
            if not any(c.startswith(skip) for skip in NOT_UNATTENDED)
        ]
        results = run_in_one_shell(runnable, tmp_path, shell_env(server))
        for ran in results:
            check(ran)
        log = server.log()

    curls = [r for r in results if r.command.startswith("curl")]
    assert len(curls) >= 14, "the tour lost its curl examples"
    # what the tour promises, beyond "answers JSON"
    outputs = "\n".join(r.output for r in results)
    assert '"@odata.count":' in outputs
    assert '"looking into it"' in outputs
    assert '"title":"Impossible travel (from my SIEM)"' in outputs
    forbidden = [r for r in results if r.expected_status == 403]
    assert forbidden, "the tour lost its 403 example"
    assert "PartnerSecurity.Read.All" in forbidden[0].output
    assert any('"access_token":' in r.output for r in curls)
    # the second tenant sees exactly the three imported partner alerts
    assert '"@odata.count":3' in outputs
    assert f"Base URL:  {server.base}/beta" in log


def test_the_printed_curl_line_works_as_printed(tmp_path: Path) -> None:
    with live_server(f"sqlite:///{tmp_path / 'demo.db'}", tmp_path, "--demo") as server:
        line = server.log().split("Try:\n", 1)[1].splitlines()[0].strip()
        assert line.startswith("curl ")
        result = subprocess.run(["bash", "-c", line], capture_output=True, text=True, timeout=30)
    assert result.returncode == 0, result.stderr
    assert len(json.loads(result.stdout)["value"]) == 2


@pytest.mark.sdk
def test_the_sdk_script_in_docs_lists_demo_alerts(tmp_path: Path) -> None:
    text = (ROOT / "docs" / "sdk.md").read_text()
    script = re.search(r"```python\n(.*?)```", text, re.S)
    assert script, "docs/sdk.md lost its script"
    (tmp_path / "alerts.py").write_text(script.group(1))
    with live_server(f"sqlite:///{tmp_path / 'demo.db'}", tmp_path, "--demo") as server:
        env = {**os.environ, "TOKEN": server.token(), "BASE": f"{server.base}/beta"}
        result = subprocess.run(
            [sys.executable, "alerts.py"],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert len(lines) == 5, result.stdout
    assert all(line.startswith("AlertSeverity.") for line in lines), result.stdout
