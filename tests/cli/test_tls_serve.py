"""`alertgraph serve --tls` as a user runs it: HTTPS from a local CA kept in the database.

Each check follows what the server prints: the curl line, the trust variables for Python, the CA
file. The TLS files go below the test's temporary HOME (see ``live_server``).
"""

from __future__ import annotations

import json
import shlex
import ssl
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from tests.live import LiveServer, live_server


def printed_line(server: LiveServer, start: str) -> str:
    lines = (line.strip() for line in server.log().splitlines())
    return next(line for line in lines if line.startswith(start))


def printed_exports(server: LiveServer) -> dict[str, str]:
    """The ``export NAME=value`` trust instructions, by variable name."""
    exports = {}
    for line in server.log().splitlines():
        _, found, assignment = line.partition("export ")
        if found:
            name, _, value = assignment.strip().partition("=")
            exports[name] = value
    return exports


def all_pages(server: LiveServer, url: str, headers: dict[str, str]) -> tuple[list[str], int]:
    """Ids of every item, following nextLinks verbatim; and how many pages that took."""
    ids: list[str] = []
    pages = 0
    with httpx.Client(verify=server.verify, headers=headers, timeout=30) as client:
        next_url: str | None = url
        while next_url is not None:
            reply = client.get(next_url)
            assert reply.status_code == 200, reply.text
            body = reply.json()
            ids += [item["id"] for item in body["value"]]
            pages += 1
            next_url = body.get("@odata.nextLink")
            if next_url is not None:
                assert next_url.startswith(f"{server.base}/beta/security/alerts_v2?")
    return ids, pages


def test_serve_tls_works_as_printed(db_url: str, tmp_path: Path) -> None:
    with live_server(db_url, tmp_path, "--tls", "--demo") as server:
        assert server.base.startswith("https://127.0.0.1:")
        assert f"Base URL:  {server.base}/beta" in server.log()
        assert server.ca_file is not None
        assert server.ca_file.is_relative_to(tmp_path)

        curl = shlex.split(printed_line(server, "curl -s "))
        assert curl[curl.index("--cacert") + 1] == str(server.ca_file)
        result = subprocess.run(curl, capture_output=True, text=True, timeout=30, check=True)
        assert len(json.loads(result.stdout)["value"]) == 2

        headers = {"Authorization": f"Bearer {server.token()}"}
        counted = httpx.get(
            f"{server.base}/beta/security/alerts_v2",
            params={"$count": "true", "$top": "1"},
            headers=headers,
            verify=server.verify,
        )
        total = counted.json()["@odata.count"]
        ids, pages = all_pages(server, f"{server.base}/beta/security/alerts_v2?$select=id", headers)
        assert pages >= 3
        assert len(ids) == len(set(ids)) == total

        # The printed variables make stock Python clients trust the server, nothing else set.
        exports = printed_exports(server)
        assert exports["NODE_EXTRA_CA_CERTS"] == str(server.ca_file)
        probe = (
            "import sys, httpx, requests\n"
            "url = sys.argv[1]\n"
            "print(httpx.get(url).status_code, requests.get(url, timeout=30).status_code)\n"
        )
        trusted = subprocess.run(
            [sys.executable, "-c", probe, f"{server.base}/beta/$metadata"],
            capture_output=True,
            text=True,
            timeout=60,
            env={
                "PATH": "/usr/bin:/bin",
                "SSL_CERT_FILE": exports["SSL_CERT_FILE"],
                "REQUESTS_CA_BUNDLE": exports["REQUESTS_CA_BUNDLE"],
            },
        )
        assert trusted.stdout.split() == ["200", "200"], trusted.stderr


def test_ca_is_kept_in_the_database_and_tls_is_required(db_url: str, tmp_path: Path) -> None:
    presented: list[str] = []
    trusted: list[str] = []
    for run in ("first", "second"):
        # a fresh HOME each time: whatever is reused must come from the database
        home = tmp_path / run
        with live_server(db_url, tmp_path, "--tls", "--demo", env={"HOME": str(home)}) as server:
            assert server.ca_file is not None
            assert server.ca_file.is_relative_to(home)
            trusted.append(server.ca_file.read_text())
            port = int(server.base.rsplit(":", 1)[1])
            presented.append(ssl.get_server_certificate(("127.0.0.1", port)))

            with pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED"):
                httpx.get(f"{server.base}/beta/$metadata", verify=True)
            # plain HTTP to the TLS port: the handshake fails and the connection is closed
            plain = f"http://127.0.0.1:{port}/beta/$metadata"
            with pytest.raises(httpx.RemoteProtocolError):
                httpx.get(plain, timeout=10)
            assert httpx.get(f"{server.base}/beta/$metadata", verify=server.verify).is_success
    assert trusted[0] == trusted[1]
    assert presented[0] == presented[1]
    assert "already has" in server.log()  # the second start found the demo data too
