"""PostgreSQL against SQLite, in process: p50 per scenario, the ratio, and round trips per request.

The same generated alerts are imported into a SQLite file and a fresh PostgreSQL schema; the same
requests then go through the real app (Starlette's test client, no network) on each, interleaved.
Round trips are counted on the engine: every statement (``before_cursor_execute``) plus BEGIN,
COMMIT and ROLLBACK, and the pool's liveness checks. Usage:

    python -m bench.pg_parity [--count 5000] [--requests 200] [--pg postgresql://...]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, event, text
from starlette.testclient import TestClient

from bench.data import TENANT, generate, import_alertgraph
from bench.measure import HttpCall, check
from bench.scenarios import alertgraph

DEFAULT_PG = "postgresql://postgres@127.0.0.1:5432/postgres"


@contextmanager
def pg_schema(url: str) -> Iterator[str]:
    """A fresh schema on ``url`` (dropped afterwards), as a URL whose search_path is it."""
    schema = "parity_" + uuid.uuid4().hex[:10]
    admin = create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        joiner = "&" if "?" in url else "?"
        yield f"{url}{joiner}options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


class Counter:
    """Round trips on one engine: statements, transaction control, pool checks."""

    def __init__(self, engine: Any) -> None:
        self.count = 0
        self.statements: list[str] = []
        event.listen(engine, "before_cursor_execute", self._statement)
        for name in ("begin", "commit", "rollback"):
            event.listen(engine, name, self._control(name.upper()))
        if engine.dialect.name == "postgresql":
            event.listen(engine, "reset", self._reset)
        if getattr(engine.pool, "_pre_ping", False):  # one SELECT 1 per checkout
            event.listen(engine, "checkout", self._control("PRE-PING"))

    def _statement(self, _conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        self.count += 1
        self.statements.append(" ".join(statement.split())[:90])

    def _reset(self, dbapi_connection: Any, *_args: Any) -> None:
        # the pool's rollback on checkin is a round trip only inside a transaction (psycopg)
        if dbapi_connection.info.transaction_status != 0:
            self.count += 1
            self.statements.append("ROLLBACK (pool reset)")

    def _control(self, name: str) -> Callable[..., None]:
        def record(conn: Any, *_args: Any) -> None:
            if name != "PRE-PING" and getattr(
                conn.connection.dbapi_connection, "autocommit", False
            ):
                return  # SQLAlchemy's logical transaction; nothing goes to the server
            self.count += 1
            self.statements.append(name)

        return record

    def reset(self) -> None:
        self.count = 0
        self.statements = []


def say(line: str) -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def _app(url: str) -> Any:
    from alertgraph.http.app import create_app
    from alertgraph.settings import Settings

    return create_app(Settings(database_url=url))


def _token(app: Any) -> str:
    from alertgraph.identity.auth import default_dev_grants

    scopes, roles = default_dev_grants()
    return str(
        app.state.authenticator.mint(
            tenant=TENANT, user="bench@contoso.com", scopes=scopes, directory_roles=roles
        )
    )


def _send(client: TestClient, call: HttpCall, headers: dict[str, str]) -> bytes:
    response = client.request(call.method, call.url, json=call.json, headers=headers)
    if response.status_code >= 300:
        check(response, call.url)  # type: ignore[arg-type]
    return response.content


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--count", type=int, default=5000)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--pg", default=DEFAULT_PG)
    parser.add_argument("--show", action="store_true", help="print each scenario's statements")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="pg-parity-"))
    ndjson, samples = generate(work, args.count, seed=7)
    with pg_schema(args.pg) as pg_url:
        urls = {"sqlite": f"sqlite:///{work / 'parity.db'}", "postgresql": pg_url}
        for url in urls.values():
            import_alertgraph(url, ndjson, args.count)
        apps = {name: _app(url) for name, url in urls.items()}
        counters = {name: Counter(app.state.store.engine) for name, app in apps.items()}
        clients = {name: TestClient(app, base_url="http://bench") for name, app in apps.items()}
        headers = {n: {"Authorization": f"Bearer {_token(a)}"} for n, a in apps.items()}
        scenarios = alertgraph("http://bench/v1.0", samples)
        say(f"{args.count} alerts, {args.requests} requests per scenario and database")
        say(f"{'scenario':<22}{'SQLite p50':>12}{'PG p50':>10}{'PG/SQLite':>11}{'trips':>8}")
        try:
            for name, make in scenarios.items():
                times: dict[str, list[float]] = {db: [] for db in apps}
                trips: dict[str, list[int]] = {db: [] for db in apps}
                for i in range(args.requests + 5):
                    for db, client in clients.items():
                        counters[db].reset()
                        started = time.perf_counter()
                        _send(client, make(i), headers[db])
                        elapsed = time.perf_counter() - started
                        if i >= 5:  # warm-up
                            times[db].append(elapsed)
                            trips[db].append(counters[db].count)
                sqlite_p50 = statistics.median(times["sqlite"]) * 1000
                pg_p50 = statistics.median(times["postgresql"]) * 1000
                pg_trips = statistics.median(trips["postgresql"])
                say(
                    f"{name:<22}{sqlite_p50:>10.2f}ms{pg_p50:>8.2f}ms"
                    f"{pg_p50 / sqlite_p50:>10.2f}x{pg_trips:>8.0f}"
                )
                if args.show:
                    counters["postgresql"].reset()
                    _send(clients["postgresql"], make(args.requests + 7), headers["postgresql"])
                    for statement in counters["postgresql"].statements:
                        say("    " + statement)
        finally:
            for client in clients.values():
                client.close()
            for app in apps.values():
                app.state.store.engine.dispose()


if __name__ == "__main__":
    main()
