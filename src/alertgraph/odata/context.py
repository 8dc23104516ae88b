"""What a read needs besides the query: the store, the tenant, the version, URLs and limits."""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass
from typing import Any

from alertgraph.odata.limits import DEFAULT_LIMITS, QueryLimits
from alertgraph.store.database import Store


@dataclass(slots=True)
class Rider:
    """A value the caller needs from the database anyway, read in the same statement as the
    entity a key lookup asks for: one statement, one pool checkout and (on PostgreSQL) one round
    trip fewer. The emulator's controls of the tenant ride this way (http/app.py).

    ``column`` is a scalar subquery whose only bind may be ``tenant``; ``key`` names it in kept
    plans. After the read, ``carried`` says whether a row brought it (not for an absent entity,
    nor for a read that was not a kept key lookup) and ``value`` holds it.
    """

    key: Hashable
    column: Any
    carried: bool = False
    value: Any = None


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
    #: read along with an entity's kept key lookup, if given (get_entity)
    rider: Rider | None = None
