"""What an idle pause between requests costs each server: ``python -m bench.idle_gap``.

In the suite's interleaved rounds each server waits while the others answer (datasette, the
PostgreSQL server, the floor: 15 ms or more at a million alerts), so every request it gets comes
after an idle pause. This asks alertgraph and datasette, on the databases ``python -m bench.run``
loaded, in turn with no pause and with a pause after each request in which the client keeps its
own core busy (so only the servers go idle), and prints p50 of each. A cost both servers pay
alike after a pause belongs to the machine (waking an idle CPU), not to either server, and it
moves every ratio toward 1x.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

import httpx

from bench import data, scenarios, servers


def _busy(seconds: float) -> None:
    """Wait without sleeping, so the client's core never goes idle."""
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        pass


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--alerts", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--workdir", type=Path, default=Path("bench/.data"))
    parser.add_argument("--rounds", type=int, default=400)
    parser.add_argument("--gap-ms", type=float, default=15.0, help="the pause after a request")
    parser.add_argument("--scenario", action="append", help="default: newest 50, get by id")
    args = parser.parse_args()
    wanted = args.scenario or ["newest 50", "get by id"]
    name = f"{args.alerts}-{args.seed}"
    samples_file = args.workdir / f"alerts-{name}.samples.json"
    samples = data.Samples(**json.loads(samples_file.read_text()))
    started: list[servers.Server] = []
    try:
        alertgraph = servers.start_alertgraph(
            "gap-alertgraph",
            f"sqlite:///{args.workdir / f'alertgraph-{name}.db'}",
            data.TENANT,
            args.workdir,
        )
        started.append(alertgraph)
        datasette = servers.start_datasette(
            args.workdir / f"datasette-{name}" / "alerts.db", args.workdir
        )
        started.append(datasette)
        clients = {
            "alertgraph": httpx.Client(headers=alertgraph.headers),
            "datasette": httpx.Client(),
        }
        builders = {
            "alertgraph": scenarios.alertgraph(alertgraph.base, samples),
            "datasette": scenarios.datasette(datasette.base, samples),
        }
        print(f"{args.alerts:,} alerts, {args.rounds} rounds, p50 in ms")
        print("| scenario | pause | alertgraph | datasette | ratio |")
        print("|---|---|---|---|---|")
        for scenario in wanted:
            for system, client in clients.items():  # warm: plans kept, pages cached
                for i in range(30):
                    client.get(builders[system][scenario](i).url).raise_for_status()
            for gap in (0.0, args.gap_ms / 1000):
                times: dict[str, list[float]] = {system: [] for system in clients}
                for i in range(args.rounds):
                    for system, client in clients.items():
                        url = builders[system][scenario](i).url
                        begun = time.perf_counter()
                        response = client.get(url)
                        times[system].append(time.perf_counter() - begun)
                        response.raise_for_status()
                        _busy(gap)
                p50 = {system: statistics.median(found) * 1000 for system, found in times.items()}
                print(
                    f"| {scenario} | {gap * 1000:.0f} ms | {p50['alertgraph']:.2f} | "
                    f"{p50['datasette']:.2f} | {p50['alertgraph'] / p50['datasette']:.2f}x |"
                )
    finally:
        for server in started:
            server.stop()


if __name__ == "__main__":
    main()
