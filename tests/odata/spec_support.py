"""Support for the HTTP conformance tests (test_spec_*, test_graph_docs_*): the real app on one
engine, a loader, and table checks that report every wrong case of a table at once."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from starlette.testclient import TestClient

from alertgraph.app import create_app
from alertgraph.settings import Settings
from alertgraph.store import Store
from tests.api.conftest import insert, mint

#: a case's expectation: the ids in order, or (status, a fragment of the error message)
Expected = list[str] | tuple[int, str]


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

    def check(self, base: str, cases: Iterable[tuple[str, Expected]]) -> None:
        """Run every case (``base + query``) and fail once, listing each wrong answer."""
        wrong: list[str] = []
        for query, expected in cases:
            url = base + query
            response = self.get(url)
            if isinstance(expected, tuple):
                status, fragment = expected
                message = response.json().get("error", {}).get("message", "")
                if response.status_code != status or fragment not in message:
                    wrong.append(
                        f"{query}\n    want {status} '{fragment}'\n    got  "
                        f"{response.status_code} {message or response.text[:200]}"
                    )
                continue
            if response.status_code != 200:
                wrong.append(f"{query}\n    want {expected}\n    got  {response.text[:300]}")
                continue
            got = [item.get("id") for item in response.json()["value"]]
            if got != expected:
                wrong.append(f"{query}\n    want {expected}\n    got  {got}")
        assert not wrong, f"{len(wrong)} wrong:\n" + "\n".join(wrong)


@contextmanager
def open_api(db_url: str) -> Iterator[Api]:
    app = create_app(Settings(database_url=db_url))
    try:
        with TestClient(app, base_url="http://testserver") as client:
            headers = {"Authorization": f"Bearer {mint(app)}"}
            yield Api(client, headers, app.state.store)
    finally:
        app.state.store.engine.dispose()
