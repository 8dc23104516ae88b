"""The read path in process, step by step: ``python -m bench.read_path --db URL``.

Times what one Graph read does on the server after uvicorn and Starlette hand it over, without
HTTP: authenticating a remembered token, the emulator's controls lookup, and each scenario's
handler, once with its kept plan (the steady state of a client polling the same URL) and once
with no plan kept (the first request of its kind: parse, bind, build and compile the SQL). Use a
database loaded by ``python -m bench.run`` (it holds the benchmark tenant and its sample ids).
Each step is timed in rounds; the minimum and the median of the rounds are printed, in µs.
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from alertgraph.emulator.hook import Emulator
from alertgraph.http.call import Call
from alertgraph.http.reads import handler_for
from alertgraph.http.routing import resolve
from alertgraph.identity.auth import Authenticator, AuthSettings, default_dev_grants
from alertgraph.odata import plans
from alertgraph.settings import Settings
from alertgraph.store.database import Store
from bench.data import TENANT
from bench.measure import call_rounds

ROOT = "http://127.0.0.1:8000/beta"
NEWEST = "$orderby=createdDateTime%20desc&$top=50"
FILTERED = "$filter=severity%20eq%20'high'%20and%20status%20eq%20'new'&" + NEWEST
SELECTED = "$select=id,title,severity,status,createdDateTime&" + NEWEST


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", required=True, help="a database loaded by python -m bench.run")
    parser.add_argument("--samples", help="its samples file (default: beside the database)")
    parser.add_argument("--repeat", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    settings = Settings.from_env({"ALERTGRAPH_DATABASE_URL": args.db})
    store = Store.open(args.db)
    samples = Path(args.samples) if args.samples else _samples_beside(args.db)
    some_id = json.loads(samples.read_text())["ids"][0]
    authenticator = Authenticator(store, AuthSettings())
    scopes, roles = default_dev_grants()
    token = authenticator.mint(tenant=TENANT, user="bench@alertgraph.dev", scopes=scopes,
                               directory_roles=roles)
    principal = authenticator.authenticate(f"Bearer {token}", request_id="bench")
    emulator = Emulator(store, settings)
    ticket = emulator.ticket(principal.tenant, principal.app_id, time.monotonic())
    steps: dict[str, Callable[[], object]] = {
        "authenticate (token remembered)": lambda: authenticator.authenticate(
            f"Bearer {token}", request_id="bench"
        ),
        "emulator controls (admin API on)": lambda: emulator.decide(
            ticket, method="GET", path="/security/alerts_v2"
        ),
    }
    requests = {
        "get by id": (f"/beta/security/alerts_v2/{some_id}", ""),
        "newest 50": ("/beta/security/alerts_v2", NEWEST),
        "severity+status, 50": ("/beta/security/alerts_v2", FILTERED),
        "same + $count": ("/beta/security/alerts_v2", FILTERED + "&$count=true"),
        "$select of 5, 50": ("/beta/security/alerts_v2", SELECTED),
    }
    for name, (path, query) in requests.items():
        target = resolve(path)
        handler = handler_for(target, "GET")

        def run(target: Any = target, handler: Any = handler, query: str = query) -> object:
            call = Call(store=store, settings=settings, principal=principal, target=target,
                        request_id="bench", service_root=ROOT, raw_query=query, evolvable=False)
            return handler(call)

        def cold(run: Callable[[], object] = run) -> object:
            plans.plans_of(store).clear()  # no plan kept
            return run()

        steps[f"{name}: plan kept"] = run
        steps[f"{name}: no plan kept"] = cold
    print(f"| step ({store.dialect}) | min µs | median µs |")  # noqa: T201
    print("|---|---|---|")  # noqa: T201
    for name, step in steps.items():
        low, middle = call_rounds(step, args.repeat, args.rounds, warmup=min(args.repeat, 50))
        print(f"| {name} | {low:.1f} | {middle:.1f} |")  # noqa: T201


def _samples_beside(db_url: str) -> Path:
    if not db_url.startswith("sqlite:///"):
        raise SystemExit("--samples is needed for a PostgreSQL database")
    database = Path(db_url.removeprefix("sqlite:///"))
    stem = database.name.removeprefix("alertgraph-").removesuffix(".db")
    return database.with_name(f"alerts-{stem}.samples.json")


if __name__ == "__main__":
    main()
