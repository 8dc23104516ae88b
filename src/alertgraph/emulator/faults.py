"""Fault injection decided by hash(seed, tenant, the tenant's request number in the database),
so a run replays exactly: errors, latency, 206 partial answers (spec.py parses, hook.py applies)."""

from __future__ import annotations

import fnmatch
import hashlib
from typing import Any

from sqlalchemy.dialects import postgresql, sqlite

from alertgraph.emulator.spec import FaultSpec
from alertgraph.emulator.tables import controls_table
from alertgraph.errors import GraphError
from alertgraph.store.database import TENANT, Store

#: Graph's error codes for the statuses a fault can take
FAULT_CODES = {
    429: ("TooManyRequests", "Please retry again later."),
    500: ("generalException", "An internal server error occurred (injected fault)."),
    502: ("generalException", "A gateway failed to reach the service (injected fault)."),
    503: ("serviceNotAvailable", "The service is temporarily unavailable (injected fault)."),
    504: ("generalException", "The gateway timed out waiting for the service (injected fault)."),
}
#: Retry-After sent with injected 429 and 503 answers
FAULT_RETRY_AFTER = 1
#: what an injected partial answer reports in its Warning header: a provider that timed out
PARTIAL_WARNING = '199 - "Microsoft/Microsoft Defender for Endpoint/504/10000"'


def applies(spec: FaultSpec, method: str, path: str) -> bool:
    """Whether the spec's path pattern and method match the request."""
    if spec.method is not None and spec.method != method.upper():
        return False
    return spec.path is None or fnmatch.fnmatchcase(path, spec.path)


def next_sequence(store: Store, tenant: str) -> int:
    """Number this request of ``tenant`` (1, 2, 3...) in one atomic statement."""
    table = controls_table
    insert = (postgresql.insert if store.dialect == "postgresql" else sqlite.insert)(table)
    statement = (
        insert.values({TENANT: tenant, "sequence": 1, "settings": None})
        .on_conflict_do_update(index_elements=[TENANT], set_={"sequence": table.c.sequence + 1})
        .returning(table.c.sequence)
    )
    with store.engine.begin() as conn:
        return int(conn.execute(statement).scalar_one())


def draw(spec: FaultSpec, tenant: str, sequence: int, purpose: str) -> float:
    """A number in [0, 1) fixed by the seed, the tenant, the request number and the purpose."""
    digest = hashlib.sha256(f"{spec.seed}:{tenant}:{sequence}:{purpose}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def delay_ms(spec: FaultSpec, tenant: str, sequence: int) -> float:
    if not spec.latency and not spec.jitter:
        return 0.0
    return spec.latency + spec.jitter * draw(spec, tenant, sequence, "jitter")


def injected_error(spec: FaultSpec, tenant: str, sequence: int) -> GraphError | None:
    """The error this request fails with, or None."""
    if spec.rate <= 0 or draw(spec, tenant, sequence, "fail") >= spec.rate:
        return None
    code, message = FAULT_CODES[spec.status]
    headers = {"Retry-After": str(FAULT_RETRY_AFTER)} if spec.status in (429, 503) else {}
    return GraphError(message, code=code, status=spec.status, headers=headers)


def partial(spec: FaultSpec, tenant: str, sequence: int) -> bool:
    return spec.partial > 0 and draw(spec, tenant, sequence, "partial") < spec.partial


def cut_to_partial(body: Any, headers: dict[str, str]) -> Any:
    """A list answer as Graph's security API gives it when a provider times out: 206, a Warning
    header, the items of the other providers (here: every other item), no nextLink."""
    if not isinstance(body, dict) or not isinstance(body.get("value"), list):
        return body
    headers["Warning"] = PARTIAL_WARNING
    kept = {key: value for key, value in body.items() if key != "@odata.nextLink"}
    kept["value"] = body["value"][::2]
    return kept
