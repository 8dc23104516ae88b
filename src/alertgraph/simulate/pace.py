"""Pacing: events on a monotonic schedule, so ``--rate`` holds however long each write takes.

Event ``n`` is due ``(n + 1) * 60 / rate`` seconds after the start; a late event is written at
once (catching up), never skipped, so the count over any run is what the rate promises.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field


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
) -> Tally:
    """Call ``step`` ``rate`` times a minute until ``events`` were written or ``duration`` ends."""
    interval = 60.0 / rate
    tally = Tally(started=time.monotonic())
    while events is None or tally.total < events:
        due = (tally.total + 1) * interval
        if duration is not None and due > duration + 1e-9:
            break
        wait = tally.started + due - time.monotonic()
        if wait > 0:
            sleep(wait)
        tally.kinds[step()] += 1
        if on_event is not None:
            on_event(tally)
    return tally
