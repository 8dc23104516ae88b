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


def _edit_top(link: str, edit: tuple[str, int]) -> str:
    """A next link as a client may edit it: $top changed in place or appended (XSOAR)."""
    query = urlsplit(link).query
    how, top = edit
    if how == "keep":
        return query
    parts = query.split("&")
    if how == "change" and any(part.startswith("$top=") for part in parts):
        return "&".join(f"$top={top}" if part.startswith("$top=") else part for part in parts)
    return f"{query}&$top={top}"


@given(
    rows=alert_rows(count=14),
    order=orders,
    page=st.integers(1, 4),
    top=st.one_of(st.none(), st.integers(1, 12)),
    skip=st.integers(0, 3),
    edits=st.lists(
        st.tuples(st.sampled_from(["keep", "change", "append"]), st.integers(1, 5)),
        min_size=20,
        max_size=20,
    ),
)
def test_next_links_visit_every_row_once(
    store: Store,
    rows: list[dict[str, Any]],
    order: str,
    page: int,
    top: int | None,
    skip: int,
    edits: list[tuple[str, int]],
) -> None:
    """$top is the page size; a next link whose $top a client changed or appended continues from
    the same position with the new page size."""
    with store.engine.begin() as conn:
        conn.execute(delete(store.tables["alerts_v2"]))
    insert(store, "alerts_v2", rows)
    options = [f"$orderby={quote(order)}"] if order else []
    if skip:
        options.append(f"$skip={skip}")
    whole = list_collection(context(store), ALERTS, "&".join(options))
    expected = [item["id"] for item in whole["value"]]
    assert len(expected) == max(len(rows) - skip, 0)
    if top is not None:
        options.append(f"$top={top}")
    small = dataclasses.replace(ALERTS, page_size=page)
    seen: list[str] = []
    size = top if top is not None else page
    body = list_collection(context(store), small, "&".join(options))
    for edit in edits:
        values = [item["id"] for item in body["value"]]
        assert len(values) == min(size, len(expected) - len(seen))
        seen += values
        if "@odata.nextLink" not in body:
            break
        assert body["value"], "a next link after an empty page"
        if edit[0] != "keep":
            size = edit[1]
        body = list_collection(context(store), small, _edit_top(body["@odata.nextLink"], edit))
    else:
        assert "@odata.nextLink" not in body
        seen += [item["id"] for item in body["value"]]
    assert seen == expected
