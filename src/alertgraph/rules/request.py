"""What a write rule is given (WriteRequest) and what it answers (Outcome), free of HTTP types.

http.writes builds a WriteRequest from the call, runs the endpoint's rule from
rules.endpoint_rules, and turns the Outcome into Graph's reply.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from alertgraph.errors import BadRequest
from alertgraph.store.database import Store
from alertgraph.store.transaction import Actor


@dataclass(slots=True)
class WriteRequest:
    store: Store
    actor: Actor
    body: Any
    #: the caller sent ``Prefer: include-unknown-enum-members``
    evolvable: bool
    #: the service root the client used (``https://host/beta``), for URLs in answers
    service_root: str
    key: str | None = None
    parent_key: str | None = None
    #: work to run once the response has been sent (a long-running operation's second half)
    after_response: list[Callable[[], None]] = field(default_factory=list)

    def no_parameters(self, action: str) -> None:
        """Refuse any body for an action that declares no parameters."""
        body = self.body
        if body is None or body == {}:
            return
        names = list(body) if isinstance(body, dict) else []
        raise BadRequest(
            f"{action} takes no parameters; send no body"
            + (f" (got: {', '.join(names)})." if names else ".")
        )


@dataclass(frozen=True, slots=True)
class Outcome:
    """How a write answers: its status, and either the entity ``entity_key`` as a GET would show
    it, a literal ``body``, or nothing."""

    status: int = 200
    entity_key: str | None = None
    body: dict[str, Any] | None = None
    headers: dict[str, str] = field(default_factory=dict)
