"""Shared fixtures: every database-backed test runs once on SQLite and once on PostgreSQL, and
HTTP tests get the real app (``app``, ``client``, ``headers``; data and tokens: tests/factories.py).

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
from typing import Any

import pytest
from sqlalchemy import create_engine, text
from starlette.testclient import TestClient

from alertgraph.settings import Settings
from alertgraph.store.database import Store
from tests.factories import app_client, built_app, mint

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


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
)
def module_db_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """Like ``db_url``, but one database per test module: for modules whose tests only read
    data loaded once, or share one server."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path_factory.mktemp('module') / 'alertgraph.db'}"
        return
    with fresh_pg_schema() as url:
        yield url


@pytest.fixture
def store(request: pytest.FixtureRequest, db_url: str) -> Iterator[Store]:
    """The database under test: the app's own Store when the test has an ``app``, else one
    opened (and closed) for the test."""
    if "app" in request.fixturenames:
        yield request.getfixturevalue("app").state.store
        return
    opened = Store.open(db_url)
    try:
        yield opened
    finally:
        opened.engine.dispose()


@pytest.fixture
def settings(db_url: str) -> Settings:
    return Settings(database_url=db_url)


@pytest.fixture
def app(settings: Settings) -> Iterator[Any]:
    """The real ASGI app on the test's database."""
    with built_app(settings) as application:
        yield application


@pytest.fixture
def client(app: Any) -> Iterator[TestClient]:
    with app_client(app) as test_client:
        yield test_client


@pytest.fixture
def headers(app: Any) -> dict[str, str]:
    """A bearer token of tenant A with every permission (see factories.mint)."""
    return {"Authorization": f"Bearer {mint(app)}"}
