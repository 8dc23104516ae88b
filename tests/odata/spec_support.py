"""Support for the HTTP conformance tests (test_spec_*, test_graph_docs_*): the real app on one
engine, a loader, and spec tables turned into one test case per row (``cases``), each checked
alone (``Api.expect``) so that one row can be selected, run and reported by its id."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import pytest
from starlette.testclient import TestClient

from alertgraph.settings import Settings
from alertgraph.store.database import Store
from tests.factories import (
    alert,
    app_client,
    bearer,
    built_app,
    device_evidence,
    insert,
    mint,
    user_evidence,
)

#: a case's expectation: the ids in order, or (status, a fragment of the error message)
Expected = list[str] | tuple[int, str]


#: the alerts of ALERTS in the collection's default order, newest createdDateTime first; expected
#: ids in the tables are listed in this order
ORDER = ["a5", "a2", "a1", "a4", "a3"]
ALL = ORDER


def rows(*ids: str) -> list[str]:
    """The given alerts in the default order."""
    assert set(ids) <= set(ORDER)
    return [i for i in ORDER if i in ids]


#: five alerts whose answers the $filter and function tables work out by hand
ALERTS = [
    alert(
        "a1",
        title="Phishing mail",
        assignedTo="alice@contoso.com",
        severity="high",
        status="new",
        classification="truePositive",
        createdDateTime="2024-05-01T10:00:00Z",
        lastUpdateDateTime="2024-05-02T00:00:00Z",
        mitreTechniques=["T1566"],
        systemTags=["Red"],
        evidence=[user_evidence("alice@contoso.com")],
    ),
    alert(
        "a2",
        title="phishing MAIL",
        assignedTo=None,
        severity="low",
        status="resolved",
        createdDateTime="2024-05-01T23:30:00-02:00",  # 2024-05-02T01:30:00Z
        lastUpdateDateTime="2024-05-03T00:00:00Z",
        mitreTechniques=[],
        systemTags=[],
        evidence=[],
    ),
    alert(
        "a3",
        title="ÄÖÜ Straße İx",
        assignedTo="",
        severity="medium",
        status="inProgress",
        createdDateTime="2023-12-31T23:59:59.9999999Z",
        lastUpdateDateTime="2024-01-01T00:00:00Z",
        evidence=[device_evidence("pc3.contoso.com")],
    ),
    alert(
        "a4",
        title=None,
        assignedTo="Bob",
        severity="informational",
        status="new",
        createdDateTime="2024-02-29T12:00:00.5Z",
        lastUpdateDateTime="2024-03-01T00:00:00Z",
    ),
    alert(
        "a5",
        title="O'Brien 100% 😀",
        assignedTo="bob",
        severity="high",
        status="resolved",
        classification="falsePositive",
        createdDateTime="2024-06-15T08:00:00+05:30",  # 2024-06-15T02:30:00Z
        lastUpdateDateTime="2024-06-15T08:00:00Z",
        mitreTechniques=["T1059", "T1566"],
    ),
]


@dataclass
class Api:
    client: TestClient
    headers: dict[str, str]
    store: Store

    def load(self, set_name: str, records: Iterable[Mapping[str, Any]], **kw: Any) -> None:
        for record in records:  # one by one: records set different properties
            insert(self.store, set_name, [record], **kw)

    def get(self, url: str) -> Any:
        return self.client.get(url, headers=self.headers)

    def body(self, url: str) -> dict[str, Any]:
        response = self.get(url)
        assert response.status_code == 200, f"{url}: {response.text}"
        return response.json()  # type: ignore[no-any-return]

    def ids(self, url: str) -> list[str]:
        return [item["id"] for item in self.body(url)["value"]]

    def error(self, url: str, status: int = 400) -> str:
        """The message of a Graph error envelope (code BadRequest for a 400)."""
        response = self.get(url)
        assert response.status_code == status, f"{url}: {response.status_code} {response.text}"
        error = response.json()["error"]
        if status == 400:
            assert error["code"] == "BadRequest", error
        return error["message"]  # type: ignore[no-any-return]

    def expect(self, url: str, expected: Expected) -> None:
        """One table row: the ids in order, or the error status with a fragment of its message."""
        response = self.get(url)
        if isinstance(expected, tuple):
            status, fragment = expected
            message = response.json().get("error", {}).get("message", "")
            got = f"got {response.status_code} {message or response.text[:200]}"
            assert response.status_code == status, f"want {status}, {got}"
            assert fragment in message, f"want '{fragment}' in the message, {got}"
            return
        assert response.status_code == 200, f"want {expected}, got {response.text[:300]}"
        got = [item.get("id") for item in response.json()["value"]]
        assert got == expected, f"want {expected}, got {got}"


def cases(tables: Mapping[str, Iterable[tuple[str, Expected]]]) -> list[Any]:
    """One pytest case ``(query, expected)`` per row of each table, with the id ``table:query``
    (select one with ``-k`` or by its node id)."""
    return [
        pytest.param(query, expected, id=f"{name}:{query}")
        for name, table in tables.items()
        for query, expected in table
    ]


@contextmanager
def open_api(db_url: str) -> Iterator[Api]:
    """The real app on ``db_url`` with a client and a token of tenant A with every permission."""
    with built_app(Settings(database_url=db_url)) as app, app_client(app) as client:
        yield Api(client, bearer(mint(app)), app.state.store)
