"""Shortcuts on the storage path give exactly the answers of the long way round."""

from typing import Any

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import text
from tests.conftest import fresh_pg_schema

from alertgraph.schema.endpoints import entity_set
from alertgraph.store.codec import (
    MAX_TICKS,
    MIN_TICKS,
    format_datetime,
    format_datetime_fixed,
    output_from_fixed,
    parse_datetime,
)
from alertgraph.store.database import TENANT, Store, _as_jsonb


@given(st.integers(MIN_TICKS, MAX_TICKS))
def test_output_from_fixed_is_the_round_trip_through_ticks(ticks: int) -> None:
    fixed = format_datetime_fixed(ticks)
    assert output_from_fixed(fixed) == format_datetime(parse_datetime(fixed))
    assert output_from_fixed(fixed) == format_datetime(ticks)


@pytest.mark.parametrize(
    ("fixed", "output"),
    [
        ("2024-05-01T12:00:00.0000000Z", "2024-05-01T12:00:00Z"),
        ("2024-05-01T12:00:00.1230000Z", "2024-05-01T12:00:00.123Z"),
        ("0001-01-01T00:00:00.0000001Z", "0001-01-01T00:00:00.0000001Z"),
        # not the fixed form: the general parser answers
        ("2024-05-01T14:00:00+02:00", "2024-05-01T12:00:00Z"),
    ],
)
def test_output_from_fixed_examples(fixed: str, output: str) -> None:
    assert output_from_fixed(fixed) == output


def _jsonb_reference(value: Any) -> Any:
    """PostgreSQL's JSONB order spelled out: keys by UTF-8 length, then bytes."""
    if isinstance(value, dict):
        ordered = sorted(value, key=lambda key: (len(key.encode()), key.encode()))
        return {key: _jsonb_reference(value[key]) for key in ordered}
    if isinstance(value, list):
        return [_jsonb_reference(item) for item in value]
    if isinstance(value, float) and value.is_integer() and abs(value) >= 1e16:
        return int(value)
    return value


_KEYS = st.text(st.characters(exclude_categories=("Cs",)), max_size=6)
_JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**63), 2**63 - 1)
    | st.floats(allow_nan=False, allow_infinity=False, min_value=-1e18, max_value=1e18)
    | st.text(max_size=4),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(_KEYS, inner, max_size=5),
    max_leaves=30,
)


@given(_JSON)
def test_as_jsonb_orders_keys_as_postgresql_does(value: Any) -> None:
    assert orjson.dumps(_as_jsonb(value)) == orjson.dumps(_jsonb_reference(value))


@pytest.mark.postgres
def test_postgresql_compresses_large_values_with_lz4() -> None:
    with fresh_pg_schema() as url:
        _check_lz4(Store.open(url))


def _check_lz4(store: Store) -> None:
    try:
        with store.engine.connect() as conn:
            supported = conn.exec_driver_sql(
                "SELECT 'lz4' = ANY(enumvals) FROM pg_settings "
                "WHERE name = 'default_toast_compression'"
            ).scalar()
        assert supported, "this PostgreSQL has no LZ4; the test needs a server built with it"
        alerts = entity_set("alerts_v2")
        row = store.to_row(alerts, {"id": "big", "description": "lorem ipsum " * 2000})
        row[TENANT] = "t1"
        with store.engine.begin() as conn:
            conn.execute(store.tables["alerts_v2"].insert().values(**row))
            method = conn.execute(
                text('SELECT pg_column_compression("description") FROM security_alerts')
            ).scalar()
        assert method == "lz4"
    finally:
        store.engine.dispose()
