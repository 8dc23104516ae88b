"""Test data and the app under test, built in one place: records (alerts, incidents, evidence,
partner alerts), tokens, direct inserts, and the real app with an in-process client.

Fixtures that hand these to tests live in tests/conftest.py; suites add their own data on top.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from starlette.testclient import TestClient

from alertgraph.http.app import create_app
from alertgraph.identity.auth import default_dev_grants
from alertgraph.schema.endpoints import entity_set
from alertgraph.settings import Settings
from alertgraph.store.database import PARENT, TENANT, Store
from alertgraph.store.transaction import tick

TENANT_A = "aaaaaaaa-0000-4000-8000-00000000000a"
TENANT_B = "bbbbbbbb-0000-4000-8000-00000000000b"
BASE_URL = "http://testserver"


# ---- the app under test --------------------------------------------------------------------


@contextmanager
def built_app(settings: Settings, *args: Any) -> Iterator[Any]:
    """The real ASGI app for ``settings`` (extra arguments go to create_app); its engine is
    disposed afterwards."""
    application = create_app(settings, *args)
    try:
        yield application
    finally:
        application.state.store.engine.dispose()


@contextmanager
def app_client(app: Any, base_url: str = BASE_URL) -> Iterator[TestClient]:
    """An in-process HTTP client of ``app``, its lifespan started and stopped around the block."""
    with TestClient(app, base_url=base_url) as client:
        yield client


def mint(app: Any, tenant: str = TENANT_A, **claims: Any) -> str:
    """A token for ``tenant``; with no claims: every permission, delegated, with the PIM roles."""
    if not claims:
        scopes, roles = default_dev_grants()
        claims = {"user": "analyst@contoso.com", "scopes": scopes, "directory_roles": roles}
    return app.state.authenticator.mint(tenant=tenant, **claims)  # type: ignore[no-any-return]


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


# ---- data ----------------------------------------------------------------------------------


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
        tick(conn, tenant)  # as every writer of alertgraph does: remembered counts are stale


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


def incident(incident_id: str, **overrides: Any) -> dict[str, Any]:
    """A valid incidents record, active, with no tags and no comments."""
    record: dict[str, Any] = {
        "id": incident_id,
        "displayName": f"Incident {incident_id}",
        "severity": "medium",
        "status": "active",
        "createdDateTime": "2024-05-01T12:00:00Z",
        "lastUpdateDateTime": "2024-05-01T12:00:00Z",
        "customTags": [],
        "comments": [],
    }
    record.update(overrides)
    return record


def user_evidence(upn: str, created: str = "2024-05-01T12:00:00Z") -> dict[str, Any]:
    """A suspicious userEvidence item for the account ``upn``."""
    return {
        "@odata.type": "#microsoft.graph.security.userEvidence",
        "createdDateTime": created,
        "remediationStatus": "none",
        "verdict": "suspicious",
        "roles": ["compromised"],
        "userAccount": {"accountName": upn.split("@")[0], "userPrincipalName": upn},
    }


def device_evidence(
    name: str,
    *,
    created: str = "2024-05-02T00:00:00Z",
    verdict: str = "malicious",
    remediation: str = "remediated",
) -> dict[str, Any]:
    """A deviceEvidence item for the host ``name`` (malicious and remediated unless told)."""
    return {
        "@odata.type": "#microsoft.graph.security.deviceEvidence",
        "createdDateTime": created,
        "remediationStatus": remediation,
        "verdict": verdict,
        "roles": [],
        "deviceDnsName": name,
    }
