"""The upstream: a Graph root URL, a bearer token, polite paging (nextLink, Retry-After, limits).

Tokens come as given (``--token``) or from a client-credentials grant against an authority, as a
connector gets them. 429 and 503 answers are retried after the ``Retry-After`` the server names.
"""

from __future__ import annotations

import base64
import email.utils
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import quote

import httpx
import orjson

#: Characters left as they are in query values (OData literals read better unescaped).
SAFE = "$'(),:*/"
GRAPH_SCOPE = "https://graph.microsoft.com/.default"
RETRIED = (429, 503)
MAX_RETRIES = 8
#: Longest wait honoured for one Retry-After (a longer one is capped, then retried).
MAX_WAIT = 120.0


class SyncError(Exception):
    """The sync can't go on; the message says what the upstream or a record did."""


def token_tenant(token: str) -> str | None:
    """The ``tid`` claim of a JWT (read, not verified: the upstream verifies it), or None."""
    parts = token.split(".")
    if len(parts) != 3:
        return None
    try:
        claims = orjson.loads(base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4)))
    except (ValueError, orjson.JSONDecodeError):
        return None
    tid = claims.get("tid") if isinstance(claims, dict) else None
    return tid if isinstance(tid, str) and tid else None


def client_credentials_token(
    authority: str, client_id: str, client_secret: str, *, timeout: float = 30
) -> str:
    """A token from ``{authority}/oauth2/v2.0/token`` (Entra ID or alertgraph's own)."""
    url = authority.rstrip("/") + "/oauth2/v2.0/token"
    form = {
        "grant_type": "client_credentials",
        "client_id": client_id,
        "client_secret": client_secret,
        "scope": GRAPH_SCOPE,
    }
    try:
        response = httpx.post(url, data=form, timeout=timeout)
    except httpx.HTTPError as exc:
        raise SyncError(f"can't reach the authority {url}: {exc}") from None
    body = _json(response)
    if response.status_code != 200 or not isinstance(body.get("access_token"), str):
        reason = body.get("error_description") or body.get("error") or response.text[:200]
        raise SyncError(
            f"the authority refused the client credentials ({response.status_code}): {reason}"
        )
    return str(body["access_token"])


def _json(response: httpx.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def retry_after(response: httpx.Response, attempt: int) -> float:
    """Seconds to wait: the header's (seconds or an HTTP date), else a growing backoff."""
    header = response.headers.get("Retry-After", "").strip()
    if header.isdigit():
        return min(MAX_WAIT, float(header))
    if header:
        parsed = email.utils.parsedate_to_datetime(header) if "," in header else None
        if parsed is not None:
            return max(0.0, min(MAX_WAIT, parsed.timestamp() - time.time()))
    return min(MAX_WAIT, 2.0**attempt)


class Upstream:
    """GETs against one root URL with one token; at most ``concurrency`` requests at a time."""

    def __init__(
        self,
        root: str,
        token: str,
        *,
        concurrency: int = 4,
        timeout: float = 60,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.root = root.rstrip("/")
        for version in ("/beta", "/v1.0"):
            self.root = self.root.removesuffix(version)
        self.http = httpx.Client(
            headers={
                "Authorization": f"Bearer {token}",
                "Accept": "application/json",
                # Evolvable enums: without it, newer members arrive as unknownFutureValue.
                "Prefer": "include-unknown-enum-members",
            },
            timeout=timeout,
        )
        self.slots = threading.BoundedSemaphore(concurrency)
        self.sleep = sleep
        self.waits: list[float] = []  # every Retry-After honoured, for the summary

    def close(self) -> None:
        self.http.close()

    def get(self, url: str) -> dict[str, Any]:
        """One page as JSON; 429/503 retried after Retry-After; other errors end the sync."""
        for attempt in range(MAX_RETRIES + 1):
            with self.slots:
                try:
                    response = self.http.get(url)
                except httpx.HTTPError as exc:
                    raise SyncError(f"GET {url} failed: {exc}") from None
            if response.status_code in RETRIED and attempt < MAX_RETRIES:
                wait = retry_after(response, attempt)
                self.waits.append(wait)
                self.sleep(wait)
                continue
            body = _json(response)
            if response.status_code != 200:
                error = body.get("error")
                detail = (
                    f"{error.get('code')}: {error.get('message')}"
                    if isinstance(error, dict)
                    else response.text[:300]
                )
                raise SyncError(f"GET {url} answered {response.status_code} ({detail})")
            if not isinstance(body.get("value"), list):
                raise SyncError(f"GET {url} did not answer a collection (no 'value' array)")
            return body
        raise AssertionError("unreachable")

    def pages(self, path: str, params: dict[str, str]) -> Iterator[dict[str, Any]]:
        """Every page of a collection, following each @odata.nextLink exactly as given."""
        query = "&".join(f"{name}={quote(value, safe=SAFE)}" for name, value in params.items())
        url: str | None = f"{self.root}/beta/{path}" + (f"?{query}" if query else "")
        while url is not None:
            body = self.get(url)
            yield body
            link = body.get("@odata.nextLink")
            url = str(link) if link else None
