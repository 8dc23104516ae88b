"""Time the console's alert queue server-side: ``python -m bench.console --alerts 1000000``.

Generates and imports the benchmark alerts (cached in --workdir, like bench.run), signs in to the
console in-process and times whole page renders (Graph read through the keyset engine, counts,
chart, template): p50 and p95 per view, printed as a Markdown table. ``python -m bench.run`` calls
:func:`measure` on its own databases.
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

from starlette.testclient import TestClient

from alertgraph.http.app import create_app
from alertgraph.identity.auth import default_dev_grants
from alertgraph.settings import Settings
from bench import data

VIEWS = (
    ("queue, newest first", "/console/alerts"),
    ("queue, severity high", "/console/alerts?severity=high"),
    ("queue, high + new + 30 days", "/console/alerts?severity=high&status=new&range=30d"),
    ("queue, assigned to", "/console/alerts?assignedTo=x%40contoso.com"),
    ("counts and chart (loaded after the queue)", "/console/summary/alerts"),
)


def measure(url: str, alert_id: str, repeat: int = 30) -> dict[str, dict[str, float]]:
    """p50 and p95 milliseconds of each view (and one alert's page) rendered in process."""
    app = create_app(Settings(database_url=url))
    scopes, roles = default_dev_grants()
    token = app.state.authenticator.mint(
        tenant=data.TENANT, user="bench@contoso.com", scopes=scopes, directory_roles=roles
    )
    results: dict[str, dict[str, float]] = {}
    try:
        with TestClient(app) as client:
            assert client.post("/console/signin", data={"token": token}).status_code == 200
            for name, path in (*VIEWS, ("alert page", f"/console/alerts/{alert_id}")):
                timings = []
                for _ in range(repeat):
                    started = time.perf_counter()
                    response = client.get(path)
                    timings.append((time.perf_counter() - started) * 1000)
                    assert response.status_code == 200, response.text[:500]
                timings.sort()
                p95 = timings[min(len(timings) - 1, int(len(timings) * 0.95))]
                results[name] = {"p50_ms": statistics.median(timings), "p95_ms": p95}
    finally:
        app.state.store.engine.dispose()
    return results


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.console", description=__doc__)
    parser.add_argument("--alerts", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--workdir", type=Path, default=Path("bench/.data"))
    parser.add_argument("--repeat", type=int, default=30)
    args = parser.parse_args(argv)
    args.workdir.mkdir(parents=True, exist_ok=True)
    ndjson, samples = data.generate(args.workdir, args.alerts, args.seed)
    db = args.workdir / f"console-{args.alerts}-{args.seed}.db"
    url = f"sqlite:///{db}"
    if not db.exists():
        loaded = data.import_alertgraph(url, ndjson, samples.count)
        print(f"imported {loaded.count} alerts in {loaded.seconds:.0f} s")  # noqa: T201
    rows = measure(url, samples.ids[len(samples.ids) // 2], args.repeat)
    print(f"\nConsole renders, {samples.count:,} alerts, SQLite, in-process (ms)\n")  # noqa: T201
    print("| view | p50 | p95 |\n|---|---:|---:|")  # noqa: T201
    for name, row in rows.items():
        print(f"| {name} | {row['p50_ms']:.1f} | {row['p95_ms']:.1f} |")  # noqa: T201


if __name__ == "__main__":
    main()
