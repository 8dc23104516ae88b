"""The benchmark's data: one generated NDJSON file, loaded three ways.

1. alertgraph's own database (SQLite, optionally PostgreSQL) through the importer, timed: this is
   the import rate we report, with full validation.
2. A plain SQLite file shaped the way a datasette user would build it (one column per top-level
   property, nested values as JSON text, indexes on the sort and filter columns).
3. Nothing more for the floor: it reads alertgraph's SQLite file directly.

Generation is cached next to the data (same count and seed → same file), so repeated runs skip it.
"""

from __future__ import annotations

import collections
import json
import sqlite3
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson

TENANT = "b0000000-0000-4000-8000-00000000beef"
START = datetime(2025, 1, 1, tzinfo=UTC)
ALERTS_PATH = "security/alerts_v2"
#: the PostgreSQL server the benchmarks use unless told otherwise (--pg)
DEFAULT_PG = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"


def fresh_database(kind: str, workdir: Path, pg: str, name: str) -> str:
    """The URL of an empty database called ``name``: a SQLite file in ``workdir`` (``kind``
    "sqlite"), or a database dropped and created again on the PostgreSQL server at ``pg``."""
    if kind == "sqlite":
        path = workdir / f"{name}.db"
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        return f"sqlite:///{path}"
    from sqlalchemy import create_engine, text

    admin = create_engine(pg, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return pg.rpartition("/")[0] + "/" + name


@dataclass
class Samples:
    """Values picked from the generated data so every system is asked the same questions."""

    count: int
    ids: list[str]
    device: str  # a deviceDnsName present in a few dozen alerts
    device_alerts: int
    high_new: int  # alerts with severity high and status new
    generate_seconds: float


def generate(workdir: Path, count: int, seed: int) -> tuple[Path, Samples]:
    """Write ``count`` alerts as NDJSON (cached) and pick the sample values."""
    from alertgraph.seed.records import generate_alerts

    path = workdir / f"alerts-{count}-{seed}.ndjson"
    meta = path.with_suffix(".samples.json")
    if path.exists() and meta.exists():
        return path, Samples(**json.loads(meta.read_text()))
    started = time.perf_counter()
    devices: collections.Counter[str] = collections.Counter()
    ids: list[str] = []
    step = max(1, count // 2000)
    high_new = 0
    partial = path.with_suffix(".partial")
    with partial.open("wb") as out:
        records = generate_alerts(count, seed=seed, tenant_id=TENANT, start=START, span_days=365)
        for number, record in enumerate(records):
            out.write(orjson.dumps(record) + b"\n")
            if number % step == 0:
                ids.append(record["id"])
            if record["severity"] == "high" and record["status"] == "new":
                high_new += 1
            for item in record["evidence"]:
                name = item.get("deviceDnsName")
                if name and item.get("@odata.type", "").endswith(".deviceEvidence"):
                    devices[name] += 1
    partial.rename(path)
    device, device_alerts = _moderate(devices)
    samples = Samples(
        count=count,
        ids=ids,
        device=device,
        device_alerts=device_alerts,
        high_new=high_new,
        generate_seconds=time.perf_counter() - started,
    )
    meta.write_text(json.dumps(asdict(samples)))
    return path, samples


def _moderate(counter: collections.Counter[str]) -> tuple[str, int]:
    """The least frequent name seen at least 10 times (a selective but non-empty hunt)."""
    if not counter:
        raise RuntimeError("the generated alerts carry no deviceEvidence; nothing to hunt for")
    ranked = sorted(counter.items(), key=lambda item: (item[1], item[0]))
    for name, seen in ranked:
        if seen >= 10:
            return name, seen
    return ranked[-1]


@dataclass
class Loaded:
    url: str
    seconds: float
    count: int

    @property
    def rate(self) -> float:
        return self.count / self.seconds if self.seconds else 0.0


def import_alertgraph(url: str, ndjson: Path, count: int) -> Loaded:
    """Import the NDJSON into a fresh alertgraph database with the project's importer."""
    from alertgraph.store.database import Store
    from alertgraph.store.importer import import_file

    store = Store.open(url)
    try:
        started = time.perf_counter()
        import_file(store, ndjson, ALERTS_PATH, tenant=TENANT)
        seconds = time.perf_counter() - started
    finally:
        store.engine.dispose()
    return Loaded(url=url, seconds=seconds, count=count)


def _records(ndjson: Path) -> Iterator[dict[str, Any]]:
    with ndjson.open("rb") as lines:
        for line in lines:
            if line.strip():
                yield orjson.loads(line)


#: Indexes a datasette user would add for "newest first" and the severity/status facets.
DATASETTE_INDEXES = (
    'CREATE INDEX idx_alerts_created ON alerts ("createdDateTime")',
    'CREATE INDEX idx_alerts_sev_status ON alerts (severity, status, "createdDateTime")',
)


def export_datasette(ndjson: Path, db_path: Path) -> float:
    """The same alerts as a flat SQLite table, as ``sqlite-utils insert --pk id`` would make it."""
    started = time.perf_counter()
    if db_path.exists():
        db_path.unlink()
    columns: list[str] | None = None
    conn = sqlite3.connect(db_path)
    try:
        conn.execute("PRAGMA journal_mode=WAL")
        batch: list[tuple[Any, ...]] = []
        insert = ""
        for record in _records(ndjson):
            if columns is None:
                columns = [key for key in record if not key.startswith("@")]
                definitions = ", ".join(
                    f'"{name}" TEXT PRIMARY KEY' if name == "id" else f'"{name}"'
                    for name in columns
                )
                conn.execute(f"CREATE TABLE alerts ({definitions})")
                marks = ", ".join("?" for _ in columns)
                names = ", ".join(f'"{name}"' for name in columns)
                insert = f"INSERT INTO alerts ({names}) VALUES ({marks})"
            batch.append(tuple(_flat(record.get(name)) for name in columns))
            if len(batch) >= 5000:
                conn.executemany(insert, batch)
                batch.clear()
        if batch:
            conn.executemany(insert, batch)
        for statement in DATASETTE_INDEXES:
            conn.execute(statement)
        conn.execute("ANALYZE")
        conn.commit()
    finally:
        conn.close()
    return time.perf_counter() - started


def _flat(value: Any) -> Any:
    if isinstance(value, dict | list):
        return orjson.dumps(value).decode()
    return value
