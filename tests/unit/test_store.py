import pytest
from sqlalchemy import func, select

from alertgraph.schema.endpoints import entity_set
from alertgraph.store.database import TENANT, RecordError, Store


def test_alert_round_trips_through_storage(store: Store) -> None:
    alerts = entity_set("alerts_v2")
    record = {
        "id": "da1",
        "severity": "high",
        "status": "new",
        "serviceSource": "microsoftDefenderForEndpoint",
        "createdDateTime": "2024-05-01T14:00:00.1234567+02:00",
        "evidence": [
            {
                "@odata.type": "#microsoft.graph.security.userEvidence",
                "createdDateTime": "2024-05-01T12:00:00Z",
                "remediationStatus": "none",
                "verdict": "suspicious",
                "roles": [],
                "userAccount": {"accountName": "alice", "userPrincipalName": "a@x.com"},
            }
        ],
    }
    row = store.to_row(alerts, record)
    row[TENANT] = "t1"
    table = store.tables["alerts_v2"]
    with store.engine.begin() as conn:
        conn.execute(table.insert().values(**row))
        stored = conn.execute(select(table)).mappings().one()
        assert conn.execute(select(func.count()).select_from(table)).scalar() == 1
    out = store.to_json(alerts, stored)
    assert out["createdDateTime"] == "2024-05-01T12:00:00.1234567Z"
    assert out["severity"] == "high"
    assert out["evidence"][0]["@odata.type"] == "#microsoft.graph.security.userEvidence"
    assert out["evidence"][0]["userAccount"]["userPrincipalName"] == "a@x.com"
    assert out["evidence"][0]["createdDateTime"] == "2024-05-01T12:00:00Z"
    assert out["categories"] == []
    assert out["assignedTo"] is None


def test_invalid_record_names_every_problem(store: Store) -> None:
    with pytest.raises(RecordError) as caught:
        store.to_row(
            entity_set("alerts_v2"),
            {
                "id": "x",
                "severty": "high",
                "status": "bogus",
                "createdDateTime": "2024-01-01T00:00:00",
            },
        )
    text = str(caught.value)
    assert "severty" in text
    assert "Did you mean 'severity'" in text
    assert "'bogus' is not a member of microsoft.graph.security.alertStatus" in text
    assert "createdDateTime" in text
    assert "zone" in text


def _indexes_after_dropping(
    db_url: str, dropped: list[str], tables: set[str]
) -> set[tuple[str, str]]:
    """(table, index) of ``tables`` once ``dropped`` were dropped and the database reopened."""
    from sqlalchemy import inspect, text

    opened = Store.open(db_url)
    with opened.engine.begin() as conn:
        for name in dropped:
            conn.execute(text(f'DROP INDEX "{name}"'))
    opened.engine.dispose()
    reopened = Store.open(db_url)
    try:
        with reopened.engine.connect() as conn:
            inspector = inspect(conn)
            return {
                (table, index["name"]) for table in tables for index in inspector.get_indexes(table)
            }
    finally:
        reopened.engine.dispose()


def test_opening_an_older_database_adds_the_later_indexes(db_url: str) -> None:
    from alertgraph.schema.endpoints import LATER_INDEXES
    from alertgraph.store.database import index_name

    later = {(entity_set(s).table, index_name(entity_set(s), n)) for s, n in LATER_INDEXES}
    present = _indexes_after_dropping(
        db_url, [name for _, name in later], {table for table, _ in later}
    )
    assert later <= present


def test_postgresql_gets_order_and_count_twins_of_filtered_indexes(db_url: str) -> None:
    """On PostgreSQL every declared index ending in a set's default order has a twin in that
    exact order (nulls last descending) and one of its filtered columns alone (for counts), also
    on a database opened from before they existed; SQLite gets neither."""
    from alertgraph.schema.endpoints import ENTITY_SETS
    from alertgraph.store.database import count_twins, order_twins

    twins = {
        (es.table, name) for es in ENTITY_SETS for _, name in order_twins(es) + count_twins(es)
    }
    assert ("security_alerts", "ix_security_alerts_2_order") in twins
    assert ("security_alerts", "ix_security_alerts_2_count") in twins
    postgresql = db_url.startswith("postgresql")
    dropped = ["ix_security_alerts_2_order", "ix_security_alerts_2_count"] if postgresql else []
    present = _indexes_after_dropping(db_url, dropped, {table for table, _ in twins})
    assert (twins <= present) if postgresql else not (twins & present)
