"""The import's compiled fast path gives Store.to_row's row to the byte, or steps aside."""

from __future__ import annotations

import copy
from datetime import UTC, datetime

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import create_engine

from alertgraph.schema.endpoints import BY_NAME, ENTITY_SETS
from alertgraph.seed.records import demo_data, generate_alerts
from alertgraph.store.database import RecordError, Store
from alertgraph.store.fastrow import FastRows

STORE = Store(create_engine("sqlite://"))
FAST = FastRows(STORE)
ALERTS = BY_NAME["alerts_v2"]
GENERATED = list(
    generate_alerts(600, seed=11, tenant_id="t", start=datetime(2025, 1, 1, tzinfo=UTC))
)


def both(entity_set, record):
    fast = FAST.row(entity_set, record)
    try:
        slow = STORE.to_row(entity_set, record)
    except RecordError:
        slow = None
    return fast, slow


def test_generated_alerts_take_the_fast_path_and_match_to_row_to_the_byte():
    for record in GENERATED:
        fast, slow = both(ALERTS, record)
        assert fast is not None, record["id"]
        assert orjson.dumps(fast) == orjson.dumps(slow)


@pytest.mark.parametrize("path", list(demo_data(tenant_id="t")))
def test_demo_records_of_every_collection_match_to_row(path):
    entity_set = next(es for es in ENTITY_SETS if es.path == path)
    navigations = {nav.name for nav in entity_set.navigations}
    fast_count = 0
    for record in demo_data(tenant_id="t")[path]:
        plain = {k: v for k, v in record.items() if k not in navigations}
        fast, slow = both(entity_set, plain)
        if fast is not None:  # stepping aside (to to_row) is always allowed
            fast_count += 1
            assert orjson.dumps(fast) == orjson.dumps(slow)
    assert fast_count > 0


JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**40), 2**40)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.sampled_from(
        [
            "high",
            "HIGH",
            "new",
            "2025-01-01T00:00:00Z",
            "2025-02-30T00:00:00Z",
            "2025-01-01T24:00:00Z",
            "2025-01-01T10:00:00.12345678Z",
            "2025-01-01T10:00:00+02:00",
            "#microsoft.graph.security.ipEvidence",
            "#microsoft.graph.security.alertEvidence",
            "",
        ]
    )
    | st.text(max_size=8),
    lambda children: (
        st.lists(children, max_size=3)
        | st.dictionaries(st.sampled_from(["@odata.type", "ipAddress", "x", "roles"]), children)
    ),
    max_leaves=6,
)


def _places(value, path=()):
    yield path
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _places(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _places(item, (*path, index))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    which=st.integers(0, len(GENERATED) - 1),
    place=st.integers(0, 10_000),
    value=JSON_VALUES,
    new_key=st.booleans(),
)
def test_any_change_either_matches_to_row_or_steps_aside(which, place, value, new_key):
    record = copy.deepcopy(GENERATED[which])
    places = [p for p in _places(record) if p]
    path = places[place % len(places)]
    target = record
    for step in path[:-1]:
        target = target[step]
    if new_key and isinstance(target, dict):
        target[f"{path[-1]}X"] = value
    else:
        target[path[-1]] = value
    fast, slow = both(ALERTS, record)
    if slow is None:
        assert fast is None  # to_row refuses: the fast path must not accept
    elif fast is not None:
        assert orjson.dumps(fast) == orjson.dumps(slow)
