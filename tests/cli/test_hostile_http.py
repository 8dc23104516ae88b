"""Hostile HTTP against a real ``alertgraph serve``, spoken over raw sockets.

Every answer carries ``request-id`` and ``client-request-id``, including the 400s the HTTP server
writes before the app sees the request; a path with invalid percent-encoding is a 400 with Graph's
envelope; an oversized ``client-request-id`` comes back cut to 128 characters.
"""

from __future__ import annotations

import re
import socket
import time
import uuid
from collections.abc import Iterator
from urllib.parse import urlsplit

import orjson
import pytest

from tests.live import LiveServer, live_server

GUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


@pytest.fixture
def server(db_url, tmp_path) -> Iterator[LiveServer]:
    with live_server(db_url, tmp_path) as running:
        yield running


def exchange(server: LiveServer, raw: bytes) -> tuple[int, dict[str, str], bytes]:
    """Send ``raw`` bytes, read the answer to the end; status, headers (last wins), body."""
    address = urlsplit(server.base)
    with socket.create_connection((address.hostname, address.port), timeout=20) as sock:
        sock.sendall(raw)
        chunks = []
        while True:
            chunk = sock.recv(65536)
            if not chunk:
                break
            chunks.append(chunk)
    data = b"".join(chunks)
    head, _, body = data.partition(b"\r\n\r\n")
    status_line, *lines = head.decode("latin-1").split("\r\n")
    headers = {}
    for line in lines:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return int(status_line.split()[1]), headers, body


def request(path: str, *headers: str, host: bool = True) -> bytes:
    lines = [f"GET {path} HTTP/1.1"]
    if host:
        lines.append("Host: 127.0.0.1")
    lines += [*headers, "Connection: close"]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def assert_graph_400(status, headers, body, *, mentions: str) -> dict:
    assert status == 400
    assert GUID.match(headers["request-id"])
    assert GUID.match(headers["client-request-id"])
    assert headers["content-type"].startswith("application/json")
    error = orjson.loads(body)["error"]
    assert error["code"] == "BadRequest"
    assert mentions in error["message"]
    assert error["innerError"]["request-id"] == headers["request-id"]
    assert error["innerError"]["client-request-id"] == headers["client-request-id"]
    return error


def test_a_header_with_a_bare_cr_gets_graphs_400_with_ids(server):
    raw = b"GET /beta/$metadata HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Note: a\rb\r\n\r\n"
    assert_graph_400(*exchange(server, raw), mentions="not valid HTTP/1.1")


def test_a_malformed_request_line_gets_graphs_400_with_ids(server):
    raw = b"GET /beta/$metadata HTTP/1.1 trailing\r\nHost: 127.0.0.1\r\n\r\n"
    assert_graph_400(*exchange(server, raw), mentions="not valid HTTP/1.1")


def test_a_request_line_too_long_is_told_so(server):
    raw = b"GET /beta/security/alerts_v2?$filter=" + b"a" * 70_000 + b" HTTP/1.1\r\nHost: x\r\n\r\n"
    assert_graph_400(*exchange(server, raw), mentions="too long: keep the URL under 64 KB")


def test_a_request_without_host_gets_graphs_400_with_ids(server):
    raw = request("/beta/$metadata", host=False)
    assert_graph_400(*exchange(server, raw), mentions="no Host header")


def test_invalid_percent_encoding_in_the_path_is_a_400_not_a_404(server):
    bearer = f"Authorization: Bearer {server.token()}"
    status, headers, body = exchange(server, request("/beta/security/alerts_v2/abc%zz", bearer))
    error = assert_graph_400(status, headers, body, mentions="'%zz'")
    assert "two hexadecimal digits" in error["message"]
    # a '%' at the very end is as invalid; a well-formed escape still reaches the lookup (404)
    status, headers, body = exchange(server, request("/beta/security/alerts_v2/abc%4", bearer))
    assert_graph_400(status, headers, body, mentions="'%4'")
    status, _, body = exchange(server, request("/beta/security/alerts_v2/abc%41", bearer))
    assert status == 404
    assert orjson.loads(body)["error"]["code"] == "itemNotFound"


def test_an_oversized_client_request_id_is_cut_to_128_characters(server):
    sent = "x" * 10_000
    status, headers, body = exchange(
        server, request("/beta/$metadata", f"client-request-id: {sent}")
    )
    assert status == 200
    assert headers["client-request-id"] == sent[:128]
    bearer = f"Authorization: Bearer {server.token()}"
    status, headers, body = exchange(
        server, request("/beta/security/nothing", bearer, f"client-request-id: {sent}")
    )
    assert status == 404
    assert headers["client-request-id"] == sent[:128]
    assert orjson.loads(body)["error"]["innerError"]["client-request-id"] == sent[:128]


def test_a_guid_client_request_id_comes_back_unchanged(server):
    sent = str(uuid.uuid4())
    status, headers, _ = exchange(server, request("/beta/$metadata", f"client-request-id: {sent}"))
    assert status == 200
    assert headers["client-request-id"] == sent
    assert GUID.match(headers["request-id"])
    assert headers["request-id"] != sent


def test_the_access_log_has_one_line_per_request_with_the_status_sent(server):
    """The access line is written after the response (off its latency), still once per request,
    in uvicorn's format, with the status the client got."""
    bearer = f"Authorization: Bearer {server.token()}"
    marker = uuid.uuid4().hex
    sent = {  # path -> (authorized, Host sent, the status it gets)
        f"/beta/security/alerts_v2/{marker}-missing": (True, True, 404),
        f"/beta/security/alerts_v2?$top=1&m={marker}": (True, True, 200),
        f"/beta/security/alerts_v2?m={marker}-anonymous": (False, True, 401),
        f"/beta/$metadata?m={marker}-hostless": (False, False, 400),
    }
    for path, (authorized, host, status) in sent.items():
        raw = request(path, *([bearer] if authorized else []), host=host)
        assert exchange(server, raw)[0] == status
    deadline = time.monotonic() + 10
    while True:
        lines = [line for line in server.log().splitlines() if marker in line]
        if len(lines) >= len(sent) or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    for path, (_, _, status) in sent.items():
        logged = [line for line in lines if f'"GET {path} HTTP/1.1" {status}' in line]
        assert len(logged) == 1, (path, lines)
    assert len(lines) == len(sent), lines
