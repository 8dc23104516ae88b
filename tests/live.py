"""Run a real ``alertgraph serve`` process on 127.0.0.1 and a free port, for end-to-end tests."""

from __future__ import annotations

import os
import re
import socket
import ssl
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

ALERTGRAPH = [sys.executable, "-m", "alertgraph"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class LiveServer:
    base: str  # e.g. http://127.0.0.1:54321 (https:// with --tls)
    database_url: str
    process: subprocess.Popen[str]
    output: Path
    ca_file: Path | None = None  # with --tls: the local CA the server printed to trust

    @property
    def verify(self) -> ssl.SSLContext | bool:
        """What httpx's ``verify=`` needs to reach this server."""
        if self.ca_file is None:
            return True
        return ssl.create_default_context(cafile=str(self.ca_file))

    def token(self, *args: str) -> str:
        return run_cli("token", "--db", self.database_url, *args).strip()

    def log(self) -> str:
        return self.output.read_text(errors="replace")


def run_cli(*args: str, env: dict[str, str] | None = None, check: bool = True) -> str:
    result = subprocess.run(
        [*ALERTGRAPH, *args],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, **(env or {})},
    )
    if check and result.returncode != 0:
        raise AssertionError(
            f"alertgraph {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}"
        )
    return result.stdout if check else result.stdout + result.stderr


def printed_ca_file(log: str) -> Path | None:
    """The CA file ``serve --tls`` tells Node.js to trust (the CA alone)."""
    found = re.search(r"NODE_EXTRA_CA_CERTS=(\S+)", log)
    return Path(found.group(1)) if found else None


def _answers(server: LiveServer, tls: bool) -> bool:
    if tls and server.ca_file is None:
        # the trust instructions are printed (and flushed) before uvicorn starts listening
        server.ca_file = printed_ca_file(server.log())
        if server.ca_file is None:
            return False
    try:
        httpx.get(f"{server.base}/beta/$metadata", timeout=1, verify=server.verify)
    except httpx.TransportError:
        return False
    return True


@contextmanager
def live_server(
    database_url: str, tmp_path: Path, *extra: str, env: dict[str, str] | None = None
) -> Iterator[LiveServer]:
    """``alertgraph serve`` on a free port, ready for requests.

    With ``--tls`` the base URL is https and ``server.ca_file`` is the CA the server printed;
    HOME defaults to a folder below ``tmp_path`` so the TLS files never land in the real home.
    """
    port = free_port()
    output = tmp_path / f"serve-{port}.log"
    tls = "--tls" in extra
    environment = {**os.environ, **(env or {})}
    if tls and "HOME" not in (env or {}):
        environment["HOME"] = str(tmp_path / "home")
    with output.open("w") as sink:
        process = subprocess.Popen(
            [*ALERTGRAPH, "serve", "--db", database_url, "--port", str(port), *extra],
            stdout=sink,
            stderr=subprocess.STDOUT,
            text=True,
            env=environment,
        )
    scheme = "https" if tls else "http"
    server = LiveServer(f"{scheme}://127.0.0.1:{port}", database_url, process, output)
    try:
        deadline = time.monotonic() + 60
        while not _answers(server, tls):
            if process.poll() is not None:
                raise AssertionError(f"alertgraph serve exited early:\n{server.log()}")
            if time.monotonic() > deadline:
                raise AssertionError(f"alertgraph serve did not start:\n{server.log()}")
            time.sleep(0.2)
        yield server
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
