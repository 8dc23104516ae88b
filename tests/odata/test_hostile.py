"""Hostile and malformed requests end as 400s with a message, never 500s, on both engines."""

from __future__ import annotations

from urllib.parse import quote

import pytest

from alertgraph.errors import ODataError
from alertgraph.odata import list_collection
from alertgraph.schema.endpoints import entity_set
from alertgraph.store.database import Store

from .helpers import alert, context, insert

ALERTS = entity_set("alerts_v2")


@pytest.mark.parametrize(
    ("raw_query", "message"),
    [
        ("$filter=title%20eq%20%27a%00b%27", "NUL character"),
        ("$filter=title%20eq%20%27%FF%FE%27", "not valid UTF-8"),
        ("%FF=1", "not valid UTF-8"),
        ("$filter=" + "(" * 2000 + "true" + ")" * 2000, "nests deeper"),
        ("$filter=" + "%20or%20".join(["true"] * 10_000), "more than 1000 nodes"),
        ("$filter=title%20eq%20%27" + "x" * 1_000_000 + "%27", "characters long"),
        ("$filter=title%20eq%20%27x%27%3B%20DROP%20TABLE%20security_alerts%3B--", "unexpected"),
        ("$orderby=title;DROP", "unexpected character ';'"),
        ("$top=99999999999999999999999", "limit of '2000'"),
        ("$skip=1e3", "whole number"),
        ("$skip=99999999999999999999", "between 0 and 2147483647"),
    ],
)
def test_hostile(store: Store, raw_query: str, message: str) -> None:
    insert(store, "alerts_v2", [alert(1)])
    with pytest.raises(ODataError) as caught:
        list_collection(context(store), ALERTS, raw_query)
    assert caught.value.status == 400
    assert message in caught.value.message


def test_a_long_select_of_one_property_is_that_property(store: Store) -> None:
    insert(store, "alerts_v2", [alert(1)])
    body = list_collection(context(store), ALERTS, "$select=" + ",".join(["id"] * 5000))
    assert [item["id"] for item in body["value"]] == ["a001"]
    assert set(body["value"][0]) == {"@odata.type", "id"}


def test_integer_overflow_in_filter(store: Store) -> None:
    """Both engines refuse an overflowing Int64 with a 400 (SQLite would widen it to a float and
    answer, so its arithmetic is checked)."""
    insert(store, "alerts_v2", [alert(1)])
    raw_query = "$filter=length(title)%20mul%209223372036854775807%20mul%209%20gt%201"
    with pytest.raises(ODataError) as caught:
        list_collection(context(store), ALERTS, raw_query)
    assert caught.value.status == 400
    cause = "bigint out of range" if store.dialect == "postgresql" else "beyond the Int64 range"
    assert "could not be evaluated (" in caught.value.message
    assert cause in caught.value.message


def test_injection_text_is_data(store: Store) -> None:
    text = "x'); DELETE FROM security_alerts; --"
    insert(store, "alerts_v2", [alert(1, title=text), alert(2)])
    body = list_collection(
        context(store), ALERTS, "$filter=" + quote("title eq '" + text.replace("'", "''") + "'")
    )
    assert [item["id"] for item in body["value"]] == ["a001"]
    assert len(list_collection(context(store), ALERTS, "")["value"]) == 2
