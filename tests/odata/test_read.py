"""list_collection / get_entity / count_collection on both engines."""

from __future__ import annotations

from urllib.parse import parse_qsl, quote, urlsplit

import pytest

from alertgraph.errors import NotFound, ODataError
from alertgraph.odata import count_collection, get_entity, list_collection
from alertgraph.schema.endpoints import entity_set
from alertgraph.store.database import Store

from .helpers import ROOT, alert, context, insert

ALERTS = entity_set("alerts_v2")


def q(**options: str) -> str:
    return "&".join(f"${name}={quote(value, safe=',')}" for name, value in options.items())


def ids(body) -> list[str]:
    return [item["id"] for item in body["value"]]


@pytest.fixture
def alerts(store: Store) -> Store:
    insert(store, "alerts_v2", [alert(i) for i in range(12)])
    insert(store, "alerts_v2", [alert(99, title="other tenant")], tenant="t2")
    return store


def test_default_order_is_newest_first_then_id(alerts: Store) -> None:
    body = list_collection(context(alerts), ALERTS, "")
    assert body["@odata.context"] == f"{ROOT}/$metadata#security/alerts_v2"
    created = [item["createdDateTime"] for item in body["value"]]
    assert created == sorted(created, reverse=True)
    assert "a099" not in ids(body)
    assert len(body["value"]) == 12
    assert "@odata.nextLink" not in body


def test_filter_enum_and_in(alerts: Store) -> None:
    body = list_collection(
        context(alerts), ALERTS, q(filter="severity eq 'high' and status in ('new','resolved')")
    )
    for item in body["value"]:
        assert item["severity"] == "high"
        assert item["status"] in ("new", "resolved")
    assert sorted(ids(body)) == ["a002", "a006"]


def test_ne_keeps_nulls(store: Store) -> None:
    insert(store, "alerts_v2", [alert(1, assignedTo=None), alert(2, assignedTo="bob")])
    body = list_collection(context(store), ALERTS, q(filter="assignedTo ne 'bob'"))
    assert ids(body) == ["a001"]
    body = list_collection(context(store), ALERTS, q(filter="not (assignedTo eq 'bob')"))
    assert ids(body) == ["a001"]
    body = list_collection(context(store), ALERTS, q(filter="assignedTo eq null"))
    assert ids(body) == ["a001"]
    body = list_collection(context(store), ALERTS, q(filter="assignedTo gt 'a'"))
    assert ids(body) == ["a002"]


def test_datetime_filter_and_count(alerts: Store) -> None:
    body = list_collection(
        context(alerts),
        ALERTS,
        q(filter="createdDateTime ge 2024-05-06T00:00:00Z", count="true", top="2"),
    )
    assert body["@odata.count"] == 7
    assert len(body["value"]) == 2
    # $top is the page size (spec 4.7): the next link keeps it and the count
    link_options = dict(parse_qsl(urlsplit(body["@odata.nextLink"]).query))
    assert (link_options["$top"], link_options["$count"]) == ("2", "true")
    assert count_collection(context(alerts), ALERTS, q(filter="createdDateTime ge 2024-05-06")) == 7


def test_select_projects_and_context(alerts: Store) -> None:
    body = list_collection(context(alerts), ALERTS, q(select="id,title", top="1"))
    assert body["@odata.context"] == f"{ROOT}/$metadata#security/alerts_v2(id,title)"
    assert set(body["value"][0]) == {"@odata.type", "id", "title"}


def test_keyset_paging_visits_every_row_once(alerts: Store) -> None:
    ctx = context(alerts)
    insert(alerts, "alerts_v2", [alert(i) for i in range(100, 250)])
    seen: list[str] = []
    query = q(filter="severity ne 'low'", orderby="severity desc,title")
    body = list_collection(ctx, ALERTS, query)
    pages = 1
    while "@odata.nextLink" in body:
        link = urlsplit(body["@odata.nextLink"])
        assert link.scheme == "http"
        assert link.path == "/beta/security/alerts_v2"
        assert "$filter=" in link.query
        seen += ids(body)
        body = list_collection(ctx, ALERTS, link.query)
        pages += 1
    seen += ids(body)
    expected = count_collection(ctx, ALERTS, q(filter="severity ne 'low'"))
    assert pages == 2
    assert len(seen) == len(set(seen)) == expected


def test_skiptoken_bound_to_tenant_and_query(alerts: Store) -> None:
    insert(alerts, "alerts_v2", [alert(i) for i in range(100, 250)])
    body = list_collection(context(alerts), ALERTS, "")
    query = urlsplit(body["@odata.nextLink"]).query
    with pytest.raises(ODataError, match=r"\$skiptoken"):
        list_collection(context(alerts, tenant="t2"), ALERTS, query)
    with pytest.raises(ODataError, match=r"\$skiptoken"):
        list_collection(context(alerts), ALERTS, query.replace("$skiptoken=", "$skiptoken=x"))
    with pytest.raises(ODataError, match=r"\$skiptoken"):
        list_collection(context(alerts), ALERTS, query + "&$filter=status eq 'new'")


def test_get_entity_and_not_found(alerts: Store) -> None:
    body = get_entity(context(alerts), ALERTS, "a003", q(select="title"))
    assert body["@odata.context"] == f"{ROOT}/$metadata#security/alerts_v2(title)/$entity"
    assert body["title"] == "Alert 3"
    with pytest.raises(NotFound, match="a099"):
        get_entity(context(alerts), ALERTS, "a099", "")


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("$expand=x", "Query option '$expand' is not allowed"),
        ("$top=1&$TOP=2", "more than once"),
        ("$fitler=x", "Did you mean '$filter'"),
        ("$top=3000", "limit of '2000'"),
        ("$filter=severty eq 'high'", "Did you mean 'severity'"),
        ("$filter=severity eq 'hgh'", "Did you mean 'high'"),
        ("$search=foo", "Query option '$search' is not allowed"),
    ],
)
def test_invalid_options(alerts: Store, query: str, message: str) -> None:
    with pytest.raises(ODataError, match=message.replace("$", r"\$").replace("(", r"\(")):
        list_collection(context(alerts), ALERTS, query)


def test_beta_dollar_optional_and_plus_is_space(alerts: Store) -> None:
    body = list_collection(context(alerts), ALERTS, "filter=severity+eq+'high'&Top=1")
    assert len(body["value"]) == 1
    with pytest.raises(ODataError):
        list_collection(
            context(alerts, root="http://x/v1.0"), ALERTS, "filter=severity+eq+'high'&$top=x"
        )
    body = list_collection(context(alerts, root="http://x/v1.0"), ALERTS, "filter=nonsense")
    assert len(body["value"]) == 12  # not a system option on v1.0: ignored as Graph does


def test_pim_scope_filter_required(store: Store) -> None:
    pim = entity_set("pim_alerts")
    with pytest.raises(ODataError, match="scopeType eq 'DirectoryRole'"):
        list_collection(context(store), pim, "")
    with pytest.raises(ODataError, match="scopeId eq '/'"):
        list_collection(
            context(store), pim, q(filter="scopeId eq 'x' and scopeType eq 'DirectoryRole'")
        )
    body = list_collection(
        context(store), pim, q(filter="scopeId eq '/' and scopeType eq 'DirectoryRole'")
    )
    assert body["value"] == []
