"""What the console asks of the Graph layer: one call in, one Outcome out (no HTTP types here).

alertgraph.http.internal implements :class:`Dispatch`; the views only build Graph URLs and read
Outcomes, so every view can show the exact request it made.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from alertgraph.errors import Forbidden
from alertgraph.identity.auth import Principal, authorize
from alertgraph.schema.endpoints import ENTITY_SETS, EntitySet


@dataclass(slots=True)
class Outcome:
    status: int
    headers: dict[str, str] = field(default_factory=dict)
    body: Any = None

    @classmethod
    def refusal(cls, message: str, status: int = 400, code: str = "BadRequest") -> Outcome:
        """The console's own refusal, before any Graph call, in the API's error shape."""
        return cls(status, {}, {"error": {"code": code, "message": message}})

    @property
    def ok(self) -> bool:
        return self.status < 400

    @property
    def error_message(self) -> str:
        if isinstance(self.body, dict) and isinstance(self.body.get("error"), dict):
            return str(self.body["error"].get("message", ""))
        return ""

    @property
    def error_code(self) -> str:
        if isinstance(self.body, dict) and isinstance(self.body.get("error"), dict):
            return str(self.body["error"].get("code", ""))
        return ""


class Dispatch(Protocol):
    def __call__(
        self,
        principal: Principal,
        method: str,
        path_and_query: str,
        body: Any,
        *,
        base_url: str,
        strict: bool | None = None,
    ) -> Outcome: ...


def set_at(path: str) -> EntitySet:
    """The entity set served at a Graph path such as ``/beta/security/alerts_v2``."""
    relative = path.split("/", 2)[2]
    for candidate in ENTITY_SETS:
        if candidate.path == relative:
            return candidate
    raise LookupError(path)


def may(principal: Principal, es: EntitySet, operation: str) -> bool:
    """Whether the API would allow ``operation`` (the same check; the console only greys out)."""
    try:
        authorize(principal, es, operation, request_id="console-view")
    except Forbidden:
        return False
    return True
