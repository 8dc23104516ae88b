"""Graph's error responses.

Every failure leaves the server as Graph's envelope ``{"error": {"code", "message",
"innerError": {"date", "request-id", "client-request-id"}}}``, rendered by the one handler in
http/app.py. Raise the most specific subclass; its ``code`` is the one Graph uses for the same
situation where we know it.
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Iterable
from typing import Any


class GraphError(Exception):
    status = 500
    code = "generalException"

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        status: int | None = None,
        target: str | None = None,
        details: list[dict[str, Any]] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        if status is not None:
            self.status = status
        self.target = target
        self.details = details
        self.headers = headers or {}

    def body(self, *, date: str, request_id: str, client_request_id: str) -> dict[str, Any]:
        error: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.target is not None:
            error["target"] = self.target
        if self.details is not None:
            error["details"] = self.details
        error["innerError"] = {
            "date": date,
            "request-id": request_id,
            "client-request-id": client_request_id,
        }
        return {"error": error}


class BadRequest(GraphError):
    status = 400
    code = "BadRequest"


class ODataError(BadRequest):
    """A query option Graph's OData stack rejects; ``position`` is a 0-based character offset."""

    def __init__(
        self, message: str, *, option: str | None = None, position: int | None = None
    ) -> None:
        prefix = ""
        if option is not None:
            prefix = f"Invalid {option}"
            if position is not None:
                prefix += f" at position {position}"
            prefix += ": "
        super().__init__(prefix + message)
        self.option = option
        self.position = position
        self.detail = message


class Unauthorized(GraphError):
    status = 401
    code = "InvalidAuthenticationToken"

    def __init__(self, message: str, *, error: str = "invalid_token") -> None:
        # RFC 6750 3.1: a request without credentials gets the challenge with no error code
        challenge = 'Bearer realm="alertgraph"'
        if error:
            # one printable ASCII line of bounded length, whatever the message quotes
            printable = "".join(c if " " <= c <= "~" else "?" for c in message)
            description = printable.replace(chr(34), chr(39)).replace("\\", "/")[:400]
            challenge += f', error="{error}", error_description="{description}"'
        super().__init__(message, headers={"WWW-Authenticate": challenge})


class Forbidden(GraphError):
    status = 403
    code = "Forbidden"


class NotFound(GraphError):
    status = 404
    code = "itemNotFound"


class MethodNotAllowed(GraphError):
    status = 405
    code = "Request_BadRequest"


class Conflict(GraphError):
    status = 409
    code = "conflict"


class PayloadTooLarge(GraphError):
    status = 413
    code = "requestTooLarge"


class UnsupportedMediaType(GraphError):
    status = 415
    code = "UnsupportedMediaType"


class TooManyRequests(GraphError):
    status = 429
    code = "TooManyRequests"


def as_json(value: Any) -> str:
    """A value the caller sent, for a message: as JSON (``null``, not Python's ``None``), any
    size of integer, at most 60 characters."""
    try:
        shown = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    except (TypeError, ValueError):  # not a JSON value: its text, as a JSON string
        shown = json.dumps(str(value), ensure_ascii=False)
    return shown if len(shown) <= 60 else shown[:57] + "..."


def did_you_mean(name: str, choices: Iterable[str]) -> str:
    """`` Did you mean 'x'?`` for the closest of ``choices`` (or one differing only in case), else
    an empty string: the one hint every error message uses."""
    options = list(choices)
    close = difflib.get_close_matches(name, options, n=1, cutoff=0.6)
    if not close:
        close = [choice for choice in options if choice.lower() == name.lower()][:1]
    return f" Did you mean '{close[0]}'?" if close else ""


def entity_not_found(path: str, key: str) -> NotFound:
    """The one 404 for a missing entity, on GET and on writes alike (``path``: the set's path)."""
    return NotFound(f"No {path} item has the id '{key}'.")
