"""Import rate alone: ``python -m bench.import_rate --alerts 100000 --workers 0,2``.

Imports the benchmark's generated NDJSON (cached in the work directory) into a fresh SQLite file and
a fresh PostgreSQL database once per worker count (0 = validate in the importing process), timing
``import_file`` end to end: reading, validation, writing, commit, and on PostgreSQL the ANALYZE or
VACUUM that leaves the database ready.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

from bench import data

#: the database each kind of server gets for the timing (made afresh per worker count)
DATABASE = "alertgraph_import_rate"


def main(argv: list[str] | None = None) -> None:
    from alertgraph.store.database import Store
    from alertgraph.store.importer import import_file

    parser = argparse.ArgumentParser(prog="python -m bench.import_rate", description=__doc__)
    parser.add_argument("--alerts", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--workers", default="0,2", help="worker counts to time")
    parser.add_argument("--pg", default=data.DEFAULT_PG, help="PostgreSQL server URL ('' to skip)")
    parser.add_argument("--workdir", type=Path, default=Path("bench/.data"))
    args = parser.parse_args(argv)
    args.workdir.mkdir(parents=True, exist_ok=True)
    ndjson, _ = data.generate(args.workdir, args.alerts, args.seed)
    kinds = ["sqlite", "postgresql"] if args.pg else ["sqlite"]
    lines = [
        f"Command: python -m bench.import_rate --alerts {args.alerts} --workers {args.workers}",
        "",
        "| database | workers | alerts/s | seconds | load average |",
        "|---|---|---|---|---|",
    ]
    for kind in kinds:
        for workers in [int(w) for w in args.workers.split(",")]:
            store = Store.open(data.fresh_database(kind, args.workdir, args.pg, DATABASE))
            started = time.perf_counter()
            import_file(store, ndjson, data.ALERTS_PATH, tenant=data.TENANT, workers=workers)
            seconds = time.perf_counter() - started
            store.engine.dispose()
            lines.append(
                f"| {kind} | {workers} | {args.alerts / seconds:,.0f} | {seconds:.1f} | "
                f"{os.getloadavg()[0]:.1f} |"
            )
            sys.stderr.write(lines[-1] + "\n")
    sys.stdout.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
