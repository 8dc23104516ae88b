"""The Citus layout: tenant leads every key, and the generated DDL is what Citus expects.

Citus itself is not installed here; the PostgreSQL test runs the real schema statements and the
distribution calls against stand-in functions with Citus's signatures, which checks that every table
name resolves as a regclass and that the named arguments are accepted.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator

import pytest
from sqlalchemy import (
    Column,
    Index,
    MetaData,
    String,
    Table,
    UniqueConstraint,
    create_engine,
    text,
)
from tests.conftest import fresh_pg_schema

from alertgraph.ops import citus
from alertgraph.schema.endpoints import ENTITY_SETS
from alertgraph.store.database import METADATA, TABLES, TENANT


def _first_column_name(expression: object) -> str | None:
    element = getattr(expression, "element", expression)  # unwrap DESC
    return getattr(element, "name", None)


def test_tenant_leads_every_primary_key_and_index() -> None:
    tenant_tables = [table for table in METADATA.sorted_tables if TENANT in table.c]
    assert {entity_set.table for entity_set in ENTITY_SETS} <= {t.name for t in tenant_tables}
    for table in tenant_tables:
        assert next(iter(table.primary_key.columns)).name == TENANT, table.name
        for index in table.indexes:
            assert _first_column_name(next(iter(index.expressions))) == TENANT, index.name
    assert citus.layout_problems() == []


def test_layout_problems_name_the_table_and_index() -> None:
    metadata = MetaData()
    Table(
        "bad",
        metadata,
        Column("id", String(10), primary_key=True),
        Column(TENANT, String(10), primary_key=True),
    )
    good = Table(
        "good",
        metadata,
        Column(TENANT, String(10), primary_key=True),
        Column("id", String(10), primary_key=True),
        Column("x", String(10)),
    )
    Index("ix_good_x", good.c.x)
    good.append_constraint(UniqueConstraint(good.c.x, name="uq_good_x"))
    problems = citus.layout_problems(metadata)
    assert problems == [
        "bad: primary key ['id', '_tenant'] does not start with _tenant",
        "good: unique constraint uq_good_x lacks _tenant",
        "good: index ix_good_x does not start with _tenant",
    ]
    with pytest.raises(ValueError, match="cannot be distributed by tenant: bad: primary key"):
        citus.distribution_statements(metadata)


def test_distribution_statements_for_a_small_schema() -> None:
    metadata = MetaData()
    Table("settings", metadata, Column("key", String(10), primary_key=True))
    for name in ("b_items", "a_items"):
        Table(
            name,
            metadata,
            Column(TENANT, String(10), primary_key=True),
            Column("id", String(10), primary_key=True),
        )
    Table("Odd'Name", metadata, Column(TENANT, String(10), primary_key=True))
    assert citus.distribution_statements(metadata, shard_count=64) == [
        "SELECT create_reference_table('settings');",
        "SELECT create_distributed_table('\"Odd''Name\"', '_tenant', shard_count => 64);",
        "SELECT create_distributed_table('a_items', '_tenant', colocate_with => '\"Odd''Name\"');",
        "SELECT create_distributed_table('b_items', '_tenant', colocate_with => '\"Odd''Name\"');",
    ]


def test_project_ddl_distributes_every_entity_table_with_the_alerts() -> None:
    statements = citus.distribution_statements()
    shared = sorted(t.name for t in METADATA.sorted_tables if TENANT not in t.c)
    assert {"alertgraph_meta", "auth_signing_keys"} <= set(shared)
    assert statements[: len(shared)] == [
        f"SELECT create_reference_table('{name}');" for name in shared
    ]
    assert statements[len(shared)] == (
        "SELECT create_distributed_table('security_alerts', '_tenant');"
    )
    distributed = [s for s in statements if "create_distributed_table" in s]
    assert len(distributed) == len([t for t in METADATA.sorted_tables if TENANT in t.c])
    for entity_set in ENTITY_SETS[1:]:
        assert (
            f"SELECT create_distributed_table('{entity_set.table}', '_tenant', "
            "colocate_with => 'security_alerts');"
        ) in statements
    script = citus.script()
    assert script.startswith("CREATE EXTENSION IF NOT EXISTS citus;")
    assert (
        "CREATE INDEX ix_security_alerts_2 ON security_alerts "
        '(_tenant, severity, status, "createdDateTime", id);'
    ) in script
    assert "JSONB" in script
    assert 'COLLATE "C"' in script


def test_the_printed_script_covers_every_table_of_a_server() -> None:
    """In a fresh process, where only what ops.citus imports has added tables: the console's
    and the emulator's tables are there too (a server creates them all)."""
    printed = subprocess.run(
        [sys.executable, "-m", "alertgraph.ops.citus"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    for table in ("console_sessions", "console_codes", "console_admin_grants"):
        assert f"SELECT create_reference_table('{table}');" in printed
    assert "SELECT create_distributed_table('emulator_controls', '_tenant'" in printed
    assert printed.count("SELECT create_") == len(citus.distribution_statements())


@pytest.fixture
def pg_schema_url() -> Iterator[str]:
    with fresh_pg_schema() as url:
        yield url


STAND_INS = """
CREATE TABLE citus_calls (fn text, tbl regclass, col text, colocate text, shards int);
CREATE FUNCTION create_reference_table(table_name regclass) RETURNS void LANGUAGE sql AS
  $$ INSERT INTO citus_calls VALUES ('reference', table_name, NULL, NULL, NULL) $$;
CREATE FUNCTION create_distributed_table(
  table_name regclass, distribution_column text, distribution_type text DEFAULT 'hash',
  colocate_with text DEFAULT 'default', shard_count int DEFAULT NULL
) RETURNS void LANGUAGE sql AS
  $$ INSERT INTO citus_calls VALUES
     ('distributed', table_name, distribution_column, colocate_with, shard_count) $$;
"""


@pytest.mark.postgres
def test_generated_ddl_runs_on_postgresql(pg_schema_url: str) -> None:
    engine = create_engine(pg_schema_url)
    try:
        with engine.begin() as conn:
            for statement in citus.schema_statements():
                conn.execute(text(statement))
            conn.execute(text(STAND_INS))
            for statement in citus.distribution_statements(shard_count=32):
                conn.execute(text(statement))
            calls = conn.execute(
                text("SELECT fn, tbl::text, col, colocate, shards FROM citus_calls")
            ).all()
            # the entity tables keep long values in the row, as Store.open leaves them elsewhere
            extended = conn.execute(
                text(
                    "SELECT DISTINCT c.relname FROM pg_attribute a "
                    "JOIN pg_class c ON c.oid = a.attrelid "
                    "JOIN pg_namespace n ON n.oid = c.relnamespace "
                    "AND n.nspname = current_schema() "
                    "WHERE a.attnum > 0 AND a.attstorage = 'x' AND c.relkind = 'r'"
                )
            ).scalars()
            assert not set(extended) & {table.name for table in TABLES.values()}
            # Every key and index of a tenant table starts with _tenant, as PostgreSQL sees it.
            leading = conn.execute(
                text(
                    """
                    SELECT t.relname, i.relname, a.attname
                    FROM pg_index x
                    JOIN pg_class i ON i.oid = x.indexrelid
                    JOIN pg_class t ON t.oid = x.indrelid
                    JOIN pg_namespace n ON n.oid = t.relnamespace AND n.nspname = current_schema()
                    JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = x.indkey[0]
                    WHERE t.relname <> 'citus_calls'
                    """
                )
            ).all()
    finally:
        engine.dispose()
    tenant_tables = {t.name for t in METADATA.sorted_tables if TENANT in t.c}
    assert {(fn, table) for fn, table, *_ in calls} == {
        *(("reference", t.name) for t in METADATA.sorted_tables if TENANT not in t.c),
        *(("distributed", name) for name in tenant_tables),
    }
    for fn, table, column, colocate, shards in calls:
        if fn == "distributed":
            assert column == TENANT
            if table == "security_alerts":
                assert (colocate, shards) == ("default", 32)
            else:
                assert (colocate, shards) == ("security_alerts", None)
    assert leading, "no indexes found"
    for table, index, column in leading:
        if table in tenant_tables:
            assert column == TENANT, f"{index} on {table} starts with {column}"
