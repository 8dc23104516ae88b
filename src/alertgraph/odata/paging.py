"""Opaque, signed continuation tokens for keyset paging ($skiptoken).

A token carries the order-key values of the last row served and how many rows were served. It is
HMAC-signed together with the tenant, the collection and the query's options, so a token replayed
against another tenant or another query, or edited, is rejected with a 400.
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
    keys: tuple[Any, ...]
    served: int


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
    payload = _b64(
        orjson.dumps({"k": [_encode_value(v) for v in position.keys], "n": position.served})
    )
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
        served = int(data["n"])
    except (ValueError, KeyError, TypeError):  # pragma: no cover - signed tokens are ours
        raise invalid from None
    return Position(keys, served)
