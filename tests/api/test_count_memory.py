"""A remembered ``$count`` (odata/counts.py) is exact: every kind of change to a tenant's data makes
the next count fresh, in this process and in another that shares the database, and a count asked
while writers commit is never older than the data at the moment it was asked."""

from __future__ import annotations

import threading
import time
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from alertgraph.emulator import snapshots
from alertgraph.odata.counts import counts_of
from alertgraph.rules.alerts_incidents import update_alert
from alertgraph.schema.endpoints import entity_set
from alertgraph.settings import Settings
from alertgraph.store.database import TENANT, Store
from alertgraph.store.importer import import_records
from alertgraph.store.transaction import Actor, run_write
from tests.api.conftest import TENANT_A, TENANT_B, alert, insert
from tests.factories import app_client, bearer, built_app, mint

ALERTS = "/beta/security/alerts_v2"
NEW = "$filter=status eq 'new'"
PAGE = f"{ALERTS}?{NEW}&$count=true&$top=1"
SEGMENT = f"{ALERTS}/$count?{NEW}"


def _truth(store: Store, status: str = "new", tenant: str = TENANT_A) -> int:
    """The count, straight from the table (no memory involved)."""
    table = store.tables["alerts_v2"]
    stored = store.codec.to_column(store.properties("alerts_v2")["status"].type, status, "status")
    with store.engine.connect() as conn:
        return int(
            conn.execute(
                select(func.count())
                .select_from(table)
                .where(table.c[TENANT] == tenant, table.c.status == stored)
            ).scalar_one()
        )


def _asked(client: Any, headers: dict[str, str]) -> tuple[int, int]:
    """The count as a page's @odata.count and as the /$count segment."""
    page = client.get(PAGE, headers=headers)
    segment = client.get(SEGMENT, headers=headers)
    assert page.status_code == 200, page.text
    assert segment.status_code == 200, segment.text
    return page.json()["@odata.count"], int(segment.text)


def _patch(client: Any, headers: dict[str, str], key: str, status: str) -> None:
    response = client.patch(f"{ALERTS}/{key}", headers=headers, json={"status": status})
    assert response.status_code == 200, response.text


def test_a_repeated_count_is_remembered_until_the_tenants_clock_moves(
    client: Any, store: Store, headers: dict[str, str]
) -> None:
    """The memory is really used: a row written around alertgraph (no clock) is not counted
    until the clock moves; then it is."""
    insert(store, "alerts_v2", [alert("a1"), alert("a2")])
    assert _asked(client, headers) == (2, 2)
    assert len(counts_of(store)) == 2
    table = store.tables["alerts_v2"]
    row = {**store.to_row(entity_set("alerts_v2"), alert("a3")), TENANT: TENANT_A}
    with store.engine.begin() as conn:  # a writer that bypasses alertgraph: the clock stays
        conn.execute(table.insert(), [row])
    assert _truth(store) == 3
    assert _asked(client, headers) == (2, 2)
    # a Graph write that changes no status still moves the clock
    response = client.patch(f"{ALERTS}/a1", headers=headers, json={"assignedTo": "x@contoso.com"})
    assert response.status_code == 200, response.text
    assert _asked(client, headers) == (3, 3)


def test_every_kind_of_write_makes_the_next_count_fresh(
    client: Any, store: Store, headers: dict[str, str]
) -> None:
    insert(store, "alerts_v2", [alert(f"a{n}") for n in range(5)])
    snapshots.save(store, TENANT_A, "five-new")
    steps: list[tuple[str, Any]] = [
        ("PATCH", lambda: _patch(client, headers, "a0", "resolved")),
        (
            "import",
            lambda: import_records(
                store,
                "security/alerts_v2",
                [("r", alert("i1")), ("r", alert("i2"))],
                tenant=TENANT_A,
            ),
        ),
        (
            "run_write",
            lambda: run_write(
                store,
                Actor(TENANT_A, "tester", None, "req"),
                lambda tx: update_alert(tx, "a1", {"status": "inProgress"}),
            ),
        ),
        ("restore", lambda: snapshots.restore(store, TENANT_A, "five-new")),
        ("reset", lambda: snapshots.reset(store, TENANT_A)),
    ]
    expected = [4, 6, 5, 5, 0]
    for (name, change), count in zip(steps, expected, strict=True):
        _asked(client, headers)  # remembered before the change
        change()
        assert _asked(client, headers) == (count, count) == (_truth(store),) * 2, name


def test_a_count_remembered_by_one_replica_follows_anothers_writes(
    client: Any, store: Store, headers: dict[str, str], settings: Settings
) -> None:
    insert(store, "alerts_v2", [alert("a1"), alert("a2"), alert("a3")])
    assert _asked(client, headers) == (3, 3)
    with built_app(settings) as other, app_client(other) as other_client:
        _patch(other_client, bearer(mint(other)), "a2", "resolved")
    assert _asked(client, headers) == (2, 2)


def test_tenants_do_not_share_remembered_counts(client: Any, app: Any, store: Store) -> None:
    insert(store, "alerts_v2", [alert("a1"), alert("a2")], tenant=TENANT_A)
    insert(store, "alerts_v2", [alert("b1")], tenant=TENANT_B)
    for _ in range(2):
        assert _asked(client, bearer(mint(app, TENANT_A))) == (2, 2)
        assert _asked(client, bearer(mint(app, TENANT_B))) == (1, 1)
    # a write in B moves B's clock only; A's remembered count is still exact
    _patch(client, bearer(mint(app, TENANT_B)), "b1", "resolved")
    assert _asked(client, bearer(mint(app, TENANT_B))) == (0, 0)
    assert _asked(client, bearer(mint(app, TENANT_A))) == (2, 2)


#: resolved alerts under the writers' own (about 2 ms of counting)
BASE = 20_000

#: one writer's steps: an alert to resolve (over HTTP, or through run_write holding its
#: transaction open after taking the clock) or a resolved alert to import, and a pause
steps = st.lists(
    st.tuples(st.sampled_from(["http", "held", "import"]), st.floats(0, 0.02)),
    min_size=3,
    max_size=8,
)


@settings(
    max_examples=5, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(plans=st.lists(steps, min_size=1, max_size=3))
def test_a_count_is_never_older_than_the_data_it_was_asked_of(
    client: Any, store: Store, headers: dict[str, str], plans: list[list[tuple[str, float]]]
) -> None:
    """Writers only ever add resolved alerts, so the true count only grows: each count asked
    while they commit lies between the truth just before it was asked and just after."""
    if not _truth(store, "resolved"):
        # enough matching rows that counting takes a while: writers commit during it
        insert(store, "alerts_v2", [alert(f"base{n}", status="resolved") for n in range(BASE)])
    run = f"{time.monotonic_ns()}"
    fresh = [f"{run}-{w}-{s}" for w, plan in enumerate(plans) for s in range(len(plan))]
    insert(store, "alerts_v2", [alert(key) for key in fresh])
    url = f"{ALERTS}?$filter=status eq 'resolved'&$count=true&$top=0"
    errors: list[BaseException] = []

    def writer(number: int, plan: list[tuple[str, float]]) -> None:
        actor = Actor(TENANT_A, f"writer{number}", None, f"req-{number}")
        try:
            for step, (how, pause) in enumerate(plan):
                key = f"{run}-{number}-{step}"
                if how == "http":
                    _patch(client, headers, key, "resolved")
                elif how == "held":

                    def held(tx: Any, key: str = key, pause: float = pause) -> Any:
                        changed = update_alert(tx, key, {"status": "resolved"})
                        time.sleep(pause)  # the clock is taken; the commit comes late
                        return changed

                    run_write(store, actor, held)
                else:
                    record = alert(f"{key}-imported", status="resolved")
                    import_records(store, "security/alerts_v2", [("r", record)], tenant=TENANT_A)
                time.sleep(pause)
        except BaseException as exc:  # reported by the reader
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=item) for item in enumerate(plans)]
    for thread in threads:
        thread.start()
    asked = 0
    while any(thread.is_alive() for thread in threads) or asked < 3:
        before = _truth(store, "resolved")
        response = client.get(url, headers=headers)
        after = _truth(store, "resolved")
        assert response.status_code == 200, response.text
        assert before <= response.json()["@odata.count"] <= after
        asked += 1
    for thread in threads:
        thread.join()
    assert not errors, errors
    final = client.get(url, headers=headers).json()["@odata.count"]
    assert final == _truth(store, "resolved")
