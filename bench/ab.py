"""Two versions of alertgraph side by side: ``python -m bench.ab BEFORE_SRC AFTER_SRC``.

Each version is an ``alertgraph serve`` started with its own source tree first on PYTHONPATH (a
``git worktree`` of the commit before, and this checkout's ``src``), both on the same database
loaded by ``python -m bench.run``. Requests alternate between the two, and which one goes first
alternates from round to round, so a change in the machine's load hits both alike; p50 and p95
of each are printed. Used for the before/after tables of docs/performance.md.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from pathlib import Path

import httpx

from bench import data, servers

SCENARIOS = {
    "get by id": None,  # walks the sampled ids
    "newest 50": "$orderby=createdDateTime desc&$top=50",
    "severity+status, 50": (
        "$filter=severity eq 'high' and status eq 'new'&$orderby=createdDateTime desc&$top=50"
    ),
    "page 1": "$top=100",
    "same + $count": (
        "$filter=severity eq 'high' and status eq 'new'"
        "&$orderby=createdDateTime desc&$top=50&$count=true"
    ),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("before", help="source tree of the first version (its src directory)")
    parser.add_argument("after", help="source tree of the second version")
    parser.add_argument("--alerts", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--workdir", type=Path, default=Path("bench/.data"))
    parser.add_argument("--db", help="database URL (default: the SQLite file bench.run loaded)")
    parser.add_argument(
        "--db-after",
        help="database URL of the second version (default: --db); compares two layouts of data",
    )
    parser.add_argument("--scenario", choices=sorted(SCENARIOS), default="get by id")
    parser.add_argument("--rounds", type=int, default=3000)
    args = parser.parse_args()
    samples_file = args.workdir / f"alerts-{args.alerts}-{args.seed}.samples.json"
    samples = data.Samples(**json.loads(samples_file.read_text()))
    db = args.db or f"sqlite:///{args.workdir / f'alertgraph-{args.alerts}-{args.seed}.db'}"
    started: dict[str, servers.Server] = {}
    try:
        dbs = {"before": db, "after": args.db_after or db}
        for name, tree in (("before", args.before), ("after", args.after)):
            os.environ["PYTHONPATH"] = str(Path(tree).resolve())
            started[name] = servers.start_alertgraph(
                f"ab-{name}", dbs[name], data.TENANT, args.workdir
            )
        clients = {name: httpx.Client(headers=s.headers) for name, s in started.items()}
        query = SCENARIOS[args.scenario]

        def url(name: str, i: int) -> str:
            base = f"{started[name].base}/security/alerts_v2"
            if query is None:
                return f"{base}/{samples.ids[i % len(samples.ids)]}"
            return f"{base}?{query}"

        for i in range(200):  # warm both: plans kept, rows in the cache
            for name in started:
                clients[name].get(url(name, i)).raise_for_status()
        times: dict[str, list[float]] = {name: [] for name in started}
        names = list(started)
        for i in range(args.rounds):
            for name in names if i % 2 else reversed(names):
                begun = time.perf_counter()
                response = clients[name].get(url(name, i))
                times[name].append(time.perf_counter() - begun)
                response.raise_for_status()
        shown = db if dbs["after"] == db else f"{db} against {dbs['after']}"
        print(f"{args.scenario}, {args.rounds} rounds, {shown}")
        for name, tree in (("before", args.before), ("after", args.after)):
            found = times[name]
            p95 = statistics.quantiles(found, n=20)[18]
            print(
                f"{name:6} {tree}: p50 {statistics.median(found) * 1000:.3f} ms"
                f"  p95 {p95 * 1000:.3f} ms"
            )
    finally:
        for server in started.values():
            server.stop()


if __name__ == "__main__":
    main()
