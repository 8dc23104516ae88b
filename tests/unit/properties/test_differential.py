"""Differential: random filters over random alerts give the same ids from SQL (SQLite and
PostgreSQL) as from the pure-Python reference evaluator."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import delete, select
from tests.odata.helpers import context, insert
from tests.reference import matches

from alertgraph.odata import list_collection
from alertgraph.odata.query import bind_query
from alertgraph.schema.endpoints import entity_set
from alertgraph.store import codec
from alertgraph.store.database import TENANT, Store

from .strategies import alert_filters, alert_rows, filters_401

ALERTS = entity_set("alerts_v2")


def _reset(store: Store, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    table = store.tables["alerts_v2"]
    with store.engine.begin() as conn:
        conn.execute(delete(table))
    insert(store, "alerts_v2", rows)
    with store.engine.connect() as conn:
        return [
            dict(r) for r in conn.execute(select(table).where(table.c[TENANT] == "t1")).mappings()
        ]


@given(rows=alert_rows(), text=alert_filters)
def test_sql_matches_reference(store: Store, rows: list[dict[str, Any]], text: str) -> None:
    _check(store, rows, text)


def _check(store: Store, rows: list[dict[str, Any]], text: str) -> None:
    stored = _reset(store, rows)
    query = bind_query(ALERTS, {"$filter": text})
    assert query.filter is not None
    now = codec.now_ticks()
    expected = sorted(row["id"] for row in stored if matches(query.filter, row, now))
    body = list_collection(context(store), ALERTS, "$top=2000&$filter=" + quote(text))
    assert sorted(item["id"] for item in body["value"]) == expected, text


@given(
    rows=alert_rows(),
    text=st.one_of(
        filters_401(),
        st.tuples(filters_401(), alert_filters).map(lambda t: f"({t[0]}) or not ({t[1]})"),
    ),
)
def test_401_additions_match_reference(store: Store, rows: list[dict[str, Any]], text: str) -> None:
    """$count of collections, type-cast collections and JSON arrays, oversampled."""
    _check(store, rows, text)
