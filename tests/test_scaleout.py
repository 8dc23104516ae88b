"""Scale-out: two ``alertgraph serve`` processes on one PostgreSQL database act as one service.

Nothing a client holds may be tied to the process that produced it: a token minted by the CLI, a
nextLink from one server followed on the other, a write through one read back through the other.
One server runs with ``--workers 2`` so requests also land on different worker processes. This test
runs in CI (it is marked ``postgres``, which CI requires, never skips).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from alertgraph.seed.records import generate_alerts
from alertgraph.settings import Settings
from alertgraph.store.database import Store
from alertgraph.store.importer import import_records
from tests.conftest import fresh_pg_schema
from tests.live import LiveServer, live_server

pytestmark = pytest.mark.postgres

ALERTS = 420
TENANT = Settings().default_tenant


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A fresh PostgreSQL schema holding ALERTS generated alerts of the default tenant."""
    with fresh_pg_schema() as url:
        store = Store.open(url)
        try:
            records = generate_alerts(
                ALERTS,
                seed=11,
                tenant_id=TENANT,
                start=datetime(2025, 1, 1, tzinfo=UTC),
                span_days=30,
            )
            import_records(
                store,
                "security/alerts_v2",
                ((f"record {n}", record) for n, record in enumerate(records)),
                tenant=TENANT,
            )
        finally:
            store.engine.dispose()
        yield url


@pytest.fixture
def pair(pg_url: str, tmp_path: Path) -> Iterator[tuple[LiveServer, LiveServer]]:
    first_dir = tmp_path / "a"
    second_dir = tmp_path / "b"
    first_dir.mkdir()
    second_dir.mkdir()
    with (
        live_server(pg_url, first_dir, "--workers", "2") as first,
        live_server(pg_url, second_dir) as second,
    ):
        yield first, second


def _swap(link: str, servers: tuple[LiveServer, LiveServer], turn: int) -> str:
    """Point ``link`` (made by either server) at the server whose turn it is."""
    for server in servers:
        if link.startswith(server.base + "/"):
            return servers[turn % 2].base + link[len(server.base) :]
    raise AssertionError(f"nextLink {link} names neither server")


def _walk(
    client: httpx.Client, servers: tuple[LiveServer, LiveServer], path: str
) -> tuple[list[dict[str, object]], list[dict[str, object]]]:
    """Follow nextLinks, alternating servers; return every row and every page body."""
    url = f"{servers[0].base}/beta/{path}"
    rows: list[dict[str, object]] = []
    pages: list[dict[str, object]] = []
    turn = 0
    while True:
        response = client.get(url)
        assert response.status_code == 200, response.text
        body = response.json()
        pages.append(body)
        rows.extend(body["value"])
        link = body.get("@odata.nextLink")
        if link is None:
            return rows, pages
        turn += 1
        url = _swap(link, servers, turn)
        assert len(pages) < 100, "paging does not end"


def test_paging_alternates_between_servers(pair: tuple[LiveServer, LiveServer]) -> None:
    token = pair[0].token()
    with httpx.Client(headers={"Authorization": f"Bearer {token}"}, timeout=60) as client:
        rows, pages = _walk(client, pair, "security/alerts_v2?$orderby=createdDateTime desc")
        assert len(pages) >= 4
        ids = [row["id"] for row in rows]
        assert len(ids) == ALERTS
        assert len(set(ids)) == ALERTS
        order = [(str(row["createdDateTime"]), str(row["id"])) for row in rows]
        assert [at for at, _ in order] == sorted((at for at, _ in order), reverse=True)
        for (at, key), (next_at, next_key) in itertools.pairwise(order):
            if at == next_at:
                assert key < next_key, "ties must be ordered by id"

        filtered, filtered_pages = _walk(
            client,
            pair,
            "security/alerts_v2?$filter=status eq 'new'&$count=true&$top=40",
        )
        total = filtered_pages[0]["@odata.count"]
        assert isinstance(total, int)
        assert total > 0
        assert len(filtered) == total
        assert {row["status"] for row in filtered} == {"new"}
        # $top is the page size: pages of 40, alternating servers, the last one partial
        assert len(filtered_pages) == -(-total // 40)
        assert all(len(page["value"]) == 40 for page in filtered_pages[:-1])  # type: ignore[arg-type]


def test_write_on_one_server_reads_back_on_the_other(
    pair: tuple[LiveServer, LiveServer],
) -> None:
    first, second = pair
    headers = {"Authorization": f"Bearer {second.token()}"}
    with httpx.Client(headers=headers, timeout=60) as client:
        page = client.get(f"{first.base}/beta/security/alerts_v2?$filter=status eq 'new'&$top=2")
        assert page.status_code == 200, page.text
        alert_id, other_id = (row["id"] for row in page.json()["value"])

        def on(server: LiveServer, key: str) -> str:
            return f"{server.base}/beta/security/alerts_v2/{key}"

        changed = client.patch(
            on(first, alert_id),
            json={"status": "inProgress", "assignedTo": "scale@contoso.com"},
        )
        assert changed.status_code == 200, changed.text
        seen = client.get(on(second, alert_id)).json()
        assert (seen["status"], seen["assignedTo"]) == ("inProgress", "scale@contoso.com")
        assert seen["lastUpdateDateTime"] == changed.json()["lastUpdateDateTime"]

        again = client.patch(
            on(second, alert_id),
            json={
                "status": "resolved",
                "classification": "truePositive",
                "determination": "malware",
            },
        )
        assert again.status_code == 200, again.text
        seen = client.get(on(first, alert_id)).json()
        assert (seen["status"], seen["classification"], seen["determination"]) == (
            "resolved",
            "truePositive",
            "malware",
        )

        comment = client.post(
            on(second, other_id) + "/comments",
            json={"@odata.type": "microsoft.graph.security.alertComment", "comment": "seen on B"},
        )
        assert comment.status_code == 200, comment.text
        comments = client.get(on(first, other_id)).json()["comments"]
        assert [c["comment"] for c in comments][-1:] == ["seen on B"]

        counts = [
            client.get(
                f"{server.base}/beta/security/alerts_v2/$count?$filter=status eq 'resolved'"
            ).text
            for server in (first, second, first)
        ]
        assert len(set(counts)) == 1, counts
