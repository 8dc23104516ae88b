"""Two ``alertgraph serve`` processes on one PostgreSQL database share the emulator's state.

The throttle counts of both (one with two workers) add up to one limit, a snapshot saved through one
is restored through the other and served by both from their next request, and faults set through
one admin API apply to requests on the other.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from alertgraph.settings import Settings
from tests.conftest import fresh_pg_schema
from tests.live import LiveServer, live_server, run_cli

pytestmark = pytest.mark.postgres

TENANT = Settings().default_tenant


@pytest.fixture
def pg_url() -> Iterator[str]:
    with fresh_pg_schema() as url:
        yield url


def _count(server: LiveServer, headers: dict[str, str]) -> int:
    url = server.base + "/beta/security/alerts_v2?$count=true&$top=1"
    answer = httpx.get(url, headers=headers, timeout=30)
    assert answer.status_code == 200, answer.text
    return int(answer.json()["@odata.count"])


@pytest.fixture
def pair(pg_url: str, tmp_path: Path) -> Iterator[tuple[LiveServer, LiveServer]]:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    options = ("--throttle", "6/120")
    with (
        live_server(pg_url, tmp_path / "a", "--demo", "--workers", "2", *options) as first,
        live_server(pg_url, tmp_path / "b", *options) as second,
    ):
        yield first, second


def test_two_servers_share_throttle_snapshots_and_faults(
    pair: tuple[LiveServer, LiveServer],
) -> None:
    first, second = pair
    headers = {"Authorization": f"Bearer {first.token()}"}
    path = "/beta/security/alerts_v2?$top=1"
    statuses = []
    for turn in range(12):
        server = pair[turn % 2]
        statuses.append(httpx.get(server.base + path, headers=headers, timeout=30).status_code)
    # six accepted in all, not six per server (or per worker)
    assert statuses.count(200) == 6
    assert statuses[:6] == [200] * 6
    assert set(statuses[6:]) == {429}

    # snapshot through the first server's admin API, restore through the second's
    admin = {"Authorization": f"Bearer {first.token('--admin')}"}
    saved = httpx.post(f"{first.base}/_alertgraph/snapshots", headers=admin, json={"name": "s"})
    assert saved.status_code == 201
    assert saved.json()["counts"]["alerts_v2"] == 300
    run_cli("reset", "--db", first.database_url, "--tenant", TENANT)
    controls = httpx.patch(
        f"{second.base}/_alertgraph/controls", headers=admin, json={"throttle": "off"}
    )
    assert controls.status_code == 200
    assert [_count(server, headers) for server in pair] == [0, 0]
    restored = httpx.post(f"{second.base}/_alertgraph/snapshots/s/restore", headers=admin)
    assert restored.status_code == 200
    assert [_count(server, headers) for server in pair] == [300, 300]

    # faults set through one server apply on the other
    faults = {"rate": 1, "status": 503, "seed": 1}
    httpx.patch(f"{first.base}/_alertgraph/controls", headers=admin, json={"faults": faults})
    answer = httpx.get(second.base + path, headers=headers, timeout=30)
    assert answer.status_code == 503
    assert answer.headers["Retry-After"] == "1"
