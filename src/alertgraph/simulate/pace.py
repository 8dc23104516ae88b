"""Pacing: events on a monotonic schedule, so ``--rate`` holds however long each write takes.

Event ``n`` is due ``(n + 1) * 60 / rate`` seconds after the start; a late event is written at
once (catching up), never skipped, so the count over any run is what the rate promises.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

log = logging.getLogger("alertgraph")


@dataclass(slots=True)
class Tally:
    """Events written so far, by kind, and when the run started (monotonic seconds)."""

    started: float
    kinds: Counter[str] = field(default_factory=Counter)

    @property
    def total(self) -> int:
        return sum(self.kinds.values())

    def per_second(self, now: float | None = None) -> float:
        elapsed = (time.monotonic() if now is None else now) - self.started
        return self.total / elapsed if elapsed > 0 else 0.0


def run_paced(
    step: Callable[[], str],
    *,
    rate: float,
    events: int | None,
    duration: float | None,
    on_event: Callable[[Tally], None] | None = None,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> Tally:
    """Call ``step`` ``rate`` times a minute until ``events`` were written or ``duration`` ends.

    ``duration`` is wall-clock time: when the database falls behind the rate, late events are
    written at once, but the run still ends on time (it would otherwise last events ÷ the real
    rate)."""
    interval = 60.0 / rate
    tally = Tally(started=clock())
    while events is None or tally.total < events:
        due = (tally.total + 1) * interval
        if duration is not None and (due > duration + 1e-9 or clock() - tally.started >= duration):
            break
        wait = tally.started + due - clock()
        if wait > 0:
            sleep(wait)
        tally.kinds[step()] += 1
        if on_event is not None:
            on_event(tally)
    return tally


def run_in_background(
    database_url: str, tenant: str, *, rate: float, seed: int = 1
) -> threading.Thread:
    """Keep ``tenant`` alive from a daemon thread until the process ends (``serve --simulate``)."""
    from alertgraph.simulate.tenant import SimulatedTenant
    from alertgraph.store.database import Store

    def keep_alive() -> None:
        store = Store.open(database_url)
        live = SimulatedTenant(store, tenant, seed)
        live.prepare()
        try:
            run_paced(live.step, rate=rate, events=None, duration=None)
        except Exception:  # a simulator failure must not take the server down; say why
            log.exception("the simulator stopped")

    thread = threading.Thread(target=keep_alive, name="alertgraph-simulate", daemon=True)
    thread.start()
    return thread
