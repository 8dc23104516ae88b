"""Graph-style throttling per (tenant, app): a sliding-window counter per limit in one database
row, advanced by one atomic UPSERT so replicas share it; refused requests count too (hook.py)."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

from sqlalchemy import case
from sqlalchemy.dialects import postgresql, sqlite

from alertgraph.emulator.spec import Limit, ThrottleSpec
from alertgraph.emulator.tables import counters_table
from alertgraph.store.database import Store

#: Graph's published limits that apply to the paths alertgraph serves (docs/testing-connectors.md
#: lists them with sources). (name, path prefix after the version or "" for any, limit, per tenant)
GRAPH_LIMITS: tuple[tuple[str, str, Limit, bool], ...] = (
    # "The following limits apply to any request on /security": 150 per minute per app per tenant
    ("security", "/security/", Limit(150, 60.0), True),
    # the global limit: 130,000 requests per 10 seconds per app across all tenants
    ("global", "", Limit(130_000, 10.0), False),
)


EPSILON = 1e-9


@dataclass(frozen=True, slots=True)
class Refusal:
    retry_after: int  # whole seconds until a request would be accepted
    scope: str  # which limit refused, e.g. "security 150/60s per app per tenant"


def limits_for(spec: ThrottleSpec, path: str) -> list[tuple[str, Limit, bool]]:
    """The (name, limit, per tenant) rules a request to ``path`` is counted against."""
    if spec.mode == "custom" and spec.limit is not None:
        return [("custom", spec.limit, True)]
    if spec.mode == "graph":
        return [
            (name, limit, per_tenant)
            for name, prefix, limit, per_tenant in GRAPH_LIMITS
            if path.startswith(prefix)
        ]
    return []


def check(
    store: Store, spec: ThrottleSpec, *, tenant: str, app_id: str, path: str
) -> Refusal | None:
    """Count one request; a Refusal when any applicable limit is exceeded."""
    refusals: list[Refusal] = []
    for name, limit, per_tenant in limits_for(spec, path):
        owner = f"{tenant}|{app_id}" if per_tenant else f"*|{app_id}"
        scope = f"{name}:{limit.requests}/{limit.seconds:g}|{owner}"
        wait = _count(store, scope, limit, time.time())
        if wait is not None:
            where = "per app per tenant" if per_tenant else "per app across all tenants"
            refusals.append(
                Refusal(wait, f"{limit.requests} requests per {limit.seconds:g} s {where}")
            )
    if not refusals:
        return None
    return max(refusals, key=lambda refusal: refusal.retry_after)


def _count(store: Store, scope: str, limit: Limit, now: float) -> int | None:
    """Advance the counter; None if accepted, else the whole seconds to wait."""
    window = int(now // limit.seconds)
    table = counters_table
    insert = (postgresql.insert if store.dialect == "postgresql" else sqlite.insert)(table)
    stored = table.c
    statement = (
        insert.values(scope=scope, window=window, previous=0, current=1)
        .on_conflict_do_update(
            index_elements=["scope"],
            set_={
                "previous": case(
                    (stored.window == window, stored.previous),
                    (stored.window == window - 1, stored.current),
                    else_=0,
                ),
                "current": case((stored.window == window, stored.current + 1), else_=1),
                "window": window,
            },
        )
        .returning(stored.previous, stored.current)
    )
    with store.engine.begin() as conn:
        previous, current = conn.execute(statement).one()
    # accepted if, counting this request, the window holds at most the limit
    if estimate(previous, current - 1, limit, window, now) + 1 <= limit.requests + EPSILON:
        return None
    return _retry_after(previous, current, limit, window, now)


def estimate(previous: int, current: int, limit: Limit, window: int, at: float) -> float:
    """Requests counted in the last ``limit.seconds`` before ``at``, from a counter row last
    advanced in ``window``: the previous window's count weighted by how much of it still
    overlaps, plus the current window's count."""
    size = limit.seconds
    now_window = int(at // size)
    if now_window == window + 1:
        previous, current = current, 0
    elif now_window != window:
        previous, current = 0, 0
    elapsed = at - now_window * size
    return previous * (size - elapsed) / size + current


def _retry_after(previous: int, current: int, limit: Limit, window: int, now: float) -> int:
    """Whole seconds until the estimate leaves room for one more request (``<= limit - 1``),
    if no further requests arrive."""
    size = limit.seconds
    room = limit.requests - 1
    end = (window + 1) * size
    # in the next window this window's count slides out; with no room, it must be gone entirely
    candidates = [end + max(0.0, size * (1 - room / current))]
    if current <= room and previous > 0:
        # still in this window, once enough of the previous one has slid out
        moment = window * size + size * (1 - (room - current) / previous)
        if moment < end:
            candidates.append(moment)
    wait = min(candidates) - now
    return max(1, math.ceil(wait - EPSILON))
