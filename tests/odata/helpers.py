"""Builders for read-path tests: insert Graph JSON records through Store.to_row."""

from __future__ import annotations

from typing import Any

from alertgraph.odata import QueryLimits, ReadContext
from alertgraph.store.database import Store
from tests.factories import insert as insert_records

ROOT = "http://testserver/beta"


def insert(
    store: Store,
    set_name: str,
    records: list[dict[str, Any]],
    *,
    tenant: str = "t1",
    parent: str | None = None,
) -> None:
    """The API tests' insert, with this suite's default tenant."""
    insert_records(store, set_name, records, tenant=tenant, parent=parent)


def context(
    store: Store,
    *,
    tenant: str = "t1",
    root: str = ROOT,
    strict: bool = False,
    evolvable: bool = False,
) -> ReadContext:
    version = root.rstrip("/").rsplit("/", 1)[1]
    return ReadContext(store, tenant, root, version, evolvable, QueryLimits(strict_graph=strict))


def alert(number: int, **fields: Any) -> dict[str, Any]:
    record: dict[str, Any] = {
        "id": f"a{number:03d}",
        "title": f"Alert {number}",
        "severity": ["low", "medium", "high", "informational"][number % 4],
        "status": ["new", "inProgress", "resolved"][number % 3],
        "createdDateTime": f"2024-05-{1 + number % 28:02d}T{number % 24:02d}:00:00Z",
        "serviceSource": "microsoftDefenderForEndpoint",
    }
    record.update(fields)
    return record
