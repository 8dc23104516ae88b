"""Import: every input format, all-or-nothing validation, idempotent upserts, streaming, tenants."""

from __future__ import annotations

import itertools
import tracemalloc
from datetime import UTC, datetime
from pathlib import Path

import orjson
import pytest
from sqlalchemy import create_engine, func, select

from alertgraph.schema.endpoints import BY_NAME, ENTITY_SETS
from alertgraph.seed.records import (
    ALERTS_PATH,
    INCIDENTS_PATH,
    PIM_PATH,
    demo_data,
    generate_alerts,
)
from alertgraph.store.database import PARENT, TENANT, TYPE, Store
from alertgraph.store.importer import (
    IMPORT_PATHS,
    ImportFailed,
    import_file,
    import_records,
    read_records,
)
from alertgraph.store.loader import NUL_REFUSED, Batch, Validator

NOW = datetime(2026, 5, 1, tzinfo=UTC)
TENANT_A = "tenant-a"
TENANT_B = "tenant-b"


def alert(number: int, **overrides) -> dict:
    record = {
        "id": f"da{number:04d}",
        "severity": "high",
        "status": "new",
        "serviceSource": "microsoftDefenderForEndpoint",
        "createdDateTime": f"2026-04-0{1 + number % 9}T10:00:00.1234567Z",
        "title": f"Alert {number}",
        "evidence": [
            {
                "@odata.type": "#microsoft.graph.security.ipEvidence",
                "createdDateTime": "2026-04-01T10:00:00Z",
                "remediationStatus": "none",
                "verdict": "suspicious",
                "roles": [],
                "ipAddress": "10.0.0.1",
            }
        ],
    }
    record.update(overrides)
    return record


def write_ndjson(path: Path, records) -> Path:
    with open(path, "wb") as out:
        for record in records:
            out.write(orjson.dumps(record) + b"\n")
    return path


def rows(store: Store, name: str, tenant: str | None = None) -> list[dict]:
    table = store.tables[name]
    query = select(table).order_by(*table.primary_key.columns)
    if tenant is not None:
        query = query.where(table.c[TENANT] == tenant)
    with store.engine.connect() as conn:
        return [dict(row) for row in conn.execute(query).mappings()]


def count(store: Store, name: str) -> int:
    with store.engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(store.tables[name])).scalar_one()


# --- reading -------------------------------------------------------------------------------------


@pytest.mark.parametrize("form", ["array", "collection", "ndjson", "pretty-array", "sequence"])
def test_every_input_form_reads_the_same_records(tmp_path, form):
    records = [alert(n) for n in range(5)]
    path = tmp_path / "in.json"
    match form:
        case "array":
            path.write_bytes(orjson.dumps(records))
        case "collection":
            path.write_bytes(
                orjson.dumps(
                    {
                        "@odata.context": "https://graph.microsoft.com/beta/$metadata#x",
                        "@odata.count": 5,
                        "value": records,
                        "@odata.nextLink": "https://graph.microsoft.com/beta/x?$skiptoken=1",
                    }
                )
            )
        case "ndjson":
            write_ndjson(path, records)
        case "pretty-array":
            path.write_bytes(orjson.dumps(records, option=orjson.OPT_INDENT_2))
        case "sequence":  # pretty-printed objects one after another
            path.write_bytes(
                b"\n".join(orjson.dumps(r, option=orjson.OPT_INDENT_2) for r in records)
            )
    read = list(read_records(path))
    assert [record for _, record in read] == records
    if form == "ndjson":
        assert [where for where, _ in read] == [f"line {n}" for n in range(1, 6)]
    elif form == "sequence":
        first_lines = orjson.dumps(records[0], option=orjson.OPT_INDENT_2).count(b"\n") + 1
        assert read[1][0] == f"line {first_lines + 1}"
    else:
        assert [where for where, _ in read] == [f"record {n}" for n in range(5)]


def test_empty_inputs_read_nothing(tmp_path):
    for text in ("", "  \n", "[]", '{"value": []}', "\ufeff[ ]"):
        path = tmp_path / "empty.json"
        path.write_text(text, encoding="utf-8")
        assert list(read_records(path)) == []


def test_crlf_lines_and_a_byte_order_mark_are_fine(tmp_path):
    path = tmp_path / "windows.ndjson"
    path.write_bytes(b'\xef\xbb\xbf{"id": "a"}\r\n{"id": "b"}\r\n\r\n{"id": "c"}')
    assert list(read_records(path)) == [
        ("line 1", {"id": "a"}),
        ("line 2", {"id": "b"}),
        ("line 4", {"id": "c"}),
    ]


def test_text_that_is_not_utf8_is_refused(tmp_path):
    path = tmp_path / "latin1.ndjson"
    path.write_bytes('{"id": "a"}\n{"title": "caf\u00e9"}\n'.encode("latin-1"))
    with pytest.raises(ImportFailed, match="not UTF-8 text"):
        list(read_records(path))


def test_records_larger_than_the_read_buffer(tmp_path, monkeypatch):
    monkeypatch.setattr("alertgraph.store.importer.CHUNK", 64)
    records = [alert(n, description="x" * 300, evidence=[]) for n in range(4)]
    for data in (orjson.dumps(records), b"\n".join(orjson.dumps(r) for r in records)):
        path = tmp_path / "big.json"
        path.write_bytes(data)
        assert [record for _, record in read_records(path)] == records


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            '[{"id": "a"},\n {"id": "b",}]',
            "record 1 (line 2, column 13): invalid JSON: Expecting property name",
        ),
        ('[{"id": "a"} {"id": "b"}]', "after record 0 (line 1, column 14): expected ',' or ']'"),
        ('{"id": "a"}\n{"id": "b"}\n{"id": tru}\n', "line 3, column 8: invalid JSON"),
        ('[{"id": "a"}', "after record 0 (line 1, column 13): expected ',' or ']', found the end"),
        ('{"value": [{"id": "a"}]} x', "line 1, column 26: unexpected 'x'"),
        ('[{"id": "a"}, 3]', "record 1: expected a JSON object, got int"),
        ("<xml/>", "line 1, column 1: expected a JSON array, a JSON object or NDJSON"),
    ],
)
def test_bad_json_names_the_place(tmp_path, text, message):
    path = tmp_path / "bad.json"
    path.write_text(text)
    with pytest.raises(ImportFailed) as caught:
        list(read_records(path))
    assert message in str(caught.value)


@pytest.mark.slow
@pytest.mark.parametrize("form", ["ndjson", "array"])
def test_reading_streams_in_constant_memory(tmp_path, form):
    padding = "x" * 600
    records = (alert(n, description=padding) for n in range(50_000))
    path = tmp_path / "many.json"
    if form == "ndjson":
        write_ndjson(path, records)
    else:
        with open(path, "wb") as out:
            out.write(b"[")
            for n, record in enumerate(records):
                out.write((b",\n" if n else b"") + orjson.dumps(record))
            out.write(b"]")
    size = path.stat().st_size
    assert size > 40_000_000
    tracemalloc.start()
    try:
        seen = sum(1 for _ in read_records(path))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert seen == 50_000
    assert peak < 8_000_000, f"peak {peak} bytes for a {size}-byte file"


# --- importing -----------------------------------------------------------------------------------


def test_import_file_upserts_and_reimport_changes_nothing(store, tmp_path):
    path = write_ndjson(tmp_path / "alerts.ndjson", [alert(n) for n in range(7)])
    result = import_file(store, path, ALERTS_PATH, tenant=TENANT_A)
    assert result.records == 7
    assert result.counts == {"alerts_v2": 7}
    first = rows(store, "alerts_v2")
    again = import_file(store, path, "/security/alerts_v2/", tenant=TENANT_A)
    assert again.counts == {"alerts_v2": 7}
    assert rows(store, "alerts_v2") == first
    stored = store.to_json(BY_NAME["alerts_v2"], first[0])
    assert stored["createdDateTime"] == "2026-04-01T10:00:00.1234567Z"
    assert stored["evidence"][0]["@odata.type"] == "#microsoft.graph.security.ipEvidence"


def test_a_changed_record_replaces_the_stored_one(store, tmp_path):
    import_records(
        store, ALERTS_PATH, [("record 0", alert(1, title="old", assignedTo="x"))], tenant=TENANT_A
    )
    import_records(store, ALERTS_PATH, [("record 0", alert(1, title="new"))], tenant=TENANT_A)
    (row,) = rows(store, "alerts_v2")
    assert row["title"] == "new"
    assert row["assignedTo"] is None  # absent now: the whole entity is replaced


def test_duplicate_ids_in_one_file_keep_the_last(store):
    records = [(f"record {n}", alert(1, title=f"v{n}")) for n in range(3)]
    result = import_records(store, ALERTS_PATH, records, tenant=TENANT_A)
    assert result.records == 3
    (row,) = rows(store, "alerts_v2")
    assert row["title"] == "v2"


@pytest.mark.parametrize(
    ("bad", "expected"),
    [
        ({"severty": "high"}, ["record 1: severty: is not a property", "Did you mean 'severity'"]),
        ({"title": 42}, ["record 1: title: expected a string, got a number"]),
        ({"status": "closed"}, ["record 1: status: 'closed' is not a member"]),
        ({"id": None}, ["record 1: id: is required"]),
        ({"createdDateTime": "2026-04-01T10:00:00"}, ["record 1: createdDateTime:", "zone"]),
        (
            {"evidence": [{"@odata.type": "#microsoft.graph.security.ipEvidence", "verdict": "x"}]},
            ["record 1: evidence[0].verdict: 'x' is not a member"],
        ),
    ],
)
def test_an_invalid_record_writes_nothing(store, bad, expected):
    records = [("record 0", alert(0)), ("record 1", alert(1, **bad)), ("record 2", alert(2))]
    with pytest.raises(ImportFailed) as caught:
        import_records(store, ALERTS_PATH, records, tenant=TENANT_A)
    for text in expected:
        assert text in str(caught.value)
    assert caught.value.total >= 1
    assert count(store, "alerts_v2") == 0


def test_problems_are_capped_but_counted(store):
    records = [(f"line {n + 1}", alert(n, status="closed")) for n in range(1500)]
    with pytest.raises(ImportFailed) as caught:
        import_records(store, ALERTS_PATH, records, tenant=TENANT_A)
    assert caught.value.total == 1500
    assert len(caught.value.problems) == 20
    assert caught.value.problems[0].startswith("line 1: status:")
    assert "... and 1480 more" in str(caught.value)
    assert count(store, "alerts_v2") == 0


def test_bad_json_after_good_batches_writes_nothing(store, tmp_path, monkeypatch):
    monkeypatch.setattr("alertgraph.store.importer.BATCH_SIZE", 10)
    path = write_ndjson(tmp_path / "alerts.ndjson", [alert(n) for n in range(35)])
    with open(path, "ab") as out:
        out.write(b'{"id": "broken"\n')
    with pytest.raises(ImportFailed) as caught:
        import_file(store, path, ALERTS_PATH, tenant=TENANT_A)
    assert "line 36 (line 37, column 1): invalid JSON: Expecting ',' delimiter" in str(caught.value)
    assert count(store, "alerts_v2") == 0


def test_unknown_collection_is_refused_with_the_choices(store):
    with pytest.raises(ValueError, match="can't import into 'security/alerts'") as caught:
        import_records(store, "security/alerts", [], tenant=TENANT_A)
    for path in IMPORT_PATHS:
        assert path in str(caught.value)


def test_tenants_stay_apart(store, tmp_path):
    path = write_ndjson(tmp_path / "alerts.ndjson", [alert(n) for n in range(3)])
    import_file(store, path, ALERTS_PATH, tenant=TENANT_A)
    import_file(store, path, ALERTS_PATH, tenant=TENANT_B)
    assert count(store, "alerts_v2") == 6
    changed = write_ndjson(tmp_path / "b.ndjson", [alert(n, status="resolved") for n in range(3)])
    import_file(store, changed, ALERTS_PATH, tenant=TENANT_B)
    assert {row["status"] for row in rows(store, "alerts_v2", TENANT_A)} == {2}  # new
    assert {row["status"] for row in rows(store, "alerts_v2", TENANT_B)} == {8}  # resolved


def test_pim_alerts_split_into_their_sets(store):
    pim = demo_data(seed=3, tenant_id=TENANT_A, now=NOW)[PIM_PATH]
    records = [(f"record {n}", record) for n, record in enumerate(pim)]
    result = import_records(store, PIM_PATH, records, tenant=TENANT_A)
    incidents = sum(len(record["alertIncidents"]) for record in pim)
    assert result.counts == {
        "pim_alerts": 7,
        "pim_definitions": 7,
        "pim_configurations": 7,
        "pim_incidents": incidents,
    }
    alerts = {row["id"]: row for row in rows(store, "pim_alerts")}
    for record in pim:
        assert alerts[record["id"]]["incidentCount"] == len(record["alertIncidents"])
    for row in rows(store, "pim_incidents"):
        assert row[PARENT] in alerts
        assert row[TYPE].endswith("AlertIncident")
    configurations = rows(store, "pim_configurations")
    assert {row[TYPE] for row in configurations} == {
        "microsoft.graph." + r["alertConfiguration"]["@odata.type"].rsplit(".", 1)[1] for r in pim
    }
    stale = next(row for row in configurations if row["id"].endswith("StaleSignInAlert"))
    assert stale["duration"] == 30 * 86_400 * 10_000_000
    # Re-importing an alert with fewer incidents leaves only those.
    trimmed = dict(pim[-1], alertIncidents=pim[-1]["alertIncidents"][:1], incidentCount=1)
    again = import_records(store, PIM_PATH, [("record 0", trimmed)], tenant=TENANT_A)
    assert again.counts["pim_incidents"] == 1
    kept = [row for row in rows(store, "pim_incidents") if row[PARENT] == trimmed["id"]]
    assert [row["id"] for row in kept] == [trimmed["alertIncidents"][0]["id"]]
    assert count(store, "pim_incidents") == incidents - len(pim[-1]["alertIncidents"]) + 1


def test_pim_problems_name_the_nested_member(store):
    pim = demo_data(seed=3, tenant_id=TENANT_A, now=NOW)[PIM_PATH]
    broken = dict(pim[2])
    broken["alertIncidents"] = [dict(broken["alertIncidents"][0], assigneeId=5)]
    with pytest.raises(ImportFailed) as caught:
        import_records(store, PIM_PATH, [("record 2", broken)], tenant=TENANT_A)
    assert "record 2: alertIncidents[0].assigneeId: expected a string" in str(caught.value)
    assert count(store, "pim_alerts") == 0


def test_incidents_with_expanded_alerts_fill_both_sets(store):
    incident = {
        "id": "4242",
        "severity": "high",
        "status": "active",
        "createdDateTime": "2026-04-01T10:00:00Z",
        "lastUpdateDateTime": "2026-04-01T11:00:00Z",
        "alerts": [alert(1), alert(2, incidentId="9999")],
    }
    result = import_records(store, INCIDENTS_PATH, [("record 0", incident)], tenant=TENANT_A)
    assert result.counts == {"incidents": 1, "alerts_v2": 2}
    assert {row["id"]: row["incidentId"] for row in rows(store, "alerts_v2")} == {
        "da0001": "4242",
        "da0002": "9999",
    }


def test_demo_data_imports_everywhere_and_progress_is_reported(store):
    data = demo_data(seed=11, alerts=120, partner_alerts=20, tenant_id=TENANT_A, now=NOW)
    for path, records in data.items():
        seen: list[int] = []
        result = import_records(
            store,
            path,
            ((f"record {n}", r) for n, r in enumerate(records)),
            tenant=TENANT_A,
            progress=seen.append,
        )
        assert result.records == len(records)
        assert seen[-1] == len(records)
    assert count(store, "alerts_v2") == 120
    assert count(store, "partner_alerts") == 20
    assert count(store, "incidents") == len(data[INCIDENTS_PATH])


def test_generated_alerts_import_in_batches(store, monkeypatch):
    monkeypatch.setattr("alertgraph.store.importer.BATCH_SIZE", 250)
    alerts = generate_alerts(1200, seed=2, tenant_id=TENANT_A, start=NOW)
    seen: list[int] = []
    numbered = ((f"record {n}", a) for n, a in zip(itertools.count(), alerts, strict=False))
    result = import_records(store, ALERTS_PATH, numbered, tenant=TENANT_A, progress=seen.append)
    assert seen == [250, 500, 750, 1000, 1200]
    assert result.counts == {"alerts_v2": 1200}
    assert count(store, "alerts_v2") == 1200


@pytest.mark.parametrize(
    "bad",
    [
        {"title": "nul \u0000 inside"},
        {"additionalData": {"k": ["x\u0000"]}},  # escaped in a JSON column's text
        {"additionalData": {"k\u0000": 1}},  # in a member name
    ],
)
def test_nul_is_refused_on_every_database_alike(store, bad):
    # SQLite could store it, PostgreSQL cannot, the HTTP API refuses it on both
    records = [("line 1", alert(1)), ("line 2", alert(2, **bad))]
    with pytest.raises(ImportFailed) as caught:
        import_records(store, ALERTS_PATH, records, tenant=TENANT_A)
    assert caught.value.problems == ["line 2: text can't contain NUL (\\u0000)"]
    assert count(store, "alerts_v2") == 0


def test_a_backslash_before_u0000_is_text_like_any_other(store):
    text = "C:\\u0000 and \\\\u0000"
    records = [("line 1", alert(1, title=text, additionalData={text: text}))]
    assert import_records(store, ALERTS_PATH, records, tenant=TENANT_A).records == 1
    (row,) = rows(store, "alerts_v2")
    assert row["title"] == text
    assert row["additionalData"] == {text: text}


def _string_leaves(value, path=()):
    """The paths of every string in a JSON value (but @odata.type, which names a type)."""
    if isinstance(value, str):
        yield path
    elif isinstance(value, dict):
        for key, item in value.items():
            if key != "@odata.type":
                yield from _string_leaves(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _string_leaves(item, (*path, index))


def _with_nul(value, path):
    if not path:
        return value + "\u0000"
    copy = list(value) if isinstance(value, list) else dict(value)
    copy[path[0]] = _with_nul(value[path[0]], path[1:])
    return copy


@pytest.mark.parametrize("dialect", ["sqlite", "postgresql"])
def test_a_nul_in_any_string_of_any_set_is_refused(dialect):
    """RowCodec.refused clears a row by its _json text alone: every stored value must be in it."""
    engine = create_engine("sqlite://" if dialect == "sqlite" else "postgresql+psycopg://")
    store = Store(engine)
    refused = 0
    for path, records in demo_data(seed=3, tenant_id=TENANT_A, now=NOW).items():
        entity_set = next(s for s in ENTITY_SETS if s.path == path)
        for record in records[:12]:
            validator = Validator(store, entity_set, TENANT_A, 5, dialect=dialect)
            batch = Batch()
            validator.add(batch, "line 1", record)
            assert not batch.problems
            for leaf in _string_leaves(record):
                batch = Batch()
                validator.add(batch, "line 1", _with_nul(record, leaf))
                # refused for the NUL, or already for what the string must be (enum, date)
                assert batch.problems, (path, leaf)
                refused += batch.problems == [f"line 1: {NUL_REFUSED}"]
    assert refused > 1000
