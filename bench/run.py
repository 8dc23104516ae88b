"""Run the benchmark: ``python -m bench.run --alerts 1000000`` (default 100,000 for a quick run).

Steps: generate alerts (cached) → import into alertgraph's SQLite (timed) → export a datasette
copy → import into PostgreSQL (timed) → start the servers on loopback → for every scenario, on
every system: p50/p95 at concurrency 1, throughput at 4 and 16 clients → parse+bind timing →
server RSS while one client pages through every alert → the console's pages rendered in process on
both databases → the emulator's snapshot restore at 10,000 alerts → a Markdown table and a JSON
file.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import sys
import time
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import create_engine, text

from bench import console, data, measure, report, scenarios, snapshots
from bench.servers import Server, start_alertgraph, start_datasette


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__)
    parser.add_argument("--alerts", type=int, default=100_000, help="alerts to generate")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--workdir", type=Path, default=Path("bench/.data"))
    parser.add_argument("--seconds", type=float, default=4.0, help="time budget per measurement")
    parser.add_argument(
        "--latency-seconds",
        type=float,
        default=None,
        help="time budget per system for the latency rounds (default: --seconds)",
    )
    parser.add_argument(
        "--requests", type=int, default=300, help="requests per system and scenario (p50)"
    )
    parser.add_argument("--pages", type=int, default=1000, help="the deep page to reach")
    parser.add_argument("--pg", default=data.DEFAULT_PG, help="PostgreSQL server URL ('' to skip)")
    parser.add_argument("--no-datasette", action="store_true")
    parser.add_argument("--no-walk", action="store_true", help="skip the RSS walk over all alerts")
    parser.add_argument(
        "--datasette-walk", action="store_true", help="also page datasette through every alert"
    )
    parser.add_argument("--reuse", action="store_true", help="keep databases loaded by a past run")
    parser.add_argument("--clients", default="4,16", help="concurrency levels for throughput")
    parser.add_argument(
        "--only",
        default="",
        help="comma-separated scenario names to run, e.g. 'severity+status, 50,same + $count'",
    )
    parser.add_argument("--no-console", action="store_true", help="skip the console's page renders")
    parser.add_argument(
        "--snapshot-alerts",
        type=int,
        default=10_000,
        help="alerts in the snapshot restore timing (0 skips it)",
    )
    return parser.parse_args(argv)


def _load_sqlite(args: argparse.Namespace, ndjson: Path) -> tuple[Path, dict[str, Any]]:
    name = f"alertgraph-{args.alerts}-{args.seed}"
    db = args.workdir / f"{name}.db"
    stamp = db.with_suffix(".import.json")
    if args.reuse and db.exists() and stamp.exists():
        return db, json.loads(stamp.read_text())
    url = data.fresh_database("sqlite", args.workdir, args.pg, name)
    loaded = data.import_alertgraph(url, ndjson, args.alerts)
    info = {"seconds": loaded.seconds, "rate": loaded.rate}
    stamp.write_text(json.dumps(info))
    return db, info


def _load_postgres(args: argparse.Namespace, ndjson: Path) -> tuple[str, dict[str, Any]]:
    name = f"alertgraph_bench_{args.alerts}_{args.seed}"
    stamp = args.workdir / f"{name}.import.json"
    if args.reuse and stamp.exists():
        admin = create_engine(args.pg, isolation_level="AUTOCOMMIT")
        try:
            with admin.connect() as conn:
                exists = conn.execute(
                    text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": name}
                ).scalar()
        finally:
            admin.dispose()
        if exists:
            return f"{args.pg.rpartition('/')[0]}/{name}", json.loads(stamp.read_text())
    url = data.fresh_database("postgresql", args.workdir, args.pg, name)
    # The importer leaves PostgreSQL analyzed and its visibility map set (COPY FREEZE into the
    # fresh tables): nothing is run after it, so the suite measures what a user gets.
    loaded = data.import_alertgraph(url, ndjson, args.alerts)
    info = {"seconds": loaded.seconds, "rate": loaded.rate}
    stamp.write_text(json.dumps(info))
    return url, info


def _say(message: str) -> None:
    sys.stderr.write(f"[{time.strftime('%H:%M:%S')}] {message}\n")
    sys.stderr.flush()


def _wanted(only: str) -> list[str]:
    """The scenarios ``--only`` names, in the suite's order. Names are separated by commas; a
    comma followed by a number belongs to the name ("severity+status, 50")."""
    if not only:
        return list(scenarios.SCENARIOS)
    named = {part.strip() for part in re.split(r",(?!\s*\d)", only) if part.strip()}
    unknown = named - set(scenarios.SCENARIOS)
    if unknown:
        raise SystemExit(
            f"--only: unknown scenario {sorted(unknown)}; the scenarios are "
            + ", ".join(repr(name) for name in scenarios.SCENARIOS)
        )
    return [name for name in scenarios.SCENARIOS if name in named]


def run(argv: list[str] | None = None) -> dict[str, Any]:
    args = parse_args(argv)
    args.workdir.mkdir(parents=True, exist_ok=True)
    clients = [int(c) for c in args.clients.split(",") if c]
    wanted = _wanted(args.only)
    started = time.perf_counter()
    results: dict[str, Any] = {
        "command": "python -m bench.run " + " ".join(sys.argv[1:] if argv is None else argv),
        "machine": report.machine(),
        "python": platform.python_version(),
        "alerts": args.alerts,
        "clients": clients,
        "scenarios": {},
        "load_before": os.getloadavg(),
    }

    _say(f"generating {args.alerts} alerts")
    ndjson, samples = data.generate(args.workdir, args.alerts, args.seed)
    results["samples"] = {k: v for k, v in asdict(samples).items() if k != "ids"}
    _say(f"importing into SQLite ({ndjson.stat().st_size / 1e6:.0f} MB of NDJSON)")
    sqlite_db, results["import_sqlite"] = _load_sqlite(args, ndjson)
    _say(f"SQLite import: {results['import_sqlite']['rate']:.0f} alerts/s")
    datasette_db = args.workdir / f"datasette-{args.alerts}-{args.seed}" / "alerts.db"
    if not args.no_datasette and not (args.reuse and datasette_db.exists()):
        datasette_db.parent.mkdir(exist_ok=True)
        _say("exporting the datasette copy")
        results["export_datasette_seconds"] = data.export_datasette(ndjson, datasette_db)
    pg_url = ""
    if args.pg:
        _say("importing into PostgreSQL")
        pg_url, results["import_postgresql"] = _load_postgres(args, ndjson)
        _say(f"PostgreSQL import: {results['import_postgresql']['rate']:.0f} alerts/s")

    servers: dict[str, Server] = {}
    try:
        servers["alertgraph"] = start_alertgraph(
            "alertgraph", f"sqlite:///{sqlite_db}", data.TENANT, args.workdir
        )
        if not args.no_datasette:
            servers["datasette"] = start_datasette(datasette_db, args.workdir)
        if pg_url:
            servers["postgresql"] = start_alertgraph(
                "alertgraph-pg", pg_url, data.TENANT, args.workdir
            )
        results["scenarios"] = _measure_all(
            args, servers, samples, sqlite_db, datasette_db, wanted, clients
        )
        results["parse_bind_us"] = report.parse_bind_micro()
        if not args.no_walk:
            results["rss"] = {
                name: _rss_walk(server, name, args.alerts)
                for name, server in servers.items()
                if name == "alertgraph" or (name == "datasette" and args.datasette_walk)
            }
    finally:
        for server in servers.values():
            server.stop()
    if not args.no_console:
        middle = samples.ids[len(samples.ids) // 2]
        results["console"] = {"sqlite": console.measure(f"sqlite:///{sqlite_db}", middle)}
        _say("console on SQLite timed")
        if pg_url:
            results["console"]["postgresql"] = console.measure(pg_url, middle)
            _say("console on PostgreSQL timed")
    if args.snapshot_alerts:
        results["snapshot_alerts"] = min(args.snapshot_alerts, args.alerts)
        results["snapshots"] = snapshots.measure(
            ndjson, results["snapshot_alerts"], args.workdir, args.pg
        )
        _say("snapshot restores timed")
    results["total_seconds"] = time.perf_counter() - started
    results["load_after"] = os.getloadavg()
    out = args.workdir / f"results-{args.alerts}-{time.strftime('%Y%m%d-%H%M%S')}.json"
    out.write_text(json.dumps(results, indent=2))
    table = report.markdown(results)
    out.with_suffix(".md").write_text(table + "\n")
    sys.stdout.write(table + "\n")
    _say(f"done in {results['total_seconds']:.0f} s; results in {out}")
    return results


def _measure_all(
    args: argparse.Namespace,
    servers: dict[str, Server],
    samples: data.Samples,
    sqlite_db: Path,
    datasette_db: Path,
    wanted: list[str],
    clients: list[int],
) -> dict[str, Any]:
    pages = max(2, min(args.pages, args.alerts // scenarios.PAGE_SIZE))
    calls: dict[str, dict[str, Callable[[int], measure.HttpCall]]] = {}
    http: dict[str, httpx.Client] = {
        name: httpx.Client(headers=server.headers, timeout=600) for name, server in servers.items()
    }
    walks: dict[str, Any] = {}
    floor = scenarios.Floor(str(sqlite_db), samples)
    floor_runs = floor.scenarios()
    paging = {"page 1", "page 1000"} & set(wanted)
    for name, server in servers.items():
        if paging and floor.cursor is None:
            floor.walk(pages)
        if not paging:
            calls[name] = (
                scenarios.datasette(server.base, samples)
                if name == "datasette"
                else scenarios.alertgraph(server.base, samples)
            )
            continue
        if name == "datasette":
            calls[name] = scenarios.datasette(server.base, samples)
            walk = scenarios.datasette_jump(server.base, str(datasette_db), floor.cursor)
            _check_same_page(http[name], walk.last, floor, floor_runs["page 1000"])
        else:
            calls[name] = scenarios.alertgraph(server.base, samples)
            walk = scenarios.alertgraph_walk(http[name], server.base, pages)
            _say(f"{name}: reached page {pages} in {walk.seconds:.1f} s")
            _check_same_page(http[name], walk.last, floor, floor_runs["page 1000"])
        walks[name] = walk
        calls[name]["page 1"] = lambda i, url=walk.first: measure.HttpCall("GET", url)
        calls[name]["page 1000"] = lambda i, url=walk.last: measure.HttpCall("GET", url)
    measured: dict[str, Any] = {}
    for scenario in wanted:
        _check_answers(scenario, servers, calls, http, floor, floor_runs)
        systems = [name for name in servers if scenario in calls[name]] + ["floor"]
        runs: dict[str, Callable[[int], Any]] = {}
        conn = floor.connect()
        for name in systems:
            if name == "floor":
                runs[name] = lambda i, conn=conn, run_one=floor_runs[scenario]: run_one(conn, i)
            else:

                def one(i: int, name: str = name, scenario: str = scenario) -> None:
                    call = calls[name][scenario](i)
                    response = http[name].request(call.method, call.url, json=call.json)
                    measure.check(response, f"{name} {scenario}")

                runs[name] = one
        budget = args.latency_seconds or args.seconds
        if scenario == "get by id":
            # every system reads the sampled rows once, untimed: at a million alerts their pages
            # may have left the OS cache (several imports since), and in a round only the first
            # system to read a row pays for the disk (the floor reads alertgraph's file after it)
            for run in runs.values():
                for i in range(args.requests + 3):
                    run(i)
        if scenario == "page 1000" and "datasette" in runs:
            # datasette reads its deep page by OFFSET for seconds each time, pushing the other
            # systems' pages out of the caches between their requests: it is timed on its own
            slow = {"datasette": runs.pop("datasette")}
            latencies = measure.interleaved_latency(runs, count=args.requests, seconds=budget)
            latencies |= measure.interleaved_latency(slow, count=args.requests, seconds=budget)
        else:
            latencies = measure.interleaved_latency(runs, count=args.requests, seconds=budget)
        conn.close()
        row: dict[str, Any] = {}
        for name in systems:
            lat = latencies[name]
            if name == "floor":

                def opener(run_one: Any = floor_runs[scenario]) -> Callable[[int], Any]:
                    worker_conn = floor.connect()
                    return lambda i: run_one(worker_conn, i)

                rates = {
                    c: measure.thread_throughput(
                        opener, clients=c, count=args.requests * c, seconds=args.seconds
                    )
                    for c in clients
                }
            else:
                make = calls[name][scenario]
                rates = {
                    c: measure.http_throughput(
                        servers[name].headers,
                        make,
                        f"{name} {scenario}",
                        clients=c,
                        count=args.requests * c,
                        seconds=args.seconds,
                    )
                    for c in clients
                }
            row[name] = {
                "p50_ms": lat.p50 * 1000,
                "p95_ms": lat.p95 * 1000,
                "n": len(lat.samples),
                "rps": {str(c): rate for c, rate in rates.items()},
            }
            _say(
                f"{scenario:<22} {name:<11} p50 {lat.p50 * 1000:8.2f} ms  p95 "
                f"{lat.p95 * 1000:8.2f} ms  "
                + "  ".join(f"c{c} {rate:7.1f}/s" for c, rate in rates.items())
            )
        measured[scenario] = row
        if scenario == "PATCH":
            _restore_patched(servers, http, datasette_db, samples)
    for client in http.values():
        client.close()
    measured["_walk_seconds"] = {name: walk.seconds for name, walk in walks.items()}
    return measured


def _restore_patched(
    servers: dict[str, Server],
    http: dict[str, httpx.Client],
    datasette_db: Path,
    samples: data.Samples,
) -> None:
    """Put every alert the PATCH scenario may have changed back as it was generated (the datasette
    copy is never patched), through alertgraph's own PATCH so stored JSON follows; the floor's
    raw UPDATEs of the same SQLite rows are overwritten too. A later ``--reuse`` run then finds
    the data its answer checks expect."""
    import sqlite3
    from urllib.parse import quote

    conn = sqlite3.connect(f"file:{datasette_db}?mode=ro", uri=True)
    try:
        originals = {
            key: (status, assigned or None)
            for key, status, assigned in conn.execute(
                'SELECT id, status, "assignedTo" FROM alerts WHERE id IN '
                f"({','.join('?' * len(samples.ids))})",
                samples.ids,
            )
        }
    finally:
        conn.close()
    started = time.perf_counter()
    for name, server in servers.items():
        if name == "datasette":
            continue
        for key, (status, assigned) in originals.items():
            response = http[name].patch(
                f"{server.base}/security/alerts_v2/{quote(key, safe='')}",
                json={"status": status, "assignedTo": assigned},
            )
            measure.check(response, f"{name}: restoring {key} after PATCH")
    _say(f"restored {len(originals)} patched alerts in {time.perf_counter() - started:.0f} s")


def _check_answers(
    scenario: str,
    servers: dict[str, Server],
    calls: dict[str, dict[str, Callable[[int], measure.HttpCall]]],
    http: dict[str, httpx.Client],
    floor: scenarios.Floor,
    floor_runs: dict[str, Callable[..., bytes]],
) -> None:
    """Before timing: every system returns the floor's alerts (same ids, same order, same count)."""
    import orjson

    if scenario not in CHECKED:
        return
    conn = floor.connect()
    try:
        for i in (0, 1):
            raw = floor_runs[scenario](conn, i)
            count = None
            if scenario == "same + $count":
                page_end = raw.rindex(b"}") + 1
                raw, count = raw[:page_end], int(raw[page_end:])
            limit = 1 if scenario == "get by id" else 50
            want = [row["id"] for row in orjson.loads(raw)["value"]][:limit]
            for name in servers:
                make = calls[name].get(scenario)
                if make is None:
                    continue
                response = http[name].get(make(i).url)
                measure.check(response, f"{name} {scenario}")
                body = response.json()
                rows = body.get("value", body.get("rows", [body]))
                got = [row["id"] for row in rows][:limit]
                if name == "datasette":
                    # datasette sorts createdDateTime as text, in which "…:00.5Z" and "…:00Z" do
                    # not order as the instants do: the same alerts, near-identical order.
                    if len(set(got) & set(want)) < 0.9 * len(want):
                        raise RuntimeError(f"{name} {scenario}: other alerts than the floor's")
                elif got != want:
                    raise RuntimeError(
                        f"{name} {scenario}: ids {got[:3]}... differ from the floor (after a "
                        "run's PATCH scenario, --reuse databases no longer hold the same data)"
                    )
                found = body.get("@odata.count", body.get("filtered_table_rows_count"))
                if count is not None and found != count:
                    raise RuntimeError(f"{name} {scenario}: count {found}, the floor's {count}")
    finally:
        conn.close()


CHECKED = ("newest 50", "severity+status, 50", "same + $count", "get by id")


def _check_same_page(
    client: httpx.Client, url: str, floor: scenarios.Floor, run_floor: Callable[..., bytes]
) -> None:
    """The deep page must hold the same alerts on every system, or the comparison is moot."""
    import orjson

    response = client.get(url)
    measure.check(response, "deep page")
    body = response.json()
    rows = body.get("value", body.get("rows", []))
    conn = floor.connect()
    try:
        expected = orjson.loads(run_floor(conn, 0))["value"][: len(rows)]
    finally:
        conn.close()
    got = [row["id"] for row in rows]
    want = [row["id"] for row in expected]
    if got[:1] != want[:1] or len(set(got) ^ set(want)) > 2:
        raise RuntimeError(f"deep page differs from the floor's: {got[:3]} vs {want[:3]}")


def _rss_walk(server: Server, name: str, alerts: int) -> dict[str, Any]:
    """Peak RSS of ``server`` while one client follows next links through every alert."""
    _say(f"{name}: paging through all {alerts} alerts while sampling RSS")
    with httpx.Client(headers=server.headers, timeout=600) as client:
        idle = server.rss_bytes()
        with measure.RssSampler(server.rss_bytes) as sampler:
            walk = scenarios.datasette_walk if name == "datasette" else scenarios.alertgraph_walk
            pages = -(-alerts // scenarios.PAGE_SIZE)
            result = walk(client, server.base, pages)
            measure.check(client.get(result.last), f"{name} last page")
    _say(f"{name}: walk took {result.seconds:.0f} s, peak RSS {sampler.peak / 2**20:.0f} MiB")
    return {
        "idle_mib": idle / 2**20,
        "peak_mib": sampler.peak / 2**20,
        "pages": pages,
        "seconds": result.seconds,
    }


if __name__ == "__main__":
    run()
