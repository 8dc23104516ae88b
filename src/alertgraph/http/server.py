"""The HTTP server around the app: uvicorn's protocols, made to answer like the app does.

uvicorn writes some answers itself, before the ASGI app (:mod:`alertgraph.http.app`) sees the
request: a request it cannot parse (a header with a bare CR, a malformed request line) gets a
plain-text 400 without ids. These protocol subclasses answer those with Graph's error envelope and
the ``request-id``/``client-request-id`` headers, and :func:`app_from_environment` wraps the app to
refuse an HTTP/1.1 request without ``Host`` (which httptools lets through) the same way.
``alertgraph serve`` runs uvicorn with uvloop and httptools (see docs/performance.md).

The access log keeps uvicorn's logger, format and lines, but a line is written once the response
has gone to the socket rather than before its first byte: uvicorn logs as it starts a response,
which put the log's formatting and write (about 60 µs over HTTP) into every request's latency.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, MutableMapping
from datetime import UTC, datetime
from typing import Any, cast

import orjson
from uvicorn.protocols.http.h11_impl import H11Protocol
from uvicorn.protocols.utils import get_client_addr, get_path_with_query_string

from alertgraph.errors import BadRequest
from alertgraph.http.ids import new_request_id

JSON_TYPE = b"application/json;odata.metadata=minimal;odata.streaming=true;charset=utf-8"

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


def error_answer(message: str) -> tuple[list[tuple[bytes, bytes]], bytes]:
    """Headers and body of a Graph 400 ``BadRequest`` with fresh ids."""
    request_id = new_request_id()
    date = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S")
    body = orjson.dumps(
        BadRequest(message).body(date=date, request_id=request_id, client_request_id=request_id)
    )
    headers = [
        (b"content-type", JSON_TYPE),
        (b"content-length", str(len(body)).encode()),
        (b"request-id", request_id.encode()),
        (b"client-request-id", request_id.encode()),
        (b"connection", b"close"),
    ]
    return headers, body


UNPARSABLE = (
    "The request is not valid HTTP/1.1 (for example a header value with a bare CR, or a request "
    "line that is malformed or too long: keep the URL under 64 KB, or send long queries in a "
    "$batch body); it was not processed."
)


def _raw_400(default_headers: list[tuple[bytes, bytes]]) -> bytes:
    headers, body = error_answer(UNPARSABLE)
    lines = [b"HTTP/1.1 400 Bad Request"]
    lines += [name + b": " + value for name, value in [*default_headers, *headers]]
    return b"\r\n".join(lines) + b"\r\n\r\n" + body


#: uvicorn's access logger; its handlers and format come from uvicorn's logging configuration
ACCESS_LOG = logging.getLogger("uvicorn.access")


class _Deferred:
    """Set once this server's connections run the protocols below, which leave the access log to
    :func:`log_after_response` (under uvicorn's own protocols the wrapper stays silent, so a
    request is never logged twice)."""

    access_log = False


def _defer_access_log(protocol: Any) -> None:
    protocol.access_log = False
    _Deferred.access_log = True


class GraphH11Protocol(H11Protocol):
    """uvicorn's h11 protocol with Graph's 400 for requests it cannot parse."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _defer_access_log(self)

    def send_400_response(self, msg: str) -> None:
        self.transport.write(_raw_400(self.server_state.default_headers))
        self.transport.close()


try:
    from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
except ImportError:  # httptools missing: uvicorn falls back to h11
    HTTP_PROTOCOL: type[Any] = GraphH11Protocol
else:

    class GraphHttpToolsProtocol(HttpToolsProtocol):
        """uvicorn's httptools protocol with Graph's 400 for requests it cannot parse."""

        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            _defer_access_log(self)

        def send_400_response(self, msg: str) -> None:
            self.transport.write(_raw_400(self.server_state.default_headers))
            self.transport.close()

    HTTP_PROTOCOL = GraphHttpToolsProtocol


def require_host(app: ASGIApp) -> ASGIApp:
    """Answer an HTTP/1.1 request without ``Host`` with a 400 (RFC 9112, section 3.2)."""

    async def guarded(scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] == "http"
            and scope.get("http_version") == "1.1"
            and not any(name == b"host" for name, _ in scope.get("headers", ()))
        ):
            headers, body = error_answer("The request has no Host header; HTTP/1.1 requires one.")
            await send({"type": "http.response.start", "status": 400, "headers": headers})
            await send({"type": "http.response.body", "body": body})
            return
        await app(scope, receive, send)

    return guarded


def log_after_response(app: ASGIApp) -> ASGIApp:
    """uvicorn's access-log line for each HTTP request, written when the app has finished (the
    response is on the socket by then), with the status it sent; 500 if it sent none, as uvicorn
    then answers 500 itself."""

    async def logged(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not _Deferred.access_log or not ACCESS_LOG.hasHandlers():
            await app(scope, receive, send)
            return
        status = 500

        async def noting_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await app(scope, receive, noting_status)
        finally:
            ACCESS_LOG.info(
                '%s - "%s %s HTTP/%s" %d',
                get_client_addr(cast(Any, scope)),
                scope["method"],
                get_path_with_query_string(cast(Any, scope)),
                scope["http_version"],
                status,
            )

    return logged


def app_from_environment() -> ASGIApp:
    """The factory ``alertgraph serve`` gives uvicorn: the app, guarded and logged as above."""
    from alertgraph.http.app import app_from_environment as build

    return log_after_response(require_host(build()))
