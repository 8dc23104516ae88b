"""The request journal: a bounded table of Graph requests (never Authorization or token values),
exported as HAR 1.2. Written by hook.py, read by cli/emulator.py and admin.py."""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from http import HTTPStatus
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from sqlalchemy import func, insert, select

from alertgraph.emulator.tables import journal_table
from alertgraph.store.database import Store

SECRET_HEADERS = frozenset({"authorization", "proxy-authorization", "cookie", "set-cookie"})
TRIM_EVERY = 50
MAX_BODY_CHARS = 65_536


def clean_headers(headers: Iterable[tuple[str, str]]) -> list[list[str]]:
    return [[name, value] for name, value in headers if name.lower() not in SECRET_HEADERS]


def record(store: Store, entry: Mapping[str, Any], *, keep: int) -> None:
    """Append one entry; past ``keep`` entries the oldest are dropped."""
    table = journal_table
    with store.engine.begin() as conn:
        seq = conn.execute(insert(table).values(**entry).returning(table.c.seq)).scalar_one()
        if seq % TRIM_EVERY == 0:
            conn.execute(table.delete().where(table.c.seq <= seq - keep))


def body_text(raw: bytes | None) -> str | None:
    if not raw:
        return None
    return raw[:MAX_BODY_CHARS].decode("utf-8", errors="replace")


def entries(
    store: Store, *, tenant: str | None = None, after: int = 0, limit: int | None = None
) -> list[dict[str, Any]]:
    """Journal rows in request order (optionally one tenant's, after a sequence number)."""
    table = journal_table
    query = select(table).where(table.c.seq > after).order_by(table.c.seq)
    if tenant is not None:
        query = query.where(table.c.tenant == tenant)
    if limit is not None:
        query = query.limit(limit)
    with store.engine.connect() as conn:
        return [dict(row._mapping) for row in conn.execute(query)]


def latest(store: Store, *, tenant: str | None, count: int) -> list[dict[str, Any]]:
    """The newest ``count`` entries, oldest first."""
    if count <= 0:
        return []
    table = journal_table
    query = select(table).order_by(table.c.seq.desc()).limit(count)
    if tenant is not None:
        query = query.where(table.c.tenant == tenant)
    with store.engine.connect() as conn:
        return [dict(row._mapping) for row in conn.execute(query)][::-1]


def last_sequence(store: Store) -> int:
    with store.engine.connect() as conn:
        return int(
            conn.execute(select(func.coalesce(func.max(journal_table.c.seq), 0))).scalar_one()
        )


def har(rows: Iterable[Mapping[str, Any]], *, version: str) -> dict[str, Any]:
    """HAR 1.2 (http://www.softwareishard.com/blog/har-12-spec/) of journal rows."""
    return {
        "log": {
            "version": "1.2",
            "creator": {"name": "alertgraph", "version": version},
            "pages": [],
            "entries": [_har_entry(row) for row in rows],
        }
    }


def _pairs(headers: Any) -> list[dict[str, str]]:
    return [{"name": str(name), "value": str(value)} for name, value in headers or []]


def _har_entry(row: Mapping[str, Any]) -> dict[str, Any]:
    split = urlsplit(str(row["url"]))
    request_headers = _pairs(row["request_headers"])
    response_headers = _pairs(row["response_headers"])
    request: dict[str, Any] = {
        "method": row["method"],
        "url": row["url"],
        "httpVersion": "HTTP/1.1",
        "cookies": [],
        "headers": request_headers,
        "queryString": [
            {"name": name, "value": value}
            for name, value in parse_qsl(split.query, keep_blank_values=True)
        ],
        "headersSize": -1,
        "bodySize": len(row["request_body"].encode()) if row["request_body"] else 0,
    }
    if row["request_body"]:
        request["postData"] = {
            "mimeType": _header(request_headers, "content-type") or "application/json",
            "text": row["request_body"],
        }
    content_type = _header(response_headers, "content-type") or "application/json"
    content: dict[str, Any] = {"size": 0, "mimeType": content_type}
    if row["response_body"] is not None:
        content = {
            "size": len(row["response_body"].encode()),
            "mimeType": content_type,
            "text": row["response_body"],
        }
    started = datetime.fromtimestamp(float(row["at"]), UTC)
    latency = float(row["latency_ms"])
    return {
        "startedDateTime": started.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        "time": latency,
        "request": request,
        "response": {
            "status": row["status"],
            "statusText": _reason(int(row["status"])),
            "httpVersion": "HTTP/1.1",
            "cookies": [],
            "headers": response_headers,
            "content": content,
            "redirectURL": "",
            "headersSize": -1,
            "bodySize": content["size"] if row["response_body"] is not None else -1,
        },
        "cache": {},
        "timings": {"send": 0, "wait": latency, "receive": 0},
        "_tenant": row["tenant"],
        "_appId": row["app_id"],
        "_requestId": row["request_id"],
    }


def _header(headers: list[dict[str, str]], name: str) -> str | None:
    for header in headers:
        if header["name"].lower() == name:
            return header["value"]
    return None


def _reason(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return ""


def now() -> float:
    return time.time()
