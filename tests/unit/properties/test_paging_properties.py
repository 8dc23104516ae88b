"""Following @odata.nextLink for any order and page size yields every row exactly once, in the
order a single page would have."""

from __future__ import annotations

import dataclasses
from typing import Any
from urllib.parse import quote, urlsplit

from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import delete
from tests.odata.helpers import context, insert

from alertgraph.odata import list_collection
from alertgraph.schema.endpoints import entity_set
from alertgraph.store.database import Store

from .strategies import alert_rows

ALERTS = entity_set("alerts_v2")
KEYS = [
    "severity",
    "status",
    "assignedTo",
    "title",
    "createdDateTime",
    "lastUpdateDateTime",
    "length(title)",
    "id",
]

orders = st.lists(
    st.tuples(st.sampled_from(KEYS), st.sampled_from(["", " asc", " desc"])),
    min_size=0,
    max_size=3,
    unique_by=lambda t: t[0],
).map(lambda items: ",".join(key + direction for key, direction in items))


@given(
    rows=alert_rows(count=14),
    order=orders,
    page=st.integers(1, 4),
    top=st.one_of(st.none(), st.integers(1, 12)),
    skip=st.integers(0, 3),
)
def test_next_links_visit_every_row_once(
    store: Store, rows: list[dict[str, Any]], order: str, page: int, top: int | None, skip: int
) -> None:
    with store.engine.begin() as conn:
        conn.execute(delete(store.tables["alerts_v2"]))
    insert(store, "alerts_v2", rows)
    options = [f"$orderby={quote(order)}"] if order else []
    if top is not None:
        options.append(f"$top={top}")
    if skip:
        options.append(f"$skip={skip}")
    query = "&".join(options)
    whole = list_collection(context(store), ALERTS, query)
    expected = [item["id"] for item in whole["value"]]
    small = dataclasses.replace(ALERTS, page_size=page)
    seen: list[str] = []
    body = list_collection(context(store), small, query)
    for _ in range(100):
        seen += [item["id"] for item in body["value"]]
        if "@odata.nextLink" not in body:
            break
        assert body["value"], "a next link after an empty page"
        body = list_collection(context(store), small, urlsplit(body["@odata.nextLink"]).query)
    assert seen == expected
    assert len(expected) == min(max(len(rows) - skip, 0), top if top is not None else 10**6)
