"""The pytest plugin (``pytest11`` entry point): the ``alertgraph_server`` fixture runs a real
``alertgraph serve`` on a temporary SQLite database; loading it only declares fixtures."""

from __future__ import annotations

import json
import os
import shlex
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

BASELINE = "pytest-baseline"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addini(
        "alertgraph_serve_args",
        "extra arguments for the alertgraph_server fixture's `alertgraph serve`, "
        "e.g. --throttle 10/5",
        default="",
    )


class AlertgraphServer:
    """A running server: ``url`` (root, without /beta), ``token(**claims)`` and switches."""

    def __init__(self, url: str, database_url: str, tenant: str, log: Path) -> None:
        self.url = url
        self.database_url = database_url
        self.tenant = tenant
        self.log = log
        self._store: Any = None
        self._admin_tokens: dict[str, str] = {}

    # ---- tokens -------------------------------------------------------------------------------

    def _open(self) -> Any:
        if self._store is None:
            from alertgraph.store.database import Store

            self._store = Store.open(self.database_url, create=False)
        return self._store

    def token(
        self,
        *,
        tenant: str | None = None,
        user: str | None = None,
        app_id: str | None = None,
        scopes: Sequence[str] = (),
        roles: Sequence[str] = (),
        directory_roles: Sequence[str] = (),
        expires_in: int = 3600,
    ) -> str:
        """A bearer token, with the claims ``alertgraph token`` takes as options (no scopes and
        roles: every permission, delegated, plus the PIM directory roles)."""
        from alertgraph.identity.auth import mint_dev_token

        return mint_dev_token(
            self._open(),
            tenant=tenant or self.tenant,
            user=user,
            app_id=app_id,
            scopes=scopes,
            roles=roles,
            directory_roles=directory_roles,
            expires_in=expires_in,
        )

    def admin_token(self, tenant: str | None = None) -> str:
        """An admin token for the admin API (/_alertgraph/) of ``tenant``."""
        from alertgraph.emulator.admin import mint_admin
        from alertgraph.settings import Settings

        chosen = tenant or self.tenant
        if chosen not in self._admin_tokens:
            self._admin_tokens[chosen] = mint_admin(
                self._open(),
                Settings(database_url=self.database_url),
                tenant=chosen,
                server_wide=False,
            )
        return self._admin_tokens[chosen]

    # ---- the admin API --------------------------------------------------------------------------

    def admin(self, method: str, path: str, body: Any = None, *, tenant: str | None = None) -> Any:
        """Call the admin API; returns the JSON answer (None for 204), raises on an error."""
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(
            f"{self.url}/_alertgraph/{path.lstrip('/')}",
            data=data,
            method=method,
            headers={
                "Authorization": f"Bearer {self.admin_token(tenant)}",
                "Content-Type": "application/json",
            },
        )
        try:
            with urllib.request.urlopen(request, timeout=60) as answer:
                raw = answer.read()
        except urllib.error.HTTPError as exc:
            raise AssertionError(
                f"admin API {method} {path}: {exc.code} {exc.read().decode(errors='replace')}"
            ) from None
        return json.loads(raw) if raw else None

    def faults(self, tenant: str | None = None, **spec: Any) -> None:
        """Inject faults into the tenant's requests from now on, e.g.
        ``faults(rate=0.5, status=503, seed=1)``; ``faults()`` stops them."""
        self.admin("PATCH", "controls", {"faults": spec or None}, tenant=tenant)

    def throttle(self, limit: str, tenant: str | None = None) -> None:
        """``"off"``, ``"graph"`` or ``"N/S"`` for the tenant from now on."""
        self.admin("PATCH", "controls", {"throttle": limit}, tenant=tenant)

    def clear_controls(self, tenant: str | None = None) -> None:
        """Back to the serve options: no run-time faults or throttle."""
        self.admin("DELETE", "controls", tenant=tenant)

    def snapshot(self, name: str, tenant: str | None = None) -> Any:
        return self.admin("POST", "snapshots", {"name": name}, tenant=tenant)

    def restore(self, name: str, tenant: str | None = None) -> Any:
        return self.admin("POST", f"snapshots/{name}/restore", tenant=tenant)

    def reset(self, *, demo: bool = False, tenant: str | None = None) -> Any:
        return self.admin("POST", "reset", {"demo": demo}, tenant=tenant)

    def new_tenant(self, *, demo: bool = True) -> str:
        """A fresh tenant id (seeded with the demo data unless ``demo=False``)."""
        tenant = str(uuid.uuid4())
        if demo:
            self.reset(demo=True, tenant=tenant)
        return tenant

    @contextmanager
    def isolated(self, tenant: str | None = None) -> Iterator[AlertgraphServer]:
        """The tenant's data and controls as the session began, again after the block."""
        try:
            yield self
        finally:
            self.clear_controls(tenant)
            self.restore(BASELINE, tenant)

    def close(self) -> None:
        if self._store is not None:
            self._store.engine.dispose()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/beta/$metadata", timeout=2):
            return True
    except (urllib.error.URLError, OSError):
        return False


@pytest.fixture(scope="session")
def alertgraph_server(
    tmp_path_factory: pytest.TempPathFactory, pytestconfig: pytest.Config
) -> Iterator[AlertgraphServer]:
    """A real ``alertgraph serve`` on a temporary SQLite database with the demo data."""
    from alertgraph.settings import Settings

    folder = tmp_path_factory.mktemp("alertgraph")
    database_url = f"sqlite:///{folder / 'alertgraph.db'}"
    port = _free_port()
    log = folder / "serve.log"
    extra = shlex.split(str(pytestconfig.getini("alertgraph_serve_args")))
    command = [
        sys.executable, "-m", "alertgraph", "serve", "--db", database_url,
        "--port", str(port), "--demo", *extra,
    ]  # fmt: skip
    environment = {**os.environ, "ALERTGRAPH_ADMIN_API": "true"}
    with log.open("w") as sink:
        process = subprocess.Popen(command, stdout=sink, stderr=subprocess.STDOUT, env=environment)
    url = f"http://127.0.0.1:{port}"
    tenant = Settings.from_env(os.environ).default_tenant  # what serve --demo seeds
    server = AlertgraphServer(url, database_url, tenant, log)
    try:
        deadline = time.monotonic() + 60
        while not _answers(url):
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"alertgraph serve did not start:\n{log.read_text()}")
            time.sleep(0.2)
        server.snapshot(BASELINE)
        yield server
    finally:
        server.close()
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture
def alertgraph_isolated(alertgraph_server: AlertgraphServer) -> Iterator[AlertgraphServer]:
    """The server, with the demo tenant's data and controls put back after the test."""
    with alertgraph_server.isolated():
        yield alertgraph_server


@pytest.fixture
def alertgraph_tenant(alertgraph_server: AlertgraphServer) -> str:
    """A fresh tenant with the demo data, for this test alone."""
    return alertgraph_server.new_tenant()
