"""Time the emulator's snapshot restore: ``python -m bench.snapshots --alerts 10000``.

Imports the first N benchmark alerts (full evidence) into a fresh database of each kind, saves a
snapshot, and times a restore after each thing a connector test typically does to its tenant:
nothing, change 100 alerts, change every alert, empty the tenant. Each case is timed ``--repeat``
times (the median is reported). ``python -m bench.run`` calls :func:`measure`.
"""

from __future__ import annotations

import argparse
import itertools
import statistics
import time
from collections.abc import Callable
from pathlib import Path

import orjson
from sqlalchemy import update

from alertgraph.emulator import snapshots
from alertgraph.store.database import TENANT, Store
from alertgraph.store.importer import import_records
from bench import data, report

#: the database each kind of server gets for the timing (made afresh every run)
DATABASE = "alertgraph_bench_snapshots"


def measure(
    ndjson: Path, alerts: int, workdir: Path, pg: str, repeat: int = 3
) -> dict[str, dict[str, float]]:
    """{database: {case: median seconds}} for a snapshot of the first ``alerts`` alerts."""
    results: dict[str, dict[str, float]] = {}
    for kind in ("sqlite", "postgresql") if pg else ("sqlite",):
        store = Store.open(data.fresh_database(kind, workdir, pg, DATABASE))
        try:
            results[kind] = _measure_one(store, ndjson, alerts, repeat)
        finally:
            store.engine.dispose()
    return results


def _measure_one(store: Store, ndjson: Path, alerts: int, repeat: int) -> dict[str, float]:
    with ndjson.open("rb") as lines:
        records = [orjson.loads(line) for line in itertools.islice(lines, alerts)]
    import_records(
        store,
        data.ALERTS_PATH,
        [(f"line {n + 1}", r) for n, r in enumerate(records)],
        tenant=data.TENANT,
    )
    table = store.tables["alerts_v2"]
    ids = [record["id"] for record in records]
    saved: list[float] = []
    for _ in range(repeat):
        started = time.perf_counter()
        snapshots.save(store, data.TENANT, "bench")
        saved.append(time.perf_counter() - started)

    def change(some: list[str]) -> Callable[[], None]:
        def run() -> None:
            with store.engine.begin() as conn:
                conn.execute(
                    update(table)
                    .where(table.c[TENANT] == data.TENANT, table.c.id.in_(some))
                    .values(title="changed by a test", _json=None)
                )

        return run

    def empty() -> None:
        snapshots.reset(store, data.TENANT)

    cases: dict[str, Callable[[], None]] = {
        "unchanged": lambda: None,
        "100 alerts changed": change(ids[:100]),
        "every alert changed": change(ids),
        "tenant emptied": empty,
    }
    results = {"save": statistics.median(saved)}
    for case, prepare in cases.items():
        timings = []
        for _ in range(repeat):
            prepare()
            started = time.perf_counter()
            snapshots.restore(store, data.TENANT, "bench")
            timings.append(time.perf_counter() - started)
        results[case] = statistics.median(timings)
    return results


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.snapshots", description=__doc__)
    parser.add_argument("--alerts", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--workdir", type=Path, default=Path("bench/.data"))
    parser.add_argument("--pg", default=data.DEFAULT_PG, help="PostgreSQL server URL ('' to skip)")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
    args.workdir.mkdir(parents=True, exist_ok=True)
    ndjson, _ = data.generate(args.workdir, args.alerts, args.seed)
    results = measure(ndjson, args.alerts, args.workdir, args.pg, args.repeat)
    print(report.snapshot_markdown(results, args.alerts))  # noqa: T201


if __name__ == "__main__":
    main()
