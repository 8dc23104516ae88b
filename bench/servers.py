"""Server processes under test: ``alertgraph serve`` and ``datasette serve``, on loopback only.

Each runs as a child process on a free port with its output in a log file; ``rss`` reads the
resident memory of the process and its children from /proc (Linux).
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

HOST = "127.0.0.1"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


@dataclass
class Server:
    name: str
    process: subprocess.Popen[bytes]
    base: str  # URL every scenario path is joined to
    log: Path
    headers: dict[str, str] = field(default_factory=dict)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def rss_bytes(self) -> int:
        """Resident memory of the server and its worker processes."""
        return sum(_rss(pid) for pid in [self.process.pid, *_children(self.process.pid)])


def _rss(pid: int) -> int:
    try:
        text = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0
    for line in text.splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    return 0


def _children(pid: int) -> list[int]:
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        children = task / "children"
        try:
            found.extend(int(child) for child in children.read_text().split())
        except OSError:
            continue
    for child in list(found):
        found.extend(_children(child))
    return found


def _wait_ready(server: Server, path: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(
                f"{server.name} exited with {server.process.returncode}; see {server.log}:\n"
                + server.log.read_text()[-3000:]
            )
        try:
            if httpx.get(server.base.split("/beta")[0] + path, timeout=2).status_code < 500:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    server.stop()
    raise RuntimeError(f"{server.name} did not answer within {timeout:.0f} s; see {server.log}")


def _spawn(args: list[str], log: Path, **env: str) -> subprocess.Popen[bytes]:
    with log.open("wb") as out:
        return subprocess.Popen(
            args, stdout=out, stderr=subprocess.STDOUT, env={**os.environ, **env}
        )


def mint_token(db_url: str, tenant: str) -> str:
    """A bearer token from ``alertgraph token``, as a user would get one."""
    result = subprocess.run(
        [sys.executable, "-m", "alertgraph.cli", "token", "--db", db_url, "--tenant", tenant],
        capture_output=True,
        text=True,
        check=True,
        env=dict(os.environ),
    )
    return result.stdout.strip().splitlines()[-1]


def start_alertgraph(
    name: str, db_url: str, tenant: str, logdir: Path, *, workers: int = 1
) -> Server:
    port = free_port()
    log = logdir / f"{name}.log"
    args = [sys.executable, "-m", "alertgraph.cli", "serve", "--db", db_url]
    args += ["--host", HOST, "--port", str(port), "--workers", str(workers)]
    process = _spawn(args, log, ALERTGRAPH_TENANT=tenant)
    server = Server(name, process, f"http://{HOST}:{port}/beta", log)
    _wait_ready(server, "/beta/$metadata")
    server.headers = {"Authorization": f"Bearer {mint_token(db_url, tenant)}"}
    return server


def start_datasette(db_path: Path, logdir: Path) -> Server:
    """datasette with the settings a JSON-API user would pick for a large table."""
    port = free_port()
    log = logdir / "datasette.log"
    args = [sys.executable, "-m", "datasette", "serve", str(db_path)]
    args += ["--host", HOST, "--port", str(port)]
    args += ["--setting", "sql_time_limit_ms", "120000"]
    args += ["--setting", "suggest_facets", "off"]
    args += ["--setting", "default_page_size", "100"]
    server = Server("datasette", _spawn(args, log), f"http://{HOST}:{port}", log)
    _wait_ready(server, "/-/versions.json")
    return server
