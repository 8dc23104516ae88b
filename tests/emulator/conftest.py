"""Fixtures for the emulator tests: apps built with emulator settings, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from starlette.testclient import TestClient

from alertgraph.emulator.admin import mint_admin
from alertgraph.http.app import create_app
from alertgraph.settings import Settings
from tests.api.conftest import TENANT_A, mint

Factory = Callable[..., tuple[TestClient, Any]]


@pytest.fixture
def serve(db_url: str) -> Iterator[Factory]:
    """``serve(throttle="2/1", ...)``: a client of an app with those settings (one database)."""
    opened: list[tuple[TestClient, Any]] = []

    def build(**overrides: Any) -> tuple[TestClient, Any]:
        app = create_app(Settings(database_url=db_url, **overrides))
        client = TestClient(app, base_url="http://testserver")
        client.__enter__()
        opened.append((client, app))
        return client, app

    yield build
    for client, app in opened:
        client.__exit__(None, None, None)
        app.state.store.engine.dispose()


def bearer(app: Any, tenant: str = TENANT_A, **claims: Any) -> dict[str, str]:
    return {"Authorization": f"Bearer {mint(app, tenant, **claims)}"}


def admin_headers(app: Any, tenant: str = TENANT_A, *, server_wide: bool = False) -> dict[str, str]:
    token = mint_admin(app.state.store, app.state.settings, tenant=tenant, server_wide=server_wide)
    return {"Authorization": f"Bearer {token}"}
