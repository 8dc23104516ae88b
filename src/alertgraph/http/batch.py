"""JSON batching (``POST /{version}/$batch``): up to 20 requests in one, as Graph does it.

Each sub-request is sent through the whole ASGI application in-process, carrying the caller's
Authorization header, so it is authenticated, authorized, throttled, journaled... exactly like the
same request sent alone: nothing here re-implements a rule. app.py hands the outer request here.
"""

from __future__ import annotations

import base64
import binascii
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import unquote

import orjson
from starlette.requests import Request

from alertgraph.errors import BadRequest, GraphError
from alertgraph.http.call import Call, Reply

#: Graph: "JSON batch requests are currently limited to 20 individual requests."
MAX_REQUESTS = 20
METHODS = frozenset({"GET", "HEAD", "POST", "PATCH", "PUT", "DELETE"})
#: ASGI scope extension marking a sub-request (its batch and item id), for nested-batch refusal
#: and for any middleware that wants to know
SCOPE_KEY = "alertgraph.batch"
#: response headers that describe the transport, not the sub-response
_HOP_HEADERS = frozenset({"content-length", "date", "server", "transfer-encoding", "connection"})


@dataclass(slots=True)
class Item:
    id: str
    method: str
    url: str
    headers: dict[str, str]
    body: bytes | None
    depends_on: list[str] = field(default_factory=list)


def is_sub_request(scope: Mapping[str, Any]) -> bool:
    return SCOPE_KEY in scope.get("extensions", {})


def nested_batch(call: Call) -> Reply:
    """A ``$batch`` inside a batch (the outer one never reaches a handler)."""
    raise BadRequest(
        "Nested batches are not supported: a request inside a $batch can't be a $batch itself."
    )


async def run_batch(request: Request, call: Call) -> Reply:
    """Validate the whole batch (400 if malformed), then run its items in dependency order."""
    items = _parse(call.body)
    answers: dict[str, dict[str, Any]] = {}
    for item in _ordered(items):
        failed = [dep for dep in item.depends_on if not 200 <= answers[dep]["status"] < 300]
        if failed:
            answers[item.id] = _failed_dependency(item, failed, call)
        else:
            answers[item.id] = await _dispatch(request, call, item)
    # in request order (Graph allows any order; clients correlate by id)
    return Reply(body={"responses": [answers[item.id] for item in items]})


def _parse(body: Any) -> list[Item]:
    if not isinstance(body, dict) or not isinstance(body.get("requests"), list):
        raise BadRequest(
            'A $batch body is a JSON object with a "requests" array, e.g. {"requests": [{"id": '
            '"1", "method": "GET", "url": "/security/alerts_v2"}]}.'
        )
    raw_items = body["requests"]
    if not raw_items:
        raise BadRequest('The $batch "requests" array is empty; send 1 to 20 requests.')
    if len(raw_items) > MAX_REQUESTS:
        raise BadRequest(
            f"The $batch holds {len(raw_items)} requests; a batch can hold at most {MAX_REQUESTS}."
        )
    items: list[Item] = []
    seen: dict[str, str] = {}
    for index, raw in enumerate(raw_items):
        item = _item(raw, index)
        folded = item.id.lower()  # ids are not case-sensitive on Graph
        if folded in seen:
            raise BadRequest(
                f"requests[{index}]: the id '{item.id}' is used twice (ids are compared "
                f"ignoring case; '{seen[folded]}' came first). Every id must be unique."
            )
        seen[folded] = item.id
        items.append(item)
    for index, item in enumerate(items):
        resolved = []
        for dep in item.depends_on:
            if dep.lower() not in seen:
                raise BadRequest(
                    f"requests[{index}] (id '{item.id}'): dependsOn names '{dep}', which is not "
                    "the id of a request in this batch."
                )
            resolved.append(seen[dep.lower()])
        item.depends_on = resolved
    return items


def _item(raw: Any, index: int) -> Item:
    where = f"requests[{index}]"
    if not isinstance(raw, dict):
        raise BadRequest(f"{where} is not a JSON object with id, method and url.")
    ident = raw.get("id")
    if not isinstance(ident, str) or not ident:
        raise BadRequest(f"{where}: 'id' is required and must be a non-empty string.")
    where = f"{where} (id '{ident}')"
    method = raw.get("method")
    if not isinstance(method, str) or method.upper() not in METHODS:
        raise BadRequest(f"{where}: 'method' must be one of {', '.join(sorted(METHODS))}.")
    url = raw.get("url")
    if not isinstance(url, str) or not url.strip():
        raise BadRequest(f"{where}: 'url' is required, e.g. \"/security/alerts_v2\".")
    if "://" in url.split("?", 1)[0] or url.startswith("//"):
        raise BadRequest(
            f"{where}: the url '{url}' is absolute; batch urls are relative to the batch's "
            'version root, e.g. "/security/alerts_v2?$top=5".'
        )
    headers = raw.get("headers", {}) or {}
    if not isinstance(headers, dict) or not all(
        isinstance(name, str) and isinstance(value, str) for name, value in headers.items()
    ):
        raise BadRequest(f"{where}: 'headers' must be an object of string values.")
    headers = {name.lower(): value for name, value in headers.items()}
    body: bytes | None = None
    if "body" in raw and raw["body"] is not None:
        if "content-type" not in headers:
            # Graph: "When the body is supplied, a Content-Type header must be included."
            raise BadRequest(
                f"{where}: a request with a body needs a Content-Type header in 'headers', "
                'e.g. "headers": {"Content-Type": "application/json"}.'
            )
        body = _encode_body(raw["body"], headers["content-type"], where)
    depends = raw.get("dependsOn", [])
    if not isinstance(depends, list) or not all(isinstance(dep, str) for dep in depends):
        raise BadRequest(f"{where}: 'dependsOn' must be an array of request ids.")
    return Item(ident, method.upper(), url.strip(), headers, body, list(depends))


def _encode_body(value: Any, content_type: str, where: str) -> bytes:
    """A JSON body is sent as JSON; a string for another type is base64, as Graph documents."""
    if isinstance(value, str) and "json" not in content_type.lower():
        try:
            return base64.b64decode(value + "=" * (-len(value) % 4), altchars=b"-_")
        except (binascii.Error, ValueError):
            raise BadRequest(
                f"{where}: a non-JSON body must be base64 (URL-safe) encoded."
            ) from None
    return orjson.dumps(value)


def _ordered(items: list[Item]) -> list[Item]:
    """Items in an order where each follows what it depends on; 400 on a cycle."""
    by_id = {item.id: item for item in items}
    done: set[str] = set()
    visiting: set[str] = set()
    order: list[Item] = []

    def visit(item: Item) -> None:
        if item.id in done:
            return
        if item.id in visiting:
            raise BadRequest(f"dependsOn forms a cycle through the request id '{item.id}'.")
        visiting.add(item.id)
        for dep in item.depends_on:
            visit(by_id[dep])
        visiting.discard(item.id)
        done.add(item.id)
        order.append(item)

    for item in items:
        visit(item)
    return order


def _failed_dependency(item: Item, failed: list[str], call: Call) -> dict[str, Any]:
    error = GraphError(
        f"The request id '{item.id}' was not run: the request(s) it depends on "
        f"({', '.join(failed)}) failed.",
        code="FailedDependency",
        status=424,
    )
    date = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S")
    request_id = str(uuid.uuid4())
    body = error.body(date=date, request_id=request_id, client_request_id=request_id)
    return {
        "id": item.id,
        "status": 424,
        "headers": {"content-type": "application/json"},
        "body": body,
    }


async def _dispatch(request: Request, call: Call, item: Item) -> dict[str, Any]:
    """Run one item through the whole application and capture its answer."""
    url = item.url if item.url.startswith("/") else "/" + item.url
    raw_path, _, query = url.partition("?")
    raw_path = f"/{call.target.version}{raw_path}"
    headers = {name: value for name, value in item.headers.items() if name != "authorization"}
    headers.setdefault("client-request-id", str(uuid.uuid4()))
    if item.body is not None:
        headers["content-length"] = str(len(item.body))
    outer = request.scope
    asgi_headers = [(b"host", request.headers.get("host", "localhost").encode("latin-1"))]
    asgi_headers += [
        (name.encode("latin-1"), value.encode("latin-1")) for name, value in headers.items()
    ]
    # the caller's credentials, as they came: each item is authorized on its own
    asgi_headers += [
        (b"authorization", value.encode("latin-1"))
        for value in request.headers.getlist("authorization")
    ]
    root_path = outer.get("root_path", "")
    scope: dict[str, Any] = {
        "type": "http",
        "asgi": outer.get("asgi", {"version": "3.0"}),
        "http_version": outer.get("http_version", "1.1"),
        "method": item.method,
        "scheme": outer.get("scheme", "http"),
        "server": outer.get("server"),
        "client": outer.get("client"),
        "root_path": root_path,
        "path": root_path + unquote(raw_path),
        "raw_path": (root_path + raw_path).encode("utf-8"),
        "query_string": query.encode("utf-8"),
        "headers": asgi_headers,
        "extensions": {**outer.get("extensions", {}), SCOPE_KEY: {"id": item.id}},
        "state": {},
    }
    body = item.body or b""
    sent = False

    async def receive() -> dict[str, Any]:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return {"type": "http.disconnect"}

    status = 500
    response_headers: dict[str, str] = {}
    chunks: list[bytes] = []

    async def send(message: Mapping[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = int(message["status"])
            for name, value in message.get("headers", []):
                key = name.decode("latin-1")
                if key.lower() not in _HOP_HEADERS:
                    response_headers[key] = value.decode("latin-1")
        elif message["type"] == "http.response.body":
            chunks.append(message.get("body", b""))

    await request.scope["app"](scope, receive, send)
    answer: dict[str, Any] = {"id": item.id, "status": status, "headers": response_headers}
    content = b"".join(chunks)
    if content:
        content_type = next(
            (v for k, v in response_headers.items() if k.lower() == "content-type"), ""
        )
        if "json" in content_type.lower():
            answer["body"] = orjson.loads(content)
        else:  # $count's text, $metadata's XML: base64, as Graph sends non-JSON bodies
            answer["body"] = base64.b64encode(content).decode("ascii")
    return answer
