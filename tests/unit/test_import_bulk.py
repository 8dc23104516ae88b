"""Bulk import: NDJSON validated by worker processes, COPY on PostgreSQL, ready to query after.

Every test runs on SQLite and PostgreSQL and forces the worker pool (``workers=2``) on small
files, so the same path a million-alert import takes is the one checked here; the tests at the
end are about SQLite files alone (a first load's rollback journal) and open their own.
"""

from __future__ import annotations

import contextlib
import sqlite3
import time
from datetime import UTC, datetime

import orjson
import pytest
from sqlalchemy import select, text
from tests.conftest import fresh_pg_schema
from tests.unit.test_importer import TENANT_A, TENANT_B, alert, count, rows, write_ndjson

from alertgraph.schema.endpoints import BY_NAME
from alertgraph.seed.records import ALERTS_PATH, INCIDENTS_PATH, demo_data, generate_alerts
from alertgraph.store.database import TENANT, Store
from alertgraph.store.importer import ImportFailed, import_file, import_records

NOW = datetime(2026, 5, 1, tzinfo=UTC)
ALERTS = BY_NAME["alerts_v2"]


def generated(n: int, seed: int = 3) -> list[dict]:
    return list(generate_alerts(n, seed=seed, tenant_id=TENANT_A, start=NOW))


def stored_json(store, tenant: str) -> dict[str, dict]:
    return {row["id"]: store.to_json(ALERTS, row) for row in rows(store, "alerts_v2", tenant)}


def expected_json(store, records: list[dict]) -> dict[str, dict]:
    """What the records read back as when converted in process, without any database."""
    return {r["id"]: store.to_json(ALERTS, store.to_row(ALERTS, r)) for r in records}


def test_workers_store_every_value_as_validated_in_process(store, tmp_path, monkeypatch):
    monkeypatch.setattr("alertgraph.store.importer.PARALLEL_CHUNK", 64 << 10)  # many batches
    records = generated(400)
    path = write_ndjson(tmp_path / "alerts.ndjson", records)
    seen: list[int] = []
    result = import_file(store, path, ALERTS_PATH, tenant=TENANT_A, workers=2, progress=seen.append)
    assert result.records == 400
    assert result.counts == {"alerts_v2": 400}
    assert len(seen) > 3
    assert seen[-1] == 400
    assert seen == sorted(seen)
    assert stored_json(store, TENANT_A) == expected_json(store, records)


def test_sequential_and_parallel_imports_store_the_same_rows(store, tmp_path):
    records = generated(150, seed=9)
    path = write_ndjson(tmp_path / "alerts.ndjson", records)
    import_file(store, path, ALERTS_PATH, tenant=TENANT_A, workers=2)
    import_file(store, path, ALERTS_PATH, tenant=TENANT_B, workers=0)
    strip = [{k: v for k, v in row.items() if k != TENANT} for row in rows(store, "alerts_v2")]
    by_tenant_a = [
        row
        for row, full in zip(strip, rows(store, "alerts_v2"), strict=True)
        if full[TENANT] == TENANT_A
    ]
    by_tenant_b = [
        row
        for row, full in zip(strip, rows(store, "alerts_v2"), strict=True)
        if full[TENANT] == TENANT_B
    ]
    assert by_tenant_a == by_tenant_b
    assert len(by_tenant_a) == 150


def test_a_bad_record_names_its_line_and_writes_nothing(store, tmp_path, monkeypatch):
    monkeypatch.setattr("alertgraph.store.importer.PARALLEL_CHUNK", 32 << 10)
    records = generated(300)
    records[217]["severity"] = "catastrophic"
    path = write_ndjson(tmp_path / "alerts.ndjson", records)
    with pytest.raises(ImportFailed) as caught:
        import_file(store, path, ALERTS_PATH, tenant=TENANT_A, workers=2)
    assert caught.value.total == 1
    (problem,) = caught.value.problems
    assert problem.startswith("line 218: severity: ")
    assert "catastrophic" in problem
    assert count(store, "alerts_v2") == 0


def _indexes(store) -> set[str]:
    table = store.tables["alerts_v2"].name
    with store.engine.connect() as conn:
        if store.dialect == "sqlite":
            query = "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = :t"
        else:
            query = (
                "SELECT i.relname FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid "
                "WHERE x.indrelid = to_regclass(:t)"
            )
        return set(conn.execute(text(query), {"t": table}).scalars())


def test_a_first_load_rebuilds_its_indexes_and_a_failed_one_keeps_them(
    store, tmp_path, monkeypatch
):
    """A first load drops secondary indexes and builds them at the end, all in its transaction."""
    before = _indexes(store)
    assert len(before) >= 3
    monkeypatch.setattr("alertgraph.store.importer.PARALLEL_CHUNK", 32 << 10)
    records = generated(200)
    records[190]["status"] = "nonsense"  # found after earlier batches were written
    bad = write_ndjson(tmp_path / "bad.ndjson", records)
    with pytest.raises(ImportFailed, match="line 191: status"):
        import_file(store, bad, ALERTS_PATH, tenant=TENANT_A, workers=2)
    assert _indexes(store) == before
    assert count(store, "alerts_v2") == 0
    records[190]["status"] = "new"
    good = write_ndjson(tmp_path / "good.ndjson", records)
    import_file(store, good, ALERTS_PATH, tenant=TENANT_A, workers=2)
    assert _indexes(store) == before
    assert count(store, "alerts_v2") == 200


def test_bad_json_in_the_middle_falls_back_to_the_exact_place(store, tmp_path):
    lines = [orjson.dumps(alert(n)) for n in range(1, 60)]
    lines[40] = b'{"id": "da0041", "severity": "high",,}'
    path = tmp_path / "alerts.ndjson"
    path.write_bytes(b"\n".join(lines) + b"\n")
    with pytest.raises(ImportFailed, match=r"line 41, column 37: invalid JSON"):
        import_file(store, path, ALERTS_PATH, tenant=TENANT_A, workers=2)
    assert count(store, "alerts_v2") == 0


def test_a_record_over_several_lines_still_imports(store, tmp_path):
    """Pretty-printed records are NDJSON's cousin: the workers hand them to the general reader."""
    first = orjson.dumps(alert(1)).decode()
    spread = orjson.dumps(alert(2), option=orjson.OPT_INDENT_2).decode()
    path = tmp_path / "alerts.ndjson"
    path.write_text(f"{first}\n{spread}\n")
    result = import_file(store, path, ALERTS_PATH, tenant=TENANT_A, workers=2)
    assert result.records == 2
    assert count(store, "alerts_v2") == 2


def test_a_key_twice_in_a_first_load_keeps_the_last(store, tmp_path, monkeypatch):
    """On PostgreSQL the first load uses COPY FREEZE and starts over with upserts on a repeat."""
    monkeypatch.setattr("alertgraph.store.importer.PARALLEL_CHUNK", 16 << 10)
    records = generated(120)
    again = dict(records[3], title="the later copy wins")
    path = write_ndjson(tmp_path / "alerts.ndjson", [*records, again])
    result = import_file(store, path, ALERTS_PATH, tenant=TENANT_A, workers=2)
    assert result.records == 121
    assert count(store, "alerts_v2") == 120
    assert stored_json(store, TENANT_A)[again["id"]]["title"] == "the later copy wins"


def test_reimport_and_changes_upsert_into_a_loaded_table(store, tmp_path):
    records = generated(80)
    path = write_ndjson(tmp_path / "alerts.ndjson", records)
    import_file(store, path, ALERTS_PATH, tenant=TENANT_A, workers=2)
    before = rows(store, "alerts_v2")
    import_file(store, path, ALERTS_PATH, tenant=TENANT_A, workers=2)
    assert rows(store, "alerts_v2") == before
    records[5]["status"] = "resolved"
    changed = write_ndjson(tmp_path / "changed.ndjson", [records[5], alert(9001)])
    import_file(store, changed, ALERTS_PATH, tenant=TENANT_A, workers=2)
    after = stored_json(store, TENANT_A)
    assert len(after) == 81
    assert after[records[5]["id"]]["status"] == "resolved"


def test_expanded_navigations_go_to_their_sets_through_the_workers(store, tmp_path):
    data = demo_data(tenant_id=TENANT_A)
    incidents = data[INCIDENTS_PATH]
    path = write_ndjson(tmp_path / "incidents.ndjson", incidents)
    import_records(
        store, INCIDENTS_PATH, [(f"r{i}", r) for i, r in enumerate(incidents)], tenant=TENANT_B
    )
    result = import_file(store, path, INCIDENTS_PATH, tenant=TENANT_A, workers=2)
    assert result.records == len(incidents)
    for name in result.counts:
        table_a = [{k: v for k, v in r.items() if k != TENANT} for r in rows(store, name, TENANT_A)]
        table_b = [{k: v for k, v in r.items() if k != TENANT} for r in rows(store, name, TENANT_B)]
        assert table_a == table_b, name
        assert table_a


@pytest.mark.postgres
@pytest.mark.parametrize("first_load", [True, False])
def test_postgresql_is_ready_to_query_after_an_import(tmp_path, first_load):
    """Statistics and the visibility map are set: a count is an index-only scan, no heap fetch.

    A first load gets there with COPY FREEZE + ANALYZE, a load into a filled table with VACUUM.
    """
    with fresh_pg_schema() as url:
        store = Store.open(url)
        try:
            if not first_load:
                import_records(store, ALERTS_PATH, [("line 1", alert(1))], tenant=TENANT_B)
            _check_ready(store, tmp_path, 3000 if first_load else 3001, first_load)
        finally:
            store.engine.dispose()


def _check_ready(store, tmp_path, total, first_load):
    for _ in range(1):
        records = generated(3000)
        path = write_ndjson(tmp_path / "alerts.ndjson", records)
        import_file(store, path, ALERTS_PATH, tenant=TENANT_A, workers=2)
        table = store.tables["alerts_v2"].name
        with store.engine.connect() as conn:
            pages, visible, tuples = conn.execute(
                text(
                    "SELECT relpages, relallvisible, reltuples FROM pg_class "
                    "WHERE oid = to_regclass(:t)"
                ),
                {"t": table},
            ).one()
            assert tuples == total  # ANALYZE ran
            assert pages > 0
            if not first_load:
                # VACUUM ran; whether it may mark the pages all-visible depends on transactions
                # other clients of a shared test server hold open, so that is not asserted.
                vacuumed = conn.execute(
                    text(
                        "SELECT last_vacuum IS NOT NULL FROM pg_stat_user_tables "
                        "WHERE relid = to_regclass(:t)"
                    ),
                    {"t": table},
                ).scalar_one()
                assert vacuumed
                return
            assert visible == pages  # COPY FREEZE: every page all-visible at once
            conn.execute(text("SET enable_seqscan = off"))
            conn.execute(text("SET enable_bitmapscan = off"))
            plan = "\n".join(
                conn.execute(
                    text(
                        f'EXPLAIN (ANALYZE, FORMAT TEXT) SELECT count(*) FROM "{table}" '
                        "WHERE _tenant = :t AND severity = 3"
                    ),
                    {"t": TENANT_A},
                ).scalars()
            )
        assert "Index Only Scan" in plan
        assert "Heap Fetches: 0" in plan
        got = select(store.tables["alerts_v2"].c.id).where(
            store.tables["alerts_v2"].c[TENANT] == TENANT_A
        )
        with store.engine.connect() as conn:
            assert len(conn.execute(got).all()) == 3000


def test_the_pool_is_used_for_large_files_when_a_core_is_idle(tmp_path, monkeypatch):
    from alertgraph.store import importer

    path = write_ndjson(tmp_path / "alerts.ndjson", generated(20))
    monkeypatch.setattr(importer.os, "sched_getaffinity", lambda _pid: {0, 1})
    monkeypatch.setattr(importer.os, "getloadavg", lambda: (0.3, 0.3, 0.3))
    assert importer._default_workers(path) == 0  # small file: a pool costs more than it saves
    monkeypatch.setattr(importer, "PARALLEL_MIN_BYTES", 1)
    assert importer._default_workers(path) == 2
    monkeypatch.setattr(importer.os, "getloadavg", lambda: (1.5, 1.0, 1.0))
    assert importer._default_workers(path) == 2  # half a core idle, and the average lags
    monkeypatch.setattr(importer.os, "getloadavg", lambda: (2.0, 2.0, 2.0))
    assert importer._default_workers(path) == 0  # both cores busy: validate in one process
    monkeypatch.setattr(importer.os, "sched_getaffinity", lambda _pid: {0})
    monkeypatch.setattr(importer.os, "getloadavg", lambda: (0.0, 0.0, 0.0))
    assert importer._default_workers(path) == 0  # one core


@pytest.mark.postgres
def test_a_small_import_into_a_large_table_leaves_vacuum_to_autovacuum(tmp_path):
    """VACUUM reads the whole table: not worth it for a few rows (autovacuum's job then)."""
    with fresh_pg_schema() as url:
        store = Store.open(url)
        try:
            first = write_ndjson(tmp_path / "first.ndjson", generated(500))
            import_file(store, first, ALERTS_PATH, tenant=TENANT_A, workers=0)
            small = write_ndjson(tmp_path / "small.ndjson", [alert(1), alert(2)])
            import_file(store, small, ALERTS_PATH, tenant=TENANT_A, workers=0)
            with store.engine.connect() as conn:
                vacuumed = conn.execute(
                    text(
                        "SELECT last_vacuum IS NOT NULL FROM pg_stat_user_tables "
                        "WHERE relid = to_regclass(:t)"
                    ),
                    {"t": store.tables["alerts_v2"].name},
                ).scalar_one()
            assert not vacuumed
            assert count(store, "alerts_v2") == 502
        finally:
            store.engine.dispose()


def _storage_and_toast(store) -> tuple[set[str], int]:
    """The storage modes of the alerts table's columns, and its TOAST table's size in bytes."""
    table = store.tables["alerts_v2"].name
    with store.engine.connect() as conn:
        modes = conn.execute(
            text(
                "SELECT attstorage FROM pg_attribute WHERE attrelid = to_regclass(:t) "
                "AND attnum > 0 AND NOT attisdropped"
            ),
            {"t": f'"{table}"'},
        ).scalars()
        toast = conn.execute(
            text(
                "SELECT pg_relation_size(reltoastrelid) FROM pg_class WHERE oid = to_regclass(:t)"
            ),
            {"t": f'"{table}"'},
        ).scalar_one()
    return set(modes), toast


@pytest.mark.postgres
def test_postgresql_keeps_an_alert_in_its_row_and_upgrades_older_tables(tmp_path):
    """Long values are compressed in the row, not moved to TOAST (a lookup per row a page sends),
    through both ways an import writes (COPY FREEZE, and upserts from a staging table); a table
    made before that is given the setting when the database is opened."""
    with fresh_pg_schema() as url:
        store = Store.open(url)
        table = store.tables["alerts_v2"].name
        try:
            modes, _ = _storage_and_toast(store)
            assert "x" not in modes  # jsonb and text: MAIN, not EXTENDED
            assert "m" in modes
            records = generated(300)
            import_file(
                store, write_ndjson(tmp_path / "a.ndjson", records), ALERTS_PATH, tenant=TENANT_A
            )
            for record in records:
                record["title"] = "changed " + record["title"]
            import_file(
                store, write_ndjson(tmp_path / "b.ndjson", records), ALERTS_PATH, tenant=TENANT_A
            )
            assert _storage_and_toast(store)[1] == 0
            assert stored_json(store, TENANT_A) == expected_json(store, records)
            with store.engine.begin() as conn:  # as an older alertgraph left it
                conn.execute(
                    text(f'ALTER TABLE "{table}" ALTER COLUMN "_json" SET STORAGE EXTENDED')
                )
            assert "x" in _storage_and_toast(store)[0]
            store.engine.dispose()
            store = Store.open(url)
            assert "x" not in _storage_and_toast(store)[0]
        finally:
            store.engine.dispose()


def _sqlite_file_store(tmp_path):
    path = tmp_path / "alertgraph.db"
    return path, Store.open(f"sqlite:///{path}")


def _journal_mode(path) -> str:
    with contextlib.closing(sqlite3.connect(path)) as conn:
        return conn.execute("PRAGMA journal_mode").fetchone()[0]


def _wal_bytes(path) -> int:
    wal = path.with_name(path.name + "-wal")
    return wal.stat().st_size if wal.exists() else 0


@pytest.mark.parametrize("workers", [0, 2])
def test_a_first_sqlite_load_writes_its_pages_once_and_leaves_wal_mode(tmp_path, workers):
    """With the database to itself, a first load uses a rollback journal: nothing goes to the
    WAL (which would hold every page again until a checkpoint copied them), and the database
    is in WAL mode again afterwards."""
    db, store = _sqlite_file_store(tmp_path)
    try:
        records = generated(300)
        path = write_ndjson(tmp_path / "alerts.ndjson", records)
        import_file(store, path, ALERTS_PATH, tenant=TENANT_A, workers=workers)
        assert _wal_bytes(db) < 100_000  # (closing the last connection would remove it)
        assert count(store, "alerts_v2") == 300
        assert stored_json(store, TENANT_A) == expected_json(store, records)
    finally:
        store.engine.dispose()
    assert _journal_mode(db) == "wal"
    assert db.stat().st_size > 1_000_000  # 300 alerts and their indexes


def test_a_sqlite_load_shared_with_another_connection_stays_in_wal_mode(tmp_path):
    """Another connection (a running server, say) keeps the database shared: the import gives
    up the rollback journal at once, without waiting, and writes through the WAL as before."""
    db, store = _sqlite_file_store(tmp_path)
    reader = sqlite3.connect(db)
    try:
        assert reader.execute("SELECT count(*) FROM sqlite_master").fetchone()[0] > 0
        path = write_ndjson(tmp_path / "alerts.ndjson", generated(300))
        started = time.monotonic()
        import_file(store, path, ALERTS_PATH, tenant=TENANT_A, workers=0)
        assert time.monotonic() - started < 15  # not SQLite's 30 s busy timeout
        assert (
            reader.execute(f'SELECT count(*) FROM "{store.tables["alerts_v2"].name}"').fetchone()[0]
            == 300
        )
        assert _wal_bytes(db) > 1_000_000  # the pages went through the WAL
    finally:
        reader.close()
        store.engine.dispose()
    assert _journal_mode(db) == "wal"


def test_a_failed_first_sqlite_load_leaves_nothing_and_wal_mode(tmp_path, monkeypatch):
    monkeypatch.setattr("alertgraph.store.importer.BATCH_SIZE", 50)  # written before it fails
    db, store = _sqlite_file_store(tmp_path)
    before = _indexes(store)
    try:
        records = generated(300)
        records[280]["severity"] = "catastrophic"
        path = write_ndjson(tmp_path / "alerts.ndjson", records)
        with pytest.raises(ImportFailed, match="line 281: severity"):
            import_file(store, path, ALERTS_PATH, tenant=TENANT_A, workers=0)
        assert count(store, "alerts_v2") == 0
        assert _indexes(store) == before
    finally:
        store.engine.dispose()
    assert _journal_mode(db) == "wal"
    with contextlib.closing(sqlite3.connect(db)) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def test_an_in_memory_sqlite_store_keeps_its_database_through_a_first_load(tmp_path):
    """An in-memory database lives only in its connection: the first load's shortcuts on a
    SQLite file (closing idle pooled connections, a rollback journal) must leave it alone."""
    store = Store.open("sqlite://")
    try:
        path = write_ndjson(tmp_path / "alerts.ndjson", generated(50))
        result = import_file(store, path, ALERTS_PATH, tenant=TENANT_A, workers=0)
        assert result.counts == {"alerts_v2": 50}
        assert count(store, "alerts_v2") == 50
    finally:
        store.engine.dispose()


@pytest.mark.parametrize("depth", [300, 2000])
def test_a_record_nested_too_deeply_names_its_line_through_the_workers(store, tmp_path, depth):
    # 300: orjson reads it but can't write it back; 2000: orjson refuses it, the general reader's
    # decoder would recurse past Python's limit
    records = generated(40)
    path = write_ndjson(tmp_path / "alerts.ndjson", records)
    nested = "[" * depth + "]" * depth
    lines = path.read_text().splitlines()
    lines[30] = lines[30][:-1] + f', "additionalData": {{"k": {nested}}}}}'
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(ImportFailed) as caught:
        import_file(store, path, ALERTS_PATH, tenant=TENANT_A, workers=2)
    (problem,) = caught.value.problems
    assert problem.startswith("line 31")
    assert problem.endswith(
        "the JSON nests too deeply (more than 254 levels of arrays and objects)"
    )
    assert count(store, "alerts_v2") == 0


def test_nul_is_refused_through_the_workers(store, tmp_path):
    records = generated(40)
    records[12]["title"] = "nul \u0000 inside"
    path = write_ndjson(tmp_path / "alerts.ndjson", records)
    with pytest.raises(ImportFailed) as caught:
        import_file(store, path, ALERTS_PATH, tenant=TENANT_A, workers=2)
    assert caught.value.problems == ["line 13: text can't contain NUL (\\u0000)"]
    assert count(store, "alerts_v2") == 0
