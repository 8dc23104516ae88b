"""Kept plans answer exactly what a fresh read answers, on every page, as data changes.

The reference is the read whose plans are never kept (the cache is emptied before each request)
and whose entities are shaped from their columns (``raw`` off); the candidates are the same
request answered from stored JSON, first when its plan is made and again when the kept plan
serves it, and the shaped read again through its kept plans. The store (and its plans) lives
across the examples, so plans made for earlier rows serve later ones.
"""

from __future__ import annotations

import dataclasses
from typing import Any
from urllib.parse import quote, urlsplit

import orjson
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import delete
from tests.odata.helpers import context, insert

from alertgraph.odata import get_entity, list_collection
from alertgraph.odata.plans import plans_of
from alertgraph.schema.endpoints import EntitySet, entity_set
from alertgraph.store.database import Store

from .strategies import alert_filters, alert_rows
from .test_paging_properties import orders

ALERTS = entity_set("alerts_v2")


def _bytes(body: Any) -> bytes:
    return orjson.dumps(body)


def _pages(
    store: Store, small: EntitySet, query: str, *, raw: bool, fresh: bool = False
) -> list[bytes]:
    """Every page of the collection, following next links, serialized (``fresh``: every request
    makes its plan anew)."""
    ctx = dataclasses.replace(context(store), raw=raw)
    pages: list[bytes] = []
    for _ in range(50):
        if fresh:
            plans_of(store).clear()
        body = list_collection(ctx, small, query)
        pages.append(_bytes(body))
        if "@odata.nextLink" not in body:
            return pages
        query = urlsplit(body["@odata.nextLink"]).query
    raise AssertionError("more than 50 pages")


@given(
    rows=alert_rows(count=10),
    text=st.one_of(st.none(), alert_filters),
    order=orders,
    top=st.one_of(st.none(), st.integers(1, 6)),
    count=st.booleans(),
    page_size=st.integers(1, 4),
)
def test_kept_plans_answer_as_the_full_read_path(
    store: Store,
    rows: list[dict[str, Any]],
    text: str | None,
    order: str,
    top: int | None,
    count: bool,
    page_size: int,
) -> None:
    with store.engine.begin() as conn:
        conn.execute(delete(store.tables["alerts_v2"]))
    insert(store, "alerts_v2", rows)
    options = []
    if text is not None:
        options.append("$filter=" + quote(text))
    if order:
        options.append("$orderby=" + quote(order))
    if top is not None:
        options.append(f"$top={top}")
    if count:
        options.append("$count=true")
    query = "&".join(options)
    small = dataclasses.replace(ALERTS, page_size=page_size)
    expected = _pages(store, small, query, raw=False, fresh=True)
    kept = len(plans_of(store))
    assert _pages(store, small, query, raw=True) == expected  # plans made
    made = len(plans_of(store))
    assert _pages(store, small, query, raw=True) == expected  # plans kept
    assert len(plans_of(store)) == made > kept
    assert _pages(store, small, query, raw=False) == expected  # shaped rows, plans kept
    raw_ctx = dataclasses.replace(context(store), raw=True)
    for row in rows[:3]:
        whole = _bytes(get_entity(context(store), ALERTS, row["id"], ""))
        assert _bytes(get_entity(raw_ctx, ALERTS, row["id"], "")) == whole
        assert _bytes(get_entity(raw_ctx, ALERTS, row["id"], "")) == whole
