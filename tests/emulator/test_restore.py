"""Restores bring back exactly the snapshot, whatever a test did, and are fast at 10,000 alerts."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select, update

from alertgraph.emulator import snapshots
from alertgraph.emulator.tables import ensure_schema
from alertgraph.seed.records import generate_alerts
from alertgraph.store.database import TENANT, Store
from alertgraph.store.importer import import_records
from tests.api.conftest import TENANT_A, TENANT_B, alert, insert


def _state(store: Store, tenant: str) -> dict[str, list[Any]]:
    with store.engine.connect() as conn:
        return {
            name: sorted(
                (
                    tuple(row)
                    for row in conn.execute(select(table).where(table.c[TENANT] == tenant))
                ),
                key=repr,
            )
            for name, table in store.tables.items()
        }


@pytest.fixture
def store(db_url: str) -> Any:
    opened = Store.open(db_url)
    ensure_schema(opened)
    yield opened
    opened.engine.dispose()


changes = st.lists(
    st.tuples(st.sampled_from(["update", "delete", "insert"]), st.integers(0, 11)), max_size=12
)


@settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(changes=changes)
def test_restore_undoes_any_changes(store: Store, changes: list[tuple[str, int]]) -> None:
    snapshots.reset(store, TENANT_A)
    snapshots.reset(store, TENANT_B)
    insert(store, "alerts_v2", [alert(f"a{n}", title=None if n % 3 else "t") for n in range(8)])
    insert(store, "alerts_v2", [alert("b1")], tenant=TENANT_B)
    before = _state(store, TENANT_A)
    other = _state(store, TENANT_B)
    snapshots.save(store, TENANT_A, "base")
    table = store.tables["alerts_v2"]
    for step, (kind, number) in enumerate(changes):
        with store.engine.begin() as conn:
            where = (table.c[TENANT] == TENANT_A, table.c.id == f"a{number}")
            if kind == "update":
                conn.execute(update(table).where(*where).values(title=f"changed {number}"))
            elif kind == "delete":
                conn.execute(table.delete().where(*where))
        if kind == "insert":
            insert(store, "alerts_v2", [alert(f"new{step}")])
    insert(store, "alerts_v2", [alert("b2")], tenant=TENANT_B)
    other_after = _state(store, TENANT_B)
    snapshots.restore(store, TENANT_A, "base")
    assert _state(store, TENANT_A) == before
    assert _state(store, TENANT_B) == other_after != other


@pytest.mark.slow
def test_restoring_10000_alerts_takes_under_2_seconds(store: Store) -> None:
    """On both databases: PostgreSQL once planned this restore as a 10,000 x 10,000 loop (28 s)."""
    records = generate_alerts(
        10_000, seed=3, tenant_id=TENANT_A, start=datetime(2025, 1, 1, tzinfo=UTC), span_days=30
    )
    import_records(
        store, "security/alerts_v2", ((str(n), r) for n, r in enumerate(records)), tenant=TENANT_A
    )
    snapshots.save(store, TENANT_A, "base")
    table = store.tables["alerts_v2"]
    with store.engine.begin() as conn:
        first = conn.execute(select(table.c.id).limit(100)).scalars().all()
        conn.execute(update(table).where(table.c.id.in_(first)).values(title="changed"))
    started = time.perf_counter()
    restored = snapshots.restore(store, TENANT_A, "base")
    took = time.perf_counter() - started
    assert restored.counts["alerts_v2"] == 10_000
    assert took < 2, f"restore took {took:.2f} s"
    with store.engine.connect() as conn:
        assert conn.execute(select(table.c.id).where(table.c.title == "changed")).all() == []


def test_restore_while_the_tenant_is_being_written(store: Store) -> None:
    """Writers change two alerts together; readers must never see them disagree, restores or not."""
    import threading

    snapshots.reset(store, TENANT_A)
    insert(store, "alerts_v2", [alert("a1", title="t"), alert("a2", title="t")])
    snapshots.save(store, TENANT_A, "base")
    table = store.tables["alerts_v2"]
    stop = threading.Event()
    problems: list[str] = []

    def write() -> None:
        number = 0
        while not stop.is_set():
            number += 1
            try:
                with store.engine.begin() as conn:
                    for key in ("a1", "a2"):
                        conn.execute(
                            update(table)
                            .where(table.c[TENANT] == TENANT_A, table.c.id == key)
                            .values(title=f"w{number}")
                        )
            except Exception as exc:  # a writer that loses a deadlock retries, as a client would
                if "deadlock" not in str(exc):
                    problems.append(repr(exc))

    def read() -> None:
        while not stop.is_set():
            with store.engine.connect() as conn:
                titles = dict(
                    conn.execute(
                        select(table.c.id, table.c.title).where(table.c[TENANT] == TENANT_A)
                    ).all()
                )
            if titles.get("a1") != titles.get("a2") or len(titles) != 2:
                problems.append(f"half-restored: {titles}")

    threads = [threading.Thread(target=write), threading.Thread(target=read)]
    for thread in threads:
        thread.start()
    try:
        for _ in range(15):
            snapshots.restore(store, TENANT_A, "base")
    finally:
        stop.set()
        for thread in threads:
            thread.join()
    assert problems == []
