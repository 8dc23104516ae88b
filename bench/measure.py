"""Timing loops: latency at concurrency 1, throughput at N concurrent clients, and in-process
calls in rounds.

Every loop is bounded by a request count and a time budget, whichever comes first, and every
response is checked (a non-2xx answer stops the run with the server's message: a benchmark of
errors is worthless). HTTP clients are httpx; the floor runs in threads, one sqlite3
connection each.
"""

from __future__ import annotations

import asyncio
import statistics
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx


@dataclass
class HttpCall:
    method: str
    url: str
    json: Any = None


class BadAnswer(RuntimeError):
    pass


def call_rounds(
    step: Callable[[], object], repeat: int, rounds: int, warmup: int
) -> tuple[float, float]:
    """(min, median) over ``rounds`` of the mean microseconds of ``repeat`` calls of ``step``,
    after ``warmup`` calls; a burst of another process's work spoils one round, not the figure."""
    for _ in range(warmup):
        step()
    means = []
    for _ in range(rounds):
        started = time.perf_counter()
        for _ in range(repeat):
            step()
        means.append((time.perf_counter() - started) / repeat * 1e6)
    return min(means), statistics.median(means)


def check(response: httpx.Response, what: str) -> None:
    if response.status_code >= 300:
        raise BadAnswer(f"{what}: {response.status_code} {response.text[:500]}")


@dataclass
class Latency:
    samples: list[float]

    @property
    def p50(self) -> float:
        return statistics.median(self.samples)

    @property
    def p95(self) -> float:
        ordered = sorted(self.samples)
        return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def latency(run: Callable[[int], Any], *, count: int, seconds: float, warmup: int = 3) -> Latency:
    """Sequential calls: ``count`` of them or as many as fit in ``seconds`` (at least 5)."""
    for i in range(warmup):
        run(i)
    samples: list[float] = []
    deadline = time.perf_counter() + seconds
    for i in range(count):
        started = time.perf_counter()
        run(warmup + i)
        samples.append(time.perf_counter() - started)
        if len(samples) >= 5 and time.perf_counter() > deadline:
            break
    return Latency(samples)


def interleaved_latency(
    runs: dict[str, Callable[[int], Any]], *, count: int, seconds: float, warmup: int = 3
) -> dict[str, Latency]:
    """Latency of several systems asked in turn (A, B, C, A, B, C...), ``count`` rounds at most.

    Interleaving spreads every drift of a shared machine's load over all systems alike, so their
    ratios hold even when the absolute numbers move. ``seconds`` bounds each system's share.
    """
    for run in runs.values():
        for i in range(warmup):
            run(i)
    samples: dict[str, list[float]] = {name: [] for name in runs}
    deadline = time.perf_counter() + seconds * len(runs)
    for i in range(count):
        for name, run in runs.items():
            started = time.perf_counter()
            run(warmup + i)
            samples[name].append(time.perf_counter() - started)
        if i >= 4 and time.perf_counter() > deadline:
            break
    return {name: Latency(found) for name, found in samples.items()}


def http_latency(
    client: httpx.Client, make: Callable[[int], HttpCall], what: str, *, count: int, seconds: float
) -> Latency:
    def run(i: int) -> None:
        call = make(i)
        check(client.request(call.method, call.url, json=call.json), what)

    return latency(run, count=count, seconds=seconds)


def http_throughput(
    headers: dict[str, str],
    make: Callable[[int], HttpCall],
    what: str,
    *,
    clients: int,
    count: int,
    seconds: float,
) -> float:
    """Requests per second with ``clients`` concurrent connections (asyncio + httpx)."""

    async def main() -> tuple[int, float]:
        limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
        counter = iter(range(10**9))
        done = 0
        async with httpx.AsyncClient(headers=headers, limits=limits, timeout=600) as client:

            async def one(i: int) -> None:
                call = make(i)
                check(await client.request(call.method, call.url, json=call.json), what)

            # open every connection before the clock starts
            await asyncio.gather(*(one(i) for i in range(clients)))
            started = time.perf_counter()
            deadline = started + seconds

            async def worker() -> None:
                nonlocal done
                while done < count and time.perf_counter() < deadline:
                    call = make(next(counter))
                    response = await client.request(call.method, call.url, json=call.json)
                    check(response, what)
                    done += 1

            await asyncio.gather(*(worker() for _ in range(clients)))
            return done, time.perf_counter() - started

    done, elapsed = asyncio.run(main())
    return done / elapsed


def thread_throughput(
    open_worker: Callable[[], Callable[[int], Any]],
    *,
    clients: int,
    count: int,
    seconds: float,
) -> float:
    """Calls per second from ``clients`` threads, each with its own resources (the floor)."""
    runs = [open_worker() for _ in range(clients)]
    lock = threading.Lock()
    done = 0
    failures: list[BaseException] = []
    counter = iter(range(10**9))
    barrier = threading.Barrier(clients + 1)
    deadline = 0.0

    def loop(run: Callable[[int], Any]) -> None:
        nonlocal done
        barrier.wait()
        try:
            while True:
                with lock:
                    if done >= count or time.perf_counter() >= deadline:
                        return
                    number = next(counter)
                run(number)
                with lock:
                    done += 1
        except BaseException as exc:  # reported after the join
            failures.append(exc)

    threads = [threading.Thread(target=loop, args=(run,)) for run in runs]
    for thread in threads:
        thread.start()
    started = time.perf_counter()
    deadline = started + seconds
    barrier.wait()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    if failures:
        raise failures[0]
    return done / elapsed


class RssSampler:
    """Samples a process's RSS in the background; ``peak`` is the highest value seen."""

    def __init__(self, read: Callable[[], int], interval: float = 0.05) -> None:
        self.read = read
        self.interval = interval
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, self.read())
            self._stop.wait(self.interval)

    def __enter__(self) -> RssSampler:
        self.peak = self.read()
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, self.read())
