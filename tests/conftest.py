"""Shared fixtures: every database-backed test runs once on SQLite and once on PostgreSQL.

PostgreSQL: ``ALERTGRAPH_TEST_PG_URL`` (default: the local server on 127.0.0.1:5432, trust auth).
Each test gets its own schema, dropped afterwards. When no server answers, the PostgreSQL leg skips
with the reason shown, unless ``ALERTGRAPH_REQUIRE_POSTGRES=1`` (CI sets it), which turns the skip
into a failure.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from alertgraph.store.database import Store

PG_URL = os.environ.get(
    "ALERTGRAPH_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
REQUIRE_PG = os.environ.get("ALERTGRAPH_REQUIRE_POSTGRES") == "1"

_pg_problem: str | None = None
_pg_checked = False


def _postgres_problem() -> str | None:
    global _pg_checked, _pg_problem
    if not _pg_checked:
        _pg_checked = True
        try:
            engine = create_engine(PG_URL, connect_args={"connect_timeout": 3})
            with engine.connect() as conn:
                conn.execute(text("select 1"))
            engine.dispose()
        except Exception as exc:  # any failure to connect means "no server"
            _pg_problem = f"PostgreSQL not reachable at {PG_URL}: {exc.__class__.__name__}"
    return _pg_problem


def _with_schema(url: str, schema: str) -> str:
    joiner = "&" if "?" in url else "?"
    return f"{url}{joiner}options=-csearch_path%3D{schema}"


@contextmanager
def fresh_pg_schema() -> Iterator[str]:
    """A URL of a new, empty PostgreSQL schema, dropped afterwards; skips (or fails under
    ALERTGRAPH_REQUIRE_POSTGRES=1) when no server answers."""
    problem = _postgres_problem()
    if problem is not None:
        if REQUIRE_PG:
            pytest.fail(problem + " (ALERTGRAPH_REQUIRE_POSTGRES=1)")
        pytest.skip(problem)
    schema = "t_" + uuid.uuid4().hex[:12]
    admin = create_engine(PG_URL)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield _with_schema(PG_URL, schema)
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A URL of an empty database: a temp SQLite file, or a fresh PostgreSQL schema."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'alertgraph.db'}"
        return
    with fresh_pg_schema() as url:
        yield url


@pytest.fixture
def store(db_url: str) -> Iterator[Store]:
    opened = Store.open(db_url)
    try:
        yield opened
    finally:
        opened.engine.dispose()
