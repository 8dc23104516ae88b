"""Run a real ``alertgraph serve`` process on 127.0.0.1 and a free port, for end-to-end tests."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
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
    base: str  # e.g. http://127.0.0.1:54321
    database_url: str
    process: subprocess.Popen[str]
    output: Path

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
        raise AssertionError(f"alertgraph {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
    return result.stdout if check else result.stdout + result.stderr


@contextmanager
def live_server(
    database_url: str, tmp_path: Path, *extra: str, env: dict[str, str] | None = None
) -> Iterator[LiveServer]:
    port = free_port()
    output = tmp_path / f"serve-{port}.log"
    with output.open("w") as sink:
        process = subprocess.Popen(
            [*ALERTGRAPH, "serve", "--db", database_url, "--port", str(port), *extra],
            stdout=sink,
            stderr=subprocess.STDOUT,
            text=True,
            env={**os.environ, **(env or {})},
        )
    server = LiveServer(f"http://127.0.0.1:{port}", database_url, process, output)
    try:
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None:
                raise AssertionError(f"alertgraph serve exited early:\n{server.log()}")
            try:
                httpx.get(f"{server.base}/beta/$metadata", timeout=1)
                break
            except httpx.TransportError:
                if time.monotonic() > deadline:
                    raise AssertionError(f"alertgraph serve did not start:\n{server.log()}") from None
                time.sleep(0.2)
        yield server
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


