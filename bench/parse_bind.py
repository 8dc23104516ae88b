"""Parse + bind of typical list requests, uncached: ``python -m bench.parse_bind``.

Times ``query._bind`` (every option of a request parsed and bound to the EDM, without the engine's
cache) on the requests analysts' tools send. The machine this runs on is shared, so each request is
timed in several rounds and the minimum and the median of the rounds are reported; compare two
versions by running both in the same session (``--json`` prints machine-readable figures).
"""

from __future__ import annotations

import argparse
import json

from bench.measure import call_rounds
from bench.report import TYPICAL_FILTER

#: typical requests against alerts_v2 (option name -> value, as split from the query string)
REQUESTS: dict[str, dict[str, str]] = {
    "severity and status": {"$filter": "severity eq 'high' and status ne 'resolved'"},
    "date and source": {
        "$filter": "createdDateTime ge 2024-01-01T00:00:00Z and "
        "serviceSource eq 'microsoftDefenderForEndpoint'"
    },
    "evidence lambda": {"$filter": "evidence/any(e: e/verdict eq 'malicious')"},
    "report's typical filter": {"$filter": TYPICAL_FILTER},
    "list request": {
        "$filter": "severity eq 'high' and status ne 'resolved'",
        "$select": "id,title,severity,status,createdDateTime",
        "$orderby": "createdDateTime desc",
        "$top": "50",
        "$count": "true",
    },
}


def measure(repeat: int = 1000, rounds: int = 9) -> dict[str, dict[str, float]]:
    from alertgraph.odata import query
    from alertgraph.odata.limits import QueryLimits
    from alertgraph.schema.endpoints import entity_set

    alerts = entity_set("alerts_v2")
    limits = QueryLimits()
    results: dict[str, dict[str, float]] = {}
    for label, options in REQUESTS.items():

        def step(options: dict[str, str] = options) -> object:
            return query._bind(alerts, options, limits, depth=0)

        low, median = call_rounds(step, repeat, rounds, warmup=min(repeat, 200))
        results[label] = {"min_us": round(low, 2), "median_us": round(median, 2)}
    return results


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.parse_bind", description=__doc__)
    parser.add_argument("--repeat", type=int, default=1000, help="calls per round")
    parser.add_argument("--rounds", type=int, default=9, help="rounds per request")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    args = parser.parse_args(argv)
    results = measure(args.repeat, args.rounds)
    if args.json:
        print(json.dumps(results))
        return
    print("| request | min µs | median µs |")
    print("|---|---|---|")
    for label, row in results.items():
        print(f"| {label} | {row['min_us']:.1f} | {row['median_us']:.1f} |")


if __name__ == "__main__":
    main()
