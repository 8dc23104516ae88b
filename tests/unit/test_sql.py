"""Rendered SQL: a few compiled strings per dialect, bound parameters only, index use."""

from __future__ import annotations

import time
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from alertgraph.odata.query import bind_query
from alertgraph.odata.sql import Renderer
from alertgraph.schema.edm import load_model
from alertgraph.schema.endpoints import entity_set
from alertgraph.store.database import TABLES, TENANT, Store

ALERTS = entity_set("alerts_v2")
TABLE = TABLES["alerts_v2"]


def render(text: str, dialect: str) -> str:
    query = bind_query(ALERTS, {"$filter": text})
    assert query.filter is not None
    renderer = Renderer(load_model(), dialect, {0: TABLE}, query.scope_sets, now=0, tenant="t")
    where = renderer.where(query.filter)
    engine_dialect: Any = postgresql.dialect() if dialect == "postgresql" else sqlite.dialect()
    return str(sa.select(TABLE.c.id).where(where).compile(dialect=engine_dialect))


def where_clause(sql: str) -> str:
    return sql.split("WHERE ", 1)[1]


@pytest.mark.parametrize(
    ("text", "dialect", "expected"),
    [
        ("severity eq 'high'", "sqlite", "security_alerts.severity = ?"),
        (
            "assignedTo ne 'x'",
            "sqlite",
            'security_alerts."assignedTo" != ? OR security_alerts."assignedTo" IS NULL',
        ),
        (
            "not (assignedTo eq 'x')",
            "postgresql",
            'security_alerts."assignedTo" != %(param_1)s::VARCHAR OR security_alerts."assignedTo"'
            " IS NULL",
        ),
        ("assignedTo eq null", "sqlite", 'security_alerts."assignedTo" IS NULL'),
        ("contains(title, '%_')", "sqlite", "instr(security_alerts.title, ?) > ?"),
        (
            "contains(title, '%_')",
            "postgresql",
            "strpos(security_alerts.title, %(param_1)s::VARCHAR) > %(strpos_1)s::INTEGER",
        ),
        ("mitreTechniques/any(t: t eq 'x')", "postgresql", "jsonb_array_elements_text"),
        ("mitreTechniques/any(t: t eq 'x')", "sqlite", "json_each"),
    ],
)
def test_compiled_where(text: str, dialect: str, expected: str) -> None:
    assert expected in where_clause(render(text, dialect))


def test_sqlite_parses_a_collection_column_once_per_row() -> None:
    """A collection's own column is told an array by its first character, not by ``json_type``
    (which would parse the row's JSON before ``json_each`` parses it again); a collection inside
    a complex value, which may hold anything JSON can, keeps ``json_type``."""
    column = where_clause(render("evidence/any(e: e/verdict eq 'malicious')", "sqlite"))
    assert "json_each(CASE WHEN (substr(security_alerts.evidence, ?, ?) = ?)" in column
    assert "json_type" not in column
    nested = where_clause(
        render(
            "evidence/any(e: e/microsoft.graph.security.deviceEvidence/ipInterfaces/"
            "any(i: i eq '10.0.0.1'))",
            "sqlite",
        )
    )
    assert "json_each(CASE WHEN (substr(security_alerts.evidence, ?, ?) = ?)" in nested
    assert "json_each(CASE WHEN (json_type(json_extract(" in nested


def test_values_are_always_bound_parameters() -> None:
    hostile = "title eq 'x''; DROP TABLE security_alerts; --'"
    for dialect in ("sqlite", "postgresql"):
        sql = render(hostile, dialect)
        assert "DROP" not in sql
    sql = render(
        "evidence/any(e: e/microsoft.graph.security.userEvidence/userAccount/"
        "userPrincipalName eq 'a')",
        "sqlite",
    )
    assert "'a'" not in sql


def _seed(store: Store, crowd: int = 0) -> None:
    """2,000 alerts over 20 tenants; ``crowd`` more of tenant t1 (the context's), high and new."""
    rows = []
    for number in range(2000):
        rows.append(
            {
                TENANT: f"t{number % 20}",
                "id": f"a{number:05d}",
                "_type": "microsoft.graph.security.alert",
                "severity": [32, 64, 128, 256][number % 4],
                "status": [2, 4, 8][number % 3],
                "createdDateTime": 638501184000000000 + number * 10_000_000,
            }
        )
    for number in range(crowd):
        rows.append(
            {
                TENANT: "t1",
                "id": f"c{number:05d}",
                "_type": "microsoft.graph.security.alert",
                "severity": 256,
                "status": 2,
                "createdDateTime": 638501184000000000 - number * 10_000_000,
            }
        )
    with store.engine.begin() as conn:
        conn.execute(TABLES["alerts_v2"].insert(), rows)
        if store.dialect == "sqlite":
            conn.execute(sa.text("ANALYZE"))
    if store.dialect == "postgresql":  # statistics and the visibility map, as an import leaves
        with store.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            # a transaction of another test worker on the same server can hold VACUUM back
            # from marking the pages all-visible; try again until it has (as an idle server does)
            for _ in range(50):
                conn.execute(sa.text("VACUUM (ANALYZE) security_alerts"))
                pages, visible = conn.execute(
                    sa.text(
                        "SELECT relpages, relallvisible FROM pg_class "
                        "WHERE oid = 'security_alerts'::regclass"
                    )
                ).one()
                if visible >= pages:
                    break
                time.sleep(0.1)


def _kept(store: Store, raw_query: str) -> Any:
    """The plan that reading ``raw_query`` keeps: its statements exactly as sent."""
    from tests.odata.helpers import context

    from alertgraph.odata import list_collection
    from alertgraph.odata.plans import plans_of

    plans_of(store).clear()
    list_collection(context(store), ALERTS, raw_query)
    (kept,) = plans_of(store).kept()
    return kept


def _explain(store: Store, statement: str, parameters: Any) -> str:
    assert "security_alerts" in statement, statement
    prefix = "EXPLAIN " if store.dialect == "postgresql" else "EXPLAIN QUERY PLAN "
    with store.engine.connect() as conn:
        if store.dialect == "postgresql":
            conn.execute(sa.text("SET enable_seqscan = off"))
        rows = conn.exec_driver_sql(prefix + statement, parameters).all()
    return "\n".join(str(row[-1]) for row in rows)


def _plan(store: Store, raw_query: str) -> str:
    """The plan of the page query that reading ``raw_query`` sends (same SQL, same values)."""
    kept = _kept(store, raw_query)
    return _explain(store, kept.pages[0].sql, kept.page_parameters[0])


def test_default_order_and_severity_status_filter_use_an_index(store: Store) -> None:
    _seed(store)
    plan = _plan(store, "")
    assert "ix_security_alerts_0" in plan or "Index" in plan, plan
    plan = _plan(store, "$filter=severity%20eq%20'high'%20and%20status%20eq%20'new'")
    assert "ix_security_alerts_2" in plan, plan
    if store.dialect == "sqlite":
        assert "SCAN security_alerts" not in plan.replace("USING INDEX", "")
        # the index serves createdDateTime desc; only ties (same instant) are sorted by id
        assert "USING INDEX ix_security_alerts_0" in _plan(store, "")


def test_a_filtered_count_reads_the_narrowest_index(store: Store) -> None:
    """PostgreSQL counts through the index of the filtered columns alone (its count twin), whose
    entries lie in heap order; SQLite through the filter's covering index."""
    _seed(store, crowd=3000)
    kept = _kept(store, "$filter=severity%20eq%20'high'%20and%20status%20eq%20'new'&$count=true")
    if store.dialect == "postgresql":  # the count rides along with the page
        assert kept.counted_first is not None
        plan = _explain(store, kept.counted_first.sql, kept.counted_first_parameters)
        assert "Index Only Scan using ix_security_alerts_2_count" in plan, plan
    else:
        plan = _explain(store, kept.count.sql, kept.count_parameters)
        assert "USING COVERING INDEX ix_security_alerts_2 " in plan, plan


def test_a_select_page_reads_the_stored_json_not_every_column(store: Store) -> None:
    """$select on /beta projects each row's stored Graph JSON; the evolvable-enum preference
    needs the columns, since the stored JSON holds unknownFutureValue."""
    from tests.odata.helpers import context

    from alertgraph.odata import list_collection
    from alertgraph.odata.plans import plans_of

    kept = _kept(store, "$select=id,severity")
    assert kept.projected
    assert kept.columns[0] == "_json"
    assert "severity" not in kept.columns
    plans_of(store).clear()
    list_collection(context(store, evolvable=True), ALERTS, "$select=id,severity")
    (evolvable,) = plans_of(store).kept()
    assert not evolvable.projected
    assert "severity" in evolvable.columns
