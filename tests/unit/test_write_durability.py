"""API writes on PostgreSQL: SQLite's durability by default, the WAL flush when asked for."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from tests.conftest import fresh_pg_schema

from alertgraph.http.app import create_app
from alertgraph.settings import Settings
from alertgraph.store.database import Store
from alertgraph.store.transaction import Actor, run_write

ACTOR = Actor(tenant="t", name="analyst@contoso.com", app_id=None, request_id="r")


def _inside_a_write(store: Store) -> str:
    return str(
        run_write(
            store, ACTOR, lambda tx: tx.conn.execute(text("SHOW synchronous_commit")).scalar()
        )
    )


@pytest.mark.postgres
def test_the_setting_decides_whether_a_write_waits_for_the_wal():
    with fresh_pg_schema() as url:
        store = Store.open(url)
        try:
            create_app(Settings(database_url=url), store)
            assert _inside_a_write(store) == "off"
            create_app(Settings(database_url=url, durable_commits=True), store)
            assert _inside_a_write(store) == "on"  # pooled connections follow the setting
            store.durable_commits = False
            assert _inside_a_write(store) == "off"
        finally:
            store.engine.dispose()


def test_the_environment_variable_turns_it_on():
    assert Settings.from_env({"ALERTGRAPH_DURABLE_COMMITS": "true"}).durable_commits is True
    assert Settings.from_env({}).durable_commits is False
