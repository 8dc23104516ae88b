"""Signing keys and app registrations, kept in the database so every replica and the CLI share them.

Keys are RSA (RS256, as Entra ID signs access tokens). The newest generation signs; older ones
stay published and accepted until the last token they signed has expired (``valid_until``). Client
secrets of app registrations are stored as salted scrypt hashes only. The tables join the store's
``METADATA``; :func:`ensure_schema` creates them in databases made before this module was loaded.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jwt
import orjson
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    Integer,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    UniqueConstraint,
    and_,
    or_,
    select,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite

from alertgraph.store.database import KEY_TEXT, METADATA, TENANT, TEXT, Store

RSA_BITS = 2048

signing_keys_table = Table(
    "auth_signing_keys",
    METADATA,
    Column("kid", String(100), nullable=False),
    # 1, 2, 3...: the highest generation signs; unique so concurrent rotations agree on one winner
    Column("generation", Integer, nullable=False),
    Column("private_pem", Text, nullable=False),
    Column("public_jwk", JSON, nullable=False),
    Column("created_at", BigInteger, nullable=False),
    # the latest "exp" of any token this key signed (epoch seconds); null until it signs one
    Column("valid_until", BigInteger),
    PrimaryKeyConstraint("kid"),
    UniqueConstraint("generation", name="uq_auth_signing_keys_generation"),
)

apps_table = Table(
    "auth_apps",
    METADATA,
    Column(TENANT, KEY_TEXT, nullable=False),
    Column("client_id", String(100), nullable=False),
    Column("object_id", String(100), nullable=False),
    Column("name", TEXT),
    Column("secret_salt", String(100), nullable=False),
    Column("secret_hash", String(200), nullable=False),
    Column("roles", JSON, nullable=False),
    Column("created_at", BigInteger, nullable=False),
    PrimaryKeyConstraint(TENANT, "client_id"),
)

_SCRYPT = {"n": 2**14, "r": 8, "p": 1, "dklen": 32}


@dataclass(frozen=True, slots=True)
class SigningKey:
    kid: str
    generation: int
    private_pem: str
    public_jwk: dict[str, str]
    valid_until: int | None

    def private_key(self) -> rsa.RSAPrivateKey:
        key = serialization.load_pem_private_key(self.private_pem.encode(), password=None)
        assert isinstance(key, rsa.RSAPrivateKey)
        return key


@dataclass(frozen=True, slots=True)
class App:
    tenant: str
    client_id: str
    object_id: str
    name: str | None
    roles: tuple[str, ...]


def ensure_schema(store: Store) -> None:
    """Create the auth tables if the database predates them (idempotent)."""
    METADATA.create_all(store.engine, tables=[signing_keys_table, apps_table], checkfirst=True)


# ---- signing keys ---------------------------------------------------------------------------


def _b64(number: int) -> str:
    raw = number.to_bytes((number.bit_length() + 7) // 8, "big")
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def public_jwk(key: rsa.RSAPublicKey) -> dict[str, str]:
    """The JWK of an RSA public key; ``kid`` is its RFC 7638 thumbprint."""
    numbers = key.public_numbers()
    members = {"e": _b64(numbers.e), "kty": "RSA", "n": _b64(numbers.n)}
    # RFC 7638: the required members, sorted, no whitespace
    thumbprint = hashlib.sha256(orjson.dumps(members, option=orjson.OPT_SORT_KEYS)).digest()
    kid = base64.urlsafe_b64encode(thumbprint).rstrip(b"=").decode()
    return {"kty": "RSA", "use": "sig", "alg": "RS256", "kid": kid, **members}


def _insert_key(store: Store, generation: int) -> None:
    private = rsa.generate_private_key(public_exponent=65537, key_size=RSA_BITS)
    jwk = public_jwk(private.public_key())
    pem = private.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    values: dict[str, Any] = {
        "kid": jwk["kid"],
        "generation": generation,
        "private_pem": pem,
        "public_jwk": jwk,
        "created_at": int(time.time()),
        "valid_until": None,
    }
    table = signing_keys_table
    insert = postgresql.insert(table) if store.dialect == "postgresql" else sqlite.insert(table)
    with store.engine.begin() as conn:
        # another replica may create the same generation at the same moment; its key wins
        conn.execute(insert.values(**values).on_conflict_do_nothing())


def _row_key(row: Any) -> SigningKey:
    jwk = row.public_jwk
    if isinstance(jwk, str):
        jwk = orjson.loads(jwk)
    return SigningKey(row.kid, row.generation, row.private_pem, dict(jwk), row.valid_until)


def current_key(store: Store) -> SigningKey:
    """The key that signs new tokens, created on first use."""
    query = select(signing_keys_table).order_by(signing_keys_table.c.generation.desc()).limit(1)
    with store.engine.connect() as conn:
        row = conn.execute(query).first()
    if row is None:
        _insert_key(store, 1)
        with store.engine.connect() as conn:
            row = conn.execute(query).first()
    assert row is not None
    return _row_key(row)


def rotate_key(store: Store) -> SigningKey:
    """Start signing with a new key. Tokens signed by older keys stay valid until they expire."""
    ensure_schema(store)
    generation = current_key(store).generation + 1
    _insert_key(store, generation)
    return current_key(store)


def verification_keys(
    store: Store, *, now: int, leeway: int, kid: str | None = None
) -> list[SigningKey]:
    """The current key plus every older key that signed a token not yet expired (or just ``kid``
    among them)."""
    table = signing_keys_table
    newest = select(table.c.generation).order_by(table.c.generation.desc()).limit(1)
    query = select(table).where(
        or_(
            table.c.generation == newest.scalar_subquery(),
            and_(table.c.valid_until.is_not(None), table.c.valid_until >= now - leeway),
        )
    )
    if kid is not None:
        query = query.where(table.c.kid == kid)
    with store.engine.connect() as conn:
        return [_row_key(row) for row in conn.execute(query)]


def record_expiry(store: Store, kid: str, exp: int) -> None:
    """Remember that ``kid`` signed a token valid until ``exp``, so rotation keeps the key."""
    table = signing_keys_table
    with store.engine.begin() as conn:
        conn.execute(
            update(table)
            .where(table.c.kid == kid)
            .where(or_(table.c.valid_until.is_(None), table.c.valid_until < exp))
            .values(valid_until=exp)
        )


# ---- app registrations ----------------------------------------------------------------------


def _hash_secret(secret: str, salt: str) -> str:
    digest = hashlib.scrypt(secret.encode(), salt=bytes.fromhex(salt), **_SCRYPT)
    return digest.hex()


def add_app(
    store: Store, *, tenant: str, roles: Sequence[str], name: str | None = None
) -> tuple[str, str]:
    """Register an application in ``tenant`` with application permissions ``roles``.

    Returns ``(client_id, secret)``; the secret is shown only here, the database keeps its hash.
    """
    ensure_schema(store)
    client_id = str(uuid.uuid4())
    # shaped like Entra's secrets: a short prefix, "~", random URL-safe text
    secret = f"{secrets.token_hex(2)}8Q~{secrets.token_urlsafe(30)}"
    salt = secrets.token_hex(16)
    with store.engine.begin() as conn:
        conn.execute(
            apps_table.insert().values(
                {
                    TENANT: tenant,
                    "client_id": client_id,
                    "object_id": str(uuid.uuid4()),
                    "name": name,
                    "secret_salt": salt,
                    "secret_hash": _hash_secret(secret, salt),
                    "roles": sorted(set(roles)),
                    "created_at": int(time.time()),
                }
            )
        )
    return client_id, secret


def find_app(store: Store, client_id: str) -> tuple[App, str, str] | None:
    """The app with ``client_id`` in any tenant, with its salt and secret hash."""
    query = select(apps_table).where(apps_table.c.client_id == client_id).limit(1)
    with store.engine.connect() as conn:
        row = conn.execute(query).first()
    if row is None:
        return None
    roles = row.roles if not isinstance(row.roles, str) else orjson.loads(row.roles)
    app = App(getattr(row, TENANT), row.client_id, row.object_id, row.name, tuple(roles))
    return app, row.secret_salt, row.secret_hash


def check_secret(secret: str, salt: str, expected: str) -> bool:
    return hmac.compare_digest(_hash_secret(secret, salt), expected)


# ---- external issuers -----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TrustedIssuer:
    """An external issuer whose tokens are accepted when signed by one of its own keys.

    ``issuer`` may contain ``{tenantid}``, replaced by the token's ``tid`` (Entra's multi-tenant
    form); ``tenants``, when not empty, limits the tenants accepted.
    """

    issuer: str
    keys: dict[str, Any]
    tenants: frozenset[str] = frozenset()

    def accepts(self, issuer: Any, tenant: str) -> bool:
        if self.tenants and tenant not in self.tenants:
            return False
        return isinstance(issuer, str) and issuer == self.issuer.replace("{tenantid}", tenant)


def load_trusted_issuers(path: Path) -> tuple[TrustedIssuer, ...]:
    """Read the trusted-issuers file; ValueError says what is wrong and where.

    Shape: ``{"issuers": [{"issuer": "...", "jwks": {"keys": [...]} | "jwks_file": "rel/path",
    "tenants": [...]}]}``. Only RSA keys with a ``kid`` are used; nothing is fetched.
    """
    try:
        document = orjson.loads(path.read_bytes())
    except (OSError, orjson.JSONDecodeError) as exc:
        raise ValueError(f"can't read trusted issuers file {path}: {exc}") from exc
    entries = document.get("issuers") if isinstance(document, dict) else None
    if not isinstance(entries, list):
        raise ValueError(f"{path}: expected an object with an 'issuers' array")
    result = []
    for number, entry in enumerate(entries):
        where = f"{path}: issuers[{number}]"
        if not isinstance(entry, dict) or not isinstance(entry.get("issuer"), str):
            raise ValueError(f"{where}: each issuer needs an 'issuer' string")
        jwks = entry.get("jwks")
        if jwks is None and isinstance(entry.get("jwks_file"), str):
            try:
                jwks = orjson.loads((path.parent / entry["jwks_file"]).read_bytes())
            except (OSError, orjson.JSONDecodeError) as exc:
                raise ValueError(f"{where}: can't read jwks_file: {exc}") from exc
        if not isinstance(jwks, dict) or not isinstance(jwks.get("keys"), list):
            raise ValueError(f"{where}: needs 'jwks' ({{\"keys\": [...]}}) or 'jwks_file'")
        found: dict[str, Any] = {}
        for jwk in jwks["keys"]:
            usable = isinstance(jwk, dict) and jwk.get("kty") == "RSA"
            if usable and isinstance(jwk.get("kid"), str):
                try:
                    found[jwk["kid"]] = jwt.PyJWK(jwk, algorithm="RS256").key
                except jwt.PyJWTError as exc:
                    raise ValueError(f"{where}: key '{jwk['kid']}' is invalid: {exc}") from exc
        if not found:
            raise ValueError(f"{where}: its JWKS has no RSA key with a 'kid'")
        tenants = entry.get("tenants") or []
        result.append(TrustedIssuer(entry["issuer"], found, frozenset(map(str, tenants))))
    return tuple(result)
