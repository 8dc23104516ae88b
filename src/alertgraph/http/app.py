"""The ASGI app: one catch-all route for Graph paths, the identity routes, one error handler.

Request flow: ids → resolve the path (404) → pick the handler (405) → authenticate (401) → the
emulator's controls → read the body (413/415/400) → run the handler in the thread pool → Graph JSON.
A request without a body takes one worker-thread hop for all of its synchronous steps. Any
GraphError raised on the way leaves as Graph's error envelope; anything else is logged with the
request id and answered 500.
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
import logging
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import orjson
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Mount, Route, Router, request_response

from alertgraph.console import console_app
from alertgraph.emulator.admin import admin_routes
from alertgraph.emulator.hook import Decision, Emulator, Ticket
from alertgraph.errors import (
    BadRequest,
    GraphError,
    PayloadTooLarge,
    Unauthorized,
    UnsupportedMediaType,
)
from alertgraph.http import batch, versions
from alertgraph.http.call import Call, Reply
from alertgraph.http.ids import client_request_id as bounded_client_id
from alertgraph.http.internal import dispatcher
from alertgraph.http.reads import handler_for
from alertgraph.http.routing import resolve, version_of
from alertgraph.identity.auth import Authenticator, AuthSettings, Principal
from alertgraph.identity.oidc import auth_routes
from alertgraph.odata.context import Rider
from alertgraph.rules.validate import refuse_repeated_members
from alertgraph.schema import versions as schema_versions
from alertgraph.settings import Settings
from alertgraph.store.database import Store

log = logging.getLogger("alertgraph")

JSON_TYPE = (
    "application/json;odata.metadata=minimal;odata.streaming=true;"
    "IEEE754Compatible=false;charset=utf-8"
)
PREFER_EVOLVABLE = "include-unknown-enum-members"
BODY_METHODS = ("POST", "PATCH", "PUT")
T = TypeVar("T")


def create_app(settings: Settings, store: Store | None = None) -> Starlette:
    """Build the app for ``settings``; the store is opened (and its schema created) if not given."""
    store = store or Store.open(settings.database_url)
    auth_settings = AuthSettings(
        leeway_seconds=settings.token_leeway_seconds,
        trusted_issuers_file=(
            Path(settings.trusted_issuers_file) if settings.trusted_issuers_file else None
        ),
    )
    authenticator = Authenticator(store, auth_settings)
    emulator = Emulator(store, settings)
    store.durable_commits = settings.durable_commits

    async def graph(request: Request) -> Response:
        response = await _graph(request)
        # the emulator's journal: authenticated requests only (admit left a ticket)
        await emulator.finish(getattr(request.state, "emulator_ticket", None), request, response)
        return response

    async def _graph(request: Request) -> Response:
        request_id = str(uuid.uuid4())
        client_request_id = bounded_client_id(request.headers.get("client-request-id"), request_id)
        try:
            reply, call = await _serve(request, request_id, settings, store, authenticator)
        except GraphError as error:
            return _error_response(error, request_id, client_request_id)
        except Exception:
            log.exception("unexpected error (request-id %s)", request_id)
            unexpected = GraphError(
                f"An unexpected error occurred. Quote request-id {request_id} when reporting it.",
                code="generalException",
                status=500,
            )
            return _error_response(unexpected, request_id, client_request_id)
        response = _render(reply, request.method == "HEAD")
        response.headers["request-id"] = request_id
        response.headers["client-request-id"] = client_request_id
        response.headers["OData-Version"] = "4.0"
        if call is not None and PREFER_EVOLVABLE in request.headers.get("prefer", "").lower():
            response.headers["Preference-Applied"] = PREFER_EVOLVABLE
        if call is not None and call.after_response:
            from starlette.background import BackgroundTasks

            tasks = BackgroundTasks()
            for job in call.after_response:
                tasks.add_task(run_in_threadpool, job)
            response.background = tasks
        return response

    identity = auth_routes(store, auth_settings)
    routes = [
        *identity,
        # the triage console: HTML over the same handlers, as the signed-in token (console/)
        # "/console" as printed and documented: the mount below matches only "/console/..."
        Route("/console", lambda request: RedirectResponse("console/", 307), methods=["GET"]),
        Mount("/console", console_app(store, settings, authenticator, dispatcher(store, settings))),
        *(admin_routes(store, settings, emulator) if settings.admin_api else []),
        # every method: one Graph doesn't serve (TRACE, CONNECT...) gets its 405 with the ids
        Route("/{path:path}", graph, methods=None),
    ]
    app = Starlette()
    app.router = GraphRouter(routes, graph, identity)
    app.state.store = store
    app.state.settings = settings
    app.state.authenticator = authenticator
    app.state.emulator = emulator
    return app


class GraphRouter(Router):
    """The router, with a fast lane: a request under a service root (/beta, /v1.0) goes straight
    to the Graph endpoint instead of being tried against every route's pattern first (about a
    twentieth of the server's time on a get by id, docs/performance.md). Middleware still sees
    it: the router is the innermost layer."""

    def __init__(
        self, routes: list[BaseRoute], graph: Callable[[Request], Any], identity: list[BaseRoute]
    ) -> None:
        super().__init__(routes=routes)
        self._graph = request_response(graph)
        # a tenant named like a version ("/beta/oauth2/v2.0/token") still reaches its identity
        # route: the segments those routes put after {tenant} stay with the router
        self._identity_segments = frozenset(
            route.path.split("/")[2].lower()
            for route in identity
            if isinstance(route, Route) and route.path.startswith("/{tenant}/")
        )

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http" and self._graph_path(scope):
            await self._graph(scope, receive, send)
            return
        await super().__call__(scope, receive, send)

    def _graph_path(self, scope: Any) -> bool:
        path: str = scope["path"]
        root = scope.get("root_path", "")
        if root and path.startswith(root):
            path = path[len(root) :]
        first, _, rest = path[1:].partition("/")
        if version_of(first) is None:
            return False
        return rest.partition("/")[0].lower() not in self._identity_segments


async def _serve(
    request: Request,
    request_id: str,
    settings: Settings,
    store: Store,
    authenticator: Authenticator,
) -> tuple[Reply, Call | None]:
    raw_path = request.scope.get("raw_path", b"").decode("latin-1") or request.url.path
    raw_path = raw_path.split("?", 1)[0]
    credentials = request.headers.getlist("authorization")
    if len(credentials) > 1:
        # proxies differ on which of two headers counts; trust neither
        logging.getLogger("alertgraph.identity.auth").info(
            "authentication failed: %d Authorization headers (request %s)",
            len(credentials),
            request_id,
        )
        raise Unauthorized("Send one Authorization header, not several.", error="invalid_request")
    authorization = credentials[0] if credentials else None
    try:
        target = resolve(raw_path)
        versions.check_path(target)
        handler = handler_for(target, request.method)
    except GraphError:
        # Under a service root, whether a path or method exists is not told without a valid
        # token: 401 first. Paths outside /beta and /v1.0 (a browser's /favicon.ico) stay 404.
        if version_of(raw_path.lstrip("/").split("/", 1)[0]) is not None:
            await run_in_threadpool(
                authenticator.authenticate, authorization, request_id=request_id
            )
        raise
    if target.kind == "metadata":  # anonymous, as on Graph
        return metadata_reply(store, target.version), None
    emulator: Emulator = request.app.state.emulator
    method = request.method
    path = "/" + raw_path.lstrip("/").partition("/")[2]  # after the version
    raw_query = request.scope.get("query_string", b"").decode("latin-1")
    batch_root = target.kind == "batch" and not batch.is_sub_request(request.scope)
    evolvable = PREFER_EVOLVABLE in request.headers.get("prefer", "").lower()
    base = str(request.base_url).rstrip("/")
    state = request.state

    def call_for(
        principal: Principal, ticket: Ticket, body: Any, rider: Rider | None = None
    ) -> Call:
        return Call(
            store=store,
            settings=settings,
            principal=principal,
            target=target,
            request_id=request_id,
            service_root=f"{base}/{target.version}",
            raw_query=raw_query,
            evolvable=evolvable or ticket.unknown_enums,
            body=body,
            rider=rider,
        )

    def answer(call: Call, ticket: Ticket) -> Reply:
        versions.check_request(target, method, raw_query)
        reply = handler(call)
        ticket.shape(reply, target.kind, target.entity_set)
        return versions.shape_reply(target, reply)

    def riding(principal: Principal, ticket: Ticket) -> tuple[Call, Reply] | None:
        """A key lookup that reads the emulator's controls in its own statement (when they were
        quiet last time): the answer, if the controls it carried are still quiet; None, and
        nothing sent, when the request must be admitted first (then it is read again)."""
        rider = emulator.controls_rider(principal.tenant)
        if rider is None:
            return None
        call = call_for(principal, ticket, None, rider)
        try:
            _refuse_nul_in_url(raw_path, raw_query)
            reply = answer(call, ticket)
        except GraphError:  # a 404 or 403 is told only after the controls are applied
            return None
        return (call, reply) if emulator.quiet_with(principal.tenant, rider) else None

    def front() -> tuple[Principal, Ticket, Decision | None, Call | None, Reply | None]:
        """Authenticate, admit and, when nothing has to be awaited, answer: one worker-thread
        hop for a read instead of three (each costs more than a cached read itself)."""
        principal = authenticator.authenticate(authorization, request_id=request_id)
        # emulator controls (throttle, faults): after authentication, before any work
        ticket = emulator.ticket(principal.tenant, principal.app_id, time.monotonic())
        state.emulator_ticket = ticket
        if lookup and not batch_root:
            answered = riding(principal, ticket)
            if answered is not None:
                return principal, ticket, None, answered[0], answered[1]
        # a $batch counts as its sub-requests (each comes back through here), not as one more
        decision = None if batch_root else emulator.decide(ticket, method=method, path=path)
        if decision is not None:
            if decision.wait_ms:
                return principal, ticket, decision, None, None  # the event loop waits
            decision.carry_out(ticket)
        _refuse_nul_in_url(raw_path, raw_query)
        if batch_root or method in BODY_METHODS:
            return principal, ticket, None, None, None
        call = call_for(principal, ticket, None)
        return principal, ticket, None, call, answer(call, ticket)

    def on_the_loop() -> tuple[Call, Reply] | None:
        """A key lookup in a local SQLite file by a remembered token, with nothing for the
        emulator to write: bounded work that waits on no lock (WAL readers never wait), answered
        without the worker-thread hop, which costs more than the lookup (docs/performance.md)."""
        principal = authenticator.remembered(authorization)
        if principal is None:
            return None
        ticket = emulator.ticket(principal.tenant, principal.app_id, time.monotonic())
        state.emulator_ticket = ticket
        answered = riding(principal, ticket)
        if answered is None:
            if not emulator.quiet(principal.tenant):
                return None
            _refuse_nul_in_url(raw_path, raw_query)
            call = call_for(principal, ticket, None)
            answered = call, answer(call, ticket)
        return answered

    # a key lookup: one row (an expansion may read many)
    lookup = target.kind == "entity" and method in ("GET", "HEAD")
    lookup = lookup and "expand" not in raw_query.lower()
    if lookup and store.dialect == "sqlite":
        answered = on_the_loop()
        if answered is not None:
            return answered[1], answered[0]
    principal, ticket, decision, call, reply = await in_worker_thread(front)
    if reply is not None and call is not None:
        return reply, call
    if decision is not None:
        await asyncio.sleep(decision.wait_ms / 1000)
        decision.carry_out(ticket)
        _refuse_nul_in_url(raw_path, raw_query)
    body = await _read_body(request, settings)
    _refuse_nul(body)
    call = call_for(principal, ticket, body)
    ticket.request_body = body
    if batch_root:
        return await batch.run_batch(request, call), call
    return await in_worker_thread(answer, call, ticket), call


#: the threads Graph requests' synchronous steps run in (anyio's default limit is 40 as well)
_WORKERS = ThreadPoolExecutor(max_workers=40, thread_name_prefix="alertgraph-request")


async def in_worker_thread(function: Callable[..., T], *args: Any) -> T:
    """Run ``function`` in a worker thread, in a copy of the caller's context variables.

    What Starlette's ``run_in_threadpool`` does, straight through asyncio's executor: anyio's
    hand-off (capacity limiter, cancel scopes, async-library detection) cost a cached read
    about 20 µs more per request (docs/performance.md).
    """
    context = contextvars.copy_context()
    loop = asyncio.get_running_loop()
    return await loop.run_in_executor(_WORKERS, functools.partial(context.run, function, *args))


def _refuse_nul_in_url(raw_path: str, raw_query: str) -> None:
    if "%00" in raw_path or "%00" in raw_query:
        # PostgreSQL text can't hold NUL: refuse it here rather than fail in the database
        raise BadRequest("The URL contains an encoded NUL character (%00); ids and values can't.")


def app_from_environment() -> Starlette:
    """Factory for uvicorn workers: each process builds its app from ALERTGRAPH_* variables."""
    import os

    return create_app(Settings.from_env(os.environ))


def metadata_reply(store: Store, version: str = "beta") -> Reply:
    if version != "beta":  # the store's model is beta's; other roots publish their own
        return Reply(body=schema_versions.metadata_xml(version), kind="xml")
    return Reply(body=store.model.xml, kind="xml")


async def _read_body(request: Request, settings: Settings) -> Any:
    if request.method not in BODY_METHODS:
        return None
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > settings.max_body_bytes:
        raise PayloadTooLarge(
            f"The request body is {declared} bytes; the limit is {settings.max_body_bytes}."
        )
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > settings.max_body_bytes:
            raise PayloadTooLarge(f"The request body exceeds {settings.max_body_bytes} bytes.")
        chunks.append(chunk)
    raw = b"".join(chunks)
    if not raw.strip():
        return None
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type != "application/json" and not content_type.endswith("+json"):
        raise UnsupportedMediaType(
            f"Content-Type '{content_type or '(none)'}' is not supported; send the body as "
            "application/json."
        )
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise BadRequest(f"The request body is not valid JSON: {exc}.") from None
    if isinstance(body, dict | list) and raw.count(b'":') > 1:
        refuse_repeated_members(raw)
    return body


def _refuse_nul(body: Any) -> None:
    """400 for a NUL character anywhere in a JSON body (names or values): no column can store it.

    Iterative, since orjson accepts nesting deeper than Python's recursion limit.
    """
    pending: list[tuple[Any, str]] = [(body, "")]
    while pending:
        value, where = pending.pop()
        if isinstance(value, str) and "\x00" in value:
            raise BadRequest(f"{where or 'The request body'}: text can't contain NUL (\\u0000).")
        if isinstance(value, dict):
            for name, item in value.items():
                pending += [(name, where or "The request body"), (item, f"{where}/{name}")]
        elif isinstance(value, list):
            pending += [(item, f"{where}[{index}]") for index, item in enumerate(value)]


def _render(reply: Reply, head: bool) -> Response:
    if reply.status == 204 or (reply.body is None and reply.kind == "json"):
        return Response(status_code=reply.status, headers=reply.headers)
    if reply.kind == "text":
        content: bytes = str(reply.body).encode()
        media = "text/plain;charset=utf-8"
    elif reply.kind == "xml":
        content = reply.body if isinstance(reply.body, bytes) else str(reply.body).encode()
        media = "application/xml"
    else:
        content = orjson.dumps(reply.body)
        media = JSON_TYPE
    response = Response(
        b"" if head else content, status_code=reply.status, headers=reply.headers, media_type=media
    )
    if head:
        response.headers["content-length"] = str(len(content))
    return response


def _error_response(error: GraphError, request_id: str, client_request_id: str) -> Response:
    date = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S")
    body = error.body(date=date, request_id=request_id, client_request_id=client_request_id)
    headers = {
        **error.headers,
        "request-id": request_id,
        "client-request-id": client_request_id,
    }
    return Response(
        orjson.dumps(body), status_code=error.status, headers=headers, media_type=JSON_TYPE
    )
