"""In-process Graph calls for the console: the same routing, handlers, validation and audit as HTTP.

The console (alertgraph.console) is handed :func:`dispatcher`'s function by app.py, so it reads and
writes exactly as an API client with the same token would, without importing the HTTP layer.
"""

from __future__ import annotations

import dataclasses
import uuid
from datetime import UTC, datetime
from typing import Any

import orjson

from alertgraph.console.graph import Dispatch, Outcome
from alertgraph.errors import BadRequest, GraphError
from alertgraph.http.call import Call
from alertgraph.http.reads import handler_for
from alertgraph.http.routing import resolve
from alertgraph.identity.auth import Principal
from alertgraph.settings import Settings
from alertgraph.store.database import Store

#: the Content-Type the HTTP layer gives each kind of reply (shown in the console's Query panel)
MEDIA_TYPES = {
    "json": "application/json;odata.metadata=minimal;odata.streaming=true;"
    "IEEE754Compatible=false;charset=utf-8",
    "text": "text/plain;charset=utf-8",
    "xml": "application/xml",
}


def dispatcher(store: Store, settings: Settings) -> Dispatch:
    """A function answering one Graph request (``/beta/...?query``) for a signed-in principal."""

    def dispatch(
        principal: Principal,
        method: str,
        path_and_query: str,
        body: Any,
        *,
        base_url: str,
        strict: bool | None = None,
    ) -> Outcome:
        request_id = str(uuid.uuid4())
        raw_path, _, raw_query = path_and_query.partition("?")
        call_settings = settings
        if strict is not None:
            call_settings = dataclasses.replace(settings, strict_graph=strict)
        try:
            if "%00" in path_and_query:
                raise BadRequest("The URL contains an encoded NUL character (%00).")
            if body is not None and b"\\u0000" in _encoded(body):
                # as the HTTP layer: no column can store NUL, so refuse it before any write
                raise BadRequest("Text in the request can't contain NUL (\\u0000).")
            target = resolve(raw_path)
            if target.kind == "metadata":
                return Outcome(200, {"request-id": request_id}, store.model.xml)
            handler = handler_for(target, method)
            call = Call(
                store=store,
                settings=call_settings,
                principal=principal,
                target=target,
                request_id=request_id,
                service_root=f"{base_url.rstrip('/')}/{target.version}",
                raw_query=raw_query,
                evolvable=False,
                body=body,
            )
            reply = handler(call)
            for job in call.after_response:
                job()  # e.g. a PIM refresh: the console shows the finished operation
        except GraphError as error:
            date = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S")
            headers = {**error.headers, "request-id": request_id}
            return Outcome(
                error.status,
                headers,
                error.body(date=date, request_id=request_id, client_request_id=request_id),
            )
        headers = {**reply.headers, "request-id": request_id, "OData-Version": "4.0"}
        if reply.body is not None and reply.status != 204:
            headers["Content-Type"] = MEDIA_TYPES.get(reply.kind, MEDIA_TYPES["json"])
        body = reply.body
        if reply.kind == "json" and isinstance(body, dict | list | orjson.Fragment):
            # reads may splice stored JSON in as orjson.Fragment; the console needs plain values
            body = orjson.loads(orjson.dumps(body))
        return Outcome(reply.status, headers, body)

    return dispatch


def _encoded(body: Any) -> bytes:
    """``body`` as JSON text; a 400 for a value JSON text cannot hold (orjson writes at most 254
    levels of nesting, and integers of 64 bits)."""
    try:
        return orjson.dumps(body)
    except orjson.JSONEncodeError as exc:
        reason = "it nests more than 254 levels deep" if "ecursion" in str(exc) else str(exc)
        raise BadRequest(f"The request body can't be used: {reason}.") from None
