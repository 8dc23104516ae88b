"""Which HTTP server should run alertgraph: the same app and database under several servers.

``python -m bench.http_servers --db sqlite:///bench/.data/alertgraph-100000-7.db`` starts each
candidate in turn on loopback (one process each), asks it the list scenarios with interleaved
requests at concurrency 1 (p50/p95) and then throughput with 4 concurrent clients, and prints a
Markdown table. Candidates: uvicorn as alertgraph serve runs it (uvloop + httptools, with the
protocols of ``alertgraph.http.server``), uvicorn with its pure-Python defaults (asyncio + h11),
and granian (Rust, ASGI interface).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

import httpx

from bench import measure
from bench.data import TENANT
from bench.servers import HOST, Server, _spawn, _wait_ready, free_port, mint_token

FACTORY = "alertgraph.http.server:app_from_environment"
LIST_PATH = "/beta/security/alerts_v2"
QUERIES = {
    "newest 50": "?$orderby=createdDateTime%20desc&$top=50",
    "severity+status, 50": "?$filter=severity%20eq%20'high'%20and%20status%20eq%20'new'"
    "&$orderby=createdDateTime%20desc&$top=50",
}


def commands(port: int) -> dict[str, list[str]]:
    py = sys.executable
    where = ["--host", HOST, "--port", str(port)]
    return {
        "uvicorn + uvloop + httptools (serve)": [
            py, "-m", "uvicorn", "--factory", FACTORY, *where,
            "--loop", "uvloop", "--http", "alertgraph.http.server:HTTP_PROTOCOL",
        ],
        "uvicorn, asyncio + h11": [
            py, "-m", "uvicorn", "--factory", FACTORY, *where, "--loop", "asyncio", "--http", "h11",
        ],
        "granian (asgi)": [
            py, "-m", "granian", "--interface", "asgi", "--factory", *where,
            "--workers", "1", FACTORY,
        ],
    }  # fmt: skip


def start(name: str, args: list[str], db: str, workdir: Path) -> Server:
    log = workdir / f"server-{name.split()[0]}.log"
    env = {"ALERTGRAPH_DATABASE_URL": db, "ALERTGRAPH_TENANT": TENANT}
    port = args[args.index("--port") + 1]
    server = Server(name, _spawn(args, log, **env), f"http://{HOST}:{port}", log)
    _wait_ready(server, "/beta/$metadata")
    return server


def _throughput(
    servers: dict[str, Server], headers: dict[str, str], query: str, what: str, seconds: float
) -> dict[str, float]:
    """Requests/s at 4 clients, in three rounds of short turns so load drifts hit all alike."""
    done = dict.fromkeys(servers, 0.0)
    for _ in range(3):
        for name, server in servers.items():
            url = server.base + LIST_PATH + query
            turn = seconds / 3
            rate = measure.http_throughput(
                headers,
                lambda i, url=url: measure.HttpCall("GET", url),
                f"{name} {what}",
                clients=4,
                count=100_000,
                seconds=turn,
            )
            done[name] += rate * turn
    return {name: total / seconds for name, total in done.items()}


def _ids_on_unparsable(server: Server) -> bool:
    """Whether the server's own answer to an unparsable request carries a request-id header."""
    import socket

    raw = b"GET /beta/$metadata HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Note: a\rb\r\n\r\n"
    port = int(server.base.rsplit(":", 1)[1])
    with socket.create_connection((HOST, port), timeout=10) as sock:
        sock.sendall(raw)
        answer = b""
        try:
            while chunk := sock.recv(65536):
                answer += chunk
        except (TimeoutError, ConnectionResetError):
            pass
    head = answer.split(b"\r\n\r\n", 1)[0].lower()
    return head.startswith(b"http/1.1 400") and b"\r\nrequest-id:" in head


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.http_servers", description=__doc__)
    parser.add_argument("--db", required=True, help="an alertgraph database with bench alerts")
    parser.add_argument("--requests", type=int, default=300, help="requests per server (p50)")
    parser.add_argument("--seconds", type=float, default=4.0, help="throughput time budget")
    parser.add_argument("--workdir", type=Path, default=Path("bench/.data"))
    args = parser.parse_args(argv)
    args.workdir.mkdir(parents=True, exist_ok=True)
    token = mint_token(args.db, TENANT)
    headers = {"Authorization": f"Bearer {token}"}
    servers: dict[str, Server] = {}
    try:
        for name in commands(0):
            servers[name] = start(name, commands(free_port())[name], args.db, args.workdir)
        clients = {name: httpx.Client(headers=headers, timeout=60) for name in servers}
        rows: list[str] = []
        hostile: dict[str, bool] = {}
        for scenario, query in QUERIES.items():
            samples: dict[str, list[float]] = {name: [] for name in servers}
            bodies = {
                name: clients[name].get(s.base + LIST_PATH + query).json()["value"]
                for name, s in servers.items()
            }
            first = next(iter(bodies.values()))
            for name, body in bodies.items():  # the same answer from every server
                if [a["id"] for a in body] != [a["id"] for a in first]:
                    raise RuntimeError(f"{name} answers {scenario} differently")
            for _ in range(args.requests):  # interleaved: load drifts hit every server alike
                for name, server in servers.items():
                    started = time.perf_counter()
                    response = clients[name].get(server.base + LIST_PATH + query)
                    samples[name].append(time.perf_counter() - started)
                    measure.check(response, f"{name} {scenario}")
            rates = _throughput(servers, headers, query, scenario, args.seconds)
            for name in servers:
                ordered = sorted(samples[name])
                p95 = ordered[round(0.95 * (len(ordered) - 1))]
                rows.append(
                    f"| {scenario} | {name} | {statistics.median(ordered) * 1000:.2f} | "
                    f"{p95 * 1000:.2f} | {rates[name]:.0f} |"
                )
        for name, server in servers.items():
            hostile[name] = _ids_on_unparsable(server)
        for client in clients.values():
            client.close()
    finally:
        for server in servers.values():
            server.stop()
    load = os.getloadavg()
    out = [
        f"Command: python -m bench.http_servers --db {args.db} --requests {args.requests}",
        f"Load average after: {load[0]:.1f}",
        "",
        "| scenario | server | p50 ms | p95 ms | req/s, 4 clients |",
        "|---|---|---|---|---|",
        *rows,
        "",
        "| server | its own 400 for a bare CR in a header carries request-id |",
        "|---|---|",
        *(f"| {name} | {'yes' if ok else 'no'} |" for name, ok in hostile.items()),
    ]
    sys.stdout.write("\n".join(out) + "\n")


if __name__ == "__main__":
    main()
