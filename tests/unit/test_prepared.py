"""A Prepared statement returns what SQLAlchemy's own execution returns, type for type, and its
driver errors leave as SQLAlchemy's errors."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal

import pytest
import sqlalchemy as sa

from alertgraph.store.database import Store
from alertgraph.store.prepared import Prepared

METADATA = sa.MetaData()
SAMPLES = sa.Table(
    "prepared_samples",
    METADATA,
    sa.Column("id", sa.String(20), primary_key=True),
    sa.Column("flag", sa.Boolean),
    sa.Column("amount", sa.Numeric),
    sa.Column("ticks", sa.BigInteger),
    sa.Column("doc", sa.JSON),
)


@pytest.fixture
def samples(store: Store) -> Iterator[Store]:
    METADATA.create_all(store.engine)
    with store.engine.begin() as conn:
        conn.execute(
            SAMPLES.insert(),
            [
                {
                    "id": "a",
                    "flag": True,
                    "amount": Decimal("2.5"),
                    "ticks": 2**40,
                    "doc": {"x": 1},
                },
                {"id": "b", "flag": False, "amount": Decimal("1"), "ticks": None, "doc": [1, "y"]},
                {"id": "c", "flag": None, "amount": None, "ticks": -3, "doc": None},
            ],
        )
    try:
        yield store
    finally:
        METADATA.drop_all(store.engine)


def _statements() -> list[sa.Select[tuple[object, ...]]]:
    t = SAMPLES.c
    everything = sa.select(t.id, t.flag, t.amount, t.ticks, t.doc, (t.amount * 2).label("twice"))
    return [
        everything.order_by(t.id),
        everything.where(t.id.in_(["a", "c"])).order_by(t.id.desc()),
        everything.where(t.amount > Decimal("1.5"), t.flag.is_(True)),
        everything.where(t.ticks.is_(None) | (t.ticks < 0)).order_by(t.id).limit(5).offset(1),
        sa.select(sa.func.count()).select_from(SAMPLES).where(t.id != "b"),
    ]


@pytest.mark.parametrize("number", range(5))
def test_rows_are_what_sqlalchemy_returns(samples: Store, number: int) -> None:
    statement = _statements()[number]
    with samples.reading() as conn:
        expected = [tuple(row) for row in conn.execute(statement)]
        prepared = Prepared(statement, samples.engine.dialect)
        for _ in range(7):  # past psycopg's threshold for preparing on the server
            found = prepared.rows(conn)
            assert found == expected
            assert [[type(v) for v in row] for row in found] == [
                [type(v) for v in row] for row in expected
            ]


def test_named_binds_take_their_value_per_run(samples: Store) -> None:
    t = SAMPLES.c
    by_id = Prepared(
        sa.select(t.id, t.amount).where(t.id == sa.bindparam("key", "")), samples.engine.dialect
    )
    with samples.reading() as conn:
        assert by_id.rows(conn, {"key": "a"}) == [("a", Decimal("2.5"))]
        assert by_id.rows(conn, {"key": "zz"}) == []
        assert by_id.rows(conn, {"key": "b"}) == [("b", Decimal("1"))]


def test_driver_errors_leave_as_sqlalchemy_errors(samples: Store) -> None:
    t = SAMPLES.c
    broken = Prepared(
        sa.select(sa.literal_column("no_such_column")).select_from(SAMPLES), samples.engine.dialect
    )
    with samples.reading() as conn, pytest.raises(sa.exc.DBAPIError):
        broken.rows(conn)
    # the pooled connection still answers afterwards
    with samples.reading() as conn:
        assert Prepared(sa.select(t.id).order_by(t.id), samples.engine.dialect).rows(conn) == [
            ("a",),
            ("b",),
            ("c",),
        ]
