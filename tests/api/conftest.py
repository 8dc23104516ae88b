"""HTTP fixtures: the real app over an in-process client, on SQLite and PostgreSQL (via db_url)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Any

import pytest
from starlette.testclient import TestClient

from alertgraph.http.app import create_app
from alertgraph.identity.auth import default_dev_grants
from alertgraph.schema.endpoints import entity_set
from alertgraph.settings import Settings
from alertgraph.store.database import PARENT, TENANT, Store

TENANT_A = "aaaaaaaa-0000-4000-8000-00000000000a"
TENANT_B = "bbbbbbbb-0000-4000-8000-00000000000b"


@pytest.fixture
def settings(db_url: str) -> Settings:
    return Settings(database_url=db_url)


@pytest.fixture
def app(settings: Settings) -> Iterator[Any]:
    application = create_app(settings)
    yield application
    application.state.store.engine.dispose()


@pytest.fixture
def store(app: Any) -> Store:
    return app.state.store  # type: ignore[no-any-return]


@pytest.fixture
def client(app: Any) -> Iterator[TestClient]:
    with TestClient(app, base_url="http://testserver") as test_client:
        yield test_client


def mint(app: Any, tenant: str = TENANT_A, **claims: Any) -> str:
    """A token for ``tenant``; with no claims: every permission, delegated, with the PIM roles."""
    if not claims:
        scopes, roles = default_dev_grants()
        claims = {"user": "analyst@contoso.com", "scopes": scopes, "directory_roles": roles}
    return app.state.authenticator.mint(tenant=tenant, **claims)  # type: ignore[no-any-return]


@pytest.fixture
def headers(app: Any) -> dict[str, str]:
    return {"Authorization": f"Bearer {mint(app)}"}


def insert(
    store: Store,
    set_name: str,
    records: Iterable[Mapping[str, Any]],
    *,
    tenant: str = TENANT_A,
    parent: str | None = None,
) -> None:
    """Validate and store Graph JSON records directly (bypassing the API under test)."""
    es = entity_set(set_name)
    rows = []
    for record in records:
        row = store.to_row(es, record)
        row[TENANT] = tenant
        if parent is not None:
            row[PARENT] = parent
        rows.append(row)
    if not rows:
        return
    # One executemany needs the same columns in every row; an absent property is stored as null.
    columns = {name for row in rows for name in row}
    rows = [{name: row.get(name) for name in columns} for row in rows]
    with store.engine.begin() as conn:
        conn.execute(store.tables[set_name].insert(), rows)


def alert(alert_id: str, **overrides: Any) -> dict[str, Any]:
    """A minimal valid alerts_v2 record."""
    record: dict[str, Any] = {
        "id": alert_id,
        "title": f"Alert {alert_id}",
        "severity": "medium",
        "status": "new",
        "serviceSource": "microsoftDefenderForEndpoint",
        "createdDateTime": "2024-05-01T12:00:00Z",
        "lastUpdateDateTime": "2024-05-01T12:00:00Z",
        "incidentId": "100",
    }
    record.update(overrides)
    return record
