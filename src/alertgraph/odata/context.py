"""What a read needs besides the query: the store, the tenant, the version, URLs and limits."""

from __future__ import annotations

from dataclasses import dataclass

from alertgraph.odata.limits import DEFAULT_LIMITS, QueryLimits
from alertgraph.store.database import Store


@dataclass(frozen=True, slots=True)
class ReadContext:
    store: Store
    tenant: str
    service_root: str  # absolute, without a trailing slash, e.g. http://127.0.0.1:8000/beta
    version: str  # "beta" or "v1.0": the API version addressed
    evolvable: bool  # the client sent Prefer: include-unknown-enum-members
    limits: QueryLimits = DEFAULT_LIMITS
    #: entities may be answered as their stored JSON (orjson.Fragment), for a caller that only
    #: serializes the body; False: always dicts
    raw: bool = False
