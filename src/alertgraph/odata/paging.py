"""Opaque, signed continuation tokens for keyset paging ($skiptoken).

A token carries the order-key values of the last row served. It is HMAC-signed together with the
tenant, the collection and the query's options except ``$top`` (the page size, which clients may
change or add when following a next link), so a token replayed against another tenant or another
query, or edited, is rejected with a 400.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import weakref
from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from urllib.parse import unquote_plus

import orjson

from alertgraph.errors import ODataError
from alertgraph.store.database import Store

_SECRETS: weakref.WeakKeyDictionary[Store, bytes] = weakref.WeakKeyDictionary()


def paging_secret(store: Store) -> bytes:
    """The deployment's signing key, created once and shared by every replica via the database."""
    secret = _SECRETS.get(store)
    if secret is None:
        secret = store.set_meta_if_absent("paging_secret", secrets.token_hex(32)).encode()
        _SECRETS[store] = secret
    return secret


@dataclass(frozen=True, slots=True)
class Position:
    keys: tuple[Any, ...]  # the order-key values of the last row served


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _encode_value(value: Any) -> Any:
    if isinstance(value, Decimal):
        return {"d": str(value)}
    return value


def _decode_value(value: Any) -> Any:
    if isinstance(value, dict) and set(value) == {"d"}:
        return Decimal(value["d"])
    return value


def _mac(secret: bytes, binding: str, payload: str) -> str:
    digest = hmac.new(secret, f"{binding}\n{payload}".encode(), hashlib.sha256).digest()
    return _b64(digest[:18])


def encode(secret: bytes, binding: str, position: Position) -> str:
    payload = _b64(orjson.dumps({"k": [_encode_value(v) for v in position.keys]}))
    return f"{payload}.{_mac(secret, binding, payload)}"


def decode(secret: bytes, binding: str, token: str) -> Position:
    invalid = ODataError(
        "the $skiptoken is not valid for this request; follow @odata.nextLink exactly as "
        "returned (tokens are bound to the query and the tenant)",
        option="$skiptoken",
        position=0,
    )
    payload, _, mac = token.partition(".")
    if not payload or not mac or not hmac.compare_digest(mac, _mac(secret, binding, payload)):
        raise invalid
    try:
        data = orjson.loads(_unb64(payload))
        keys = tuple(_decode_value(v) for v in data["k"])
    except (ValueError, KeyError, TypeError):  # pragma: no cover - signed tokens are ours
        raise invalid from None
    return Position(keys)


def last_top_wins(raw_query: str, *, beta: bool) -> str:
    """A next link with ``$top`` appended to the one it carries: keep the last ``$top`` only.

    Clients edit next links (Cortex XSOAR appends ``&$top=<remaining>`` to an incidents next
    link); only a query that continues with ``$skiptoken`` is relaxed this way, so a first request
    that names ``$top`` twice is still refused.
    """
    parts = raw_query.split("&")
    names = [_option_name(part, beta) for part in parts]
    if names.count("$top") < 2 or "$skiptoken" not in names:
        return raw_query
    last = max(index for index, name in enumerate(names) if name == "$top")
    return "&".join(
        part
        for index, (part, name) in enumerate(zip(parts, names, strict=True))
        if name != "$top" or index == last
    )


def _option_name(part: str, beta: bool) -> str:
    name = unquote_plus(part.partition("=")[0], errors="replace").lower()
    if beta and not name.startswith("$") and name in ("top", "skiptoken"):
        return "$" + name
    return name
