"""A ``ge`` cursor on lastUpdateDateTime misses no change, whatever order writers commit in.

Writers run in threads: some PATCH over HTTP, others write through ``run_write`` and hold their
transaction open a while after it was stamped (the case that loses changes when the stamp is taken
before the writer is serialized). A poller follows ``$filter=lastUpdateDateTime ge <cursor>`` with
``$orderby=lastUpdateDateTime asc`` and small pages meanwhile; every committed change must show up
in some poll with its stamp or a later one.
"""

from __future__ import annotations

import threading
import time
from typing import Any
from urllib.parse import quote

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from alertgraph.rules.alerts_incidents import update_alert
from alertgraph.store.codec import format_datetime, now_ticks, parse_datetime
from alertgraph.store.transaction import Actor, run_write
from tests.api.conftest import TENANT_A, alert, insert
from tests.api.test_workflow_alerts import ALERT_URL

ALERT_IDS = [f"cur{n}" for n in range(6)]


class Poller:
    """A connector's poll loop: ge cursor, ascending order, follow every nextLink."""

    def __init__(self, client: Any, headers: dict[str, str], cursor: str) -> None:
        self.client = client
        self.headers = headers
        self.cursor = cursor
        self.seen: list[tuple[str, int]] = []

    def poll(self) -> None:
        query = (
            f"$filter={quote(f'lastUpdateDateTime ge {self.cursor}')}"
            "&$orderby=lastUpdateDateTime%20asc&$top=3&$select=id,lastUpdateDateTime"
        )
        url: str | None = f"{ALERT_URL}?{query}"
        newest = parse_datetime(self.cursor)
        while url is not None:
            response = self.client.get(url, headers=self.headers)
            assert response.status_code == 200, response.text
            body = response.json()
            for item in body["value"]:
                stamp = parse_datetime(item["lastUpdateDateTime"])
                self.seen.append((item["id"], stamp))
                newest = max(newest, stamp)
            url = body.get("@odata.nextLink")
        self.cursor = format_datetime(newest)


writes = st.lists(
    st.tuples(
        st.sampled_from(ALERT_IDS),
        st.booleans(),  # over HTTP, or through run_write holding the transaction open
        st.floats(min_value=0, max_value=0.03),
    ),
    min_size=4,
    max_size=14,
)


@settings(
    max_examples=6, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(plan=st.lists(writes, min_size=2, max_size=4))
def test_a_ge_cursor_poller_misses_no_change(client, store, headers, plan) -> None:
    with store.engine.begin() as conn:
        conn.execute(store.tables["alerts_v2"].delete())
    insert(store, "alerts_v2", [alert(key) for key in ALERT_IDS])
    poller = Poller(client, headers, format_datetime(now_ticks()))
    committed: list[tuple[str, int]] = []
    direct: list[int] = []  # stamps of run_write transactions, as they committed them
    lock = threading.Lock()

    def writer(number: int, steps: list[tuple[str, bool, float]]) -> None:
        actor = Actor(TENANT_A, f"writer{number}", None, f"req-{number}")
        for step, (key, over_http, delay) in enumerate(steps):
            value = f"w{number}-{step}"
            if over_http:
                response = client.patch(
                    f"{ALERT_URL}/{key}", json={"assignedTo": value}, headers=headers
                )
                assert response.status_code == 200, response.text
                stamp = parse_datetime(response.json()["lastUpdateDateTime"])
            else:

                def slow(tx: Any, key: str = key, value: str = value, delay: float = delay) -> Any:
                    time.sleep(delay)  # stamped already; commits late
                    return update_alert(tx, key, {"assignedTo": value})

                stamp = parse_datetime(run_write(store, actor, slow)["lastUpdateDateTime"])
                with lock:
                    direct.append(stamp)
            with lock:
                committed.append((key, stamp))

    threads = [
        threading.Thread(target=writer, args=(number, steps)) for number, steps in enumerate(plan)
    ]
    for thread in threads:
        thread.start()
    while any(thread.is_alive() for thread in threads):
        poller.poll()
    for thread in threads:
        thread.join()
    poller.poll()
    missed = [
        (key, format_datetime(stamp))
        for key, stamp in committed
        if not any(seen == key and at >= stamp for seen, at in poller.seen)
    ]
    assert not missed
    # Every transaction got its own instant. (A PATCH answers the entity as read after its commit,
    # possibly already changed again, so only run_write's own results are compared.)
    assert len(set(direct)) == len(direct)
