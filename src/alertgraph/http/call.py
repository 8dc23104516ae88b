"""What a handler gets (Call) and gives back (Reply); no HTTP types below this line.

Handlers in reads.py (reads) and writes.py (writes and actions) are plain synchronous functions of a
Call, run in Starlette's thread pool, so database code stays synchronous.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from alertgraph.http.routing import Target
from alertgraph.identity.auth import Principal
from alertgraph.odata import QueryLimits, ReadContext
from alertgraph.odata.context import Rider
from alertgraph.settings import Settings
from alertgraph.store.database import Store


@dataclass(slots=True)
class Call:
    store: Store
    settings: Settings
    principal: Principal
    target: Target
    request_id: str
    #: absolute root of the version addressed, e.g. "http://127.0.0.1:8000/beta"
    service_root: str
    raw_query: str
    #: the client sent ``Prefer: include-unknown-enum-members`` (spec 4.11)
    evolvable: bool
    #: parsed JSON body (None when the request had none)
    body: Any = None
    #: work to run after the response has been sent (e.g. a refresh operation)
    after_response: list[Callable[[], None]] = field(default_factory=list)
    #: read along with a key lookup (the emulator's controls, http/app.py)
    rider: Rider | None = None

    @property
    def tenant(self) -> str:
        return self.principal.tenant

    def read_context(self, *, raw: bool = False) -> ReadContext:
        """The read engine's view of this call; ``raw``: the body is only serialized, so entities
        may come back as pre-serialized JSON."""
        return ReadContext(
            store=self.store,
            tenant=self.tenant,
            service_root=self.service_root,
            version=self.target.version,
            evolvable=self.evolvable,
            limits=QueryLimits.from_settings(self.settings),
            raw=raw,
            rider=self.rider,
        )


@dataclass(slots=True)
class Reply:
    status: int = 200
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    #: "json", "text" (the /$count segment) or "xml" ($metadata)
    kind: str = "json"
