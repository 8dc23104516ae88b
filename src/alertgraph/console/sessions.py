"""Console sessions and one-time sign-in codes, kept in the database so every replica shares them.

The cookie holds a random session id, its expiry and an HMAC over both (the key lives in the meta
table); the database keeps only the id's SHA-256 with the bearer token it stands for and the form
(CSRF) secret. A sign-in code (``serve --demo``) is stored hashed too and works once. An admin
token given on the Emulator page is kept beside its session and ends with it.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass

from sqlalchemy import BigInteger, Column, String, Table, Text, delete, insert, select
from sqlalchemy.exc import IntegrityError

from alertgraph.store.database import KEY_TEXT, METADATA, Store, meta_table

#: longest a session lives, whatever the token's own expiry
MAX_SESSION_SECONDS = 8 * 3600
CODE_SECONDS = 12 * 3600
COOKIE_KEY = "console_cookie_key"

sessions_table = Table(
    "console_sessions",
    METADATA,
    Column("id_hash", String(64), primary_key=True),
    Column("tenant", KEY_TEXT, nullable=False),
    Column("token", Text, nullable=False),
    Column("csrf", String(64), nullable=False),
    Column("expires_at", BigInteger, nullable=False),
)

codes_table = Table(
    "console_codes",
    METADATA,
    Column("code_hash", String(64), primary_key=True),
    Column("token", Text, nullable=False),
    Column("expires_at", BigInteger, nullable=False),
)


#: admin tokens a session was given on the Emulator page (views_emulator.py), by session
admin_grants_table = Table(
    "console_admin_grants",
    METADATA,
    Column("id_hash", String(64), primary_key=True),
    Column("token", Text, nullable=False),
    Column("expires_at", BigInteger, nullable=False),
)


@dataclass(frozen=True, slots=True)
class Session:
    token: str
    csrf: str
    expires_at: int
    id_hash: str = ""


def ensure_schema(store: Store) -> None:
    """Create the console tables in databases made before this module was loaded (idempotent)."""
    METADATA.create_all(
        store.engine, tables=[sessions_table, codes_table, admin_grants_table], checkfirst=True
    )


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def cookie_key(store: Store) -> bytes:
    """The HMAC key of session cookies: made once, shared by every replica through the database."""
    with store.engine.connect() as conn:
        found = conn.execute(
            select(meta_table.c.value).where(meta_table.c.key == COOKIE_KEY)
        ).scalar()
    if found is None:
        try:
            with store.engine.begin() as conn:
                conn.execute(insert(meta_table).values(key=COOKIE_KEY, value=secrets.token_hex(32)))
        except IntegrityError:
            pass  # another replica made it first; use theirs
        with store.engine.connect() as conn:
            found = conn.execute(
                select(meta_table.c.value).where(meta_table.c.key == COOKIE_KEY)
            ).scalar()
    return bytes.fromhex(str(found))


def _sign(key: bytes, payload: str) -> str:
    return hmac.new(key, payload.encode(), hashlib.sha256).hexdigest()


def open_session(store: Store, key: bytes, token: str, tenant: str, token_expiry: int) -> str:
    """Store a session for ``token``; returns the cookie value."""
    now = int(time.time())
    expires_at = min(now + MAX_SESSION_SECONDS, token_expiry)
    session_id = secrets.token_urlsafe(32)
    with store.engine.begin() as conn:
        conn.execute(delete(sessions_table).where(sessions_table.c.expires_at < now))
        conn.execute(
            insert(sessions_table).values(
                id_hash=_digest(session_id),
                tenant=tenant,
                token=token,
                csrf=secrets.token_urlsafe(32),
                expires_at=expires_at,
            )
        )
    payload = f"{session_id}.{expires_at}"
    return f"{payload}.{_sign(key, payload)}"


def find_session(store: Store, key: bytes, cookie: str | None) -> Session | None:
    """The live session a cookie names, or None (bad signature, expired, signed out)."""
    if not cookie or cookie.count(".") != 2 or len(cookie) > 300:
        return None
    session_id, expires, signature = cookie.split(".")
    if not hmac.compare_digest(_sign(key, f"{session_id}.{expires}"), signature):
        return None
    if not expires.isdigit() or int(expires) <= time.time():
        return None
    with store.engine.connect() as conn:
        row = conn.execute(
            select(
                sessions_table.c.token, sessions_table.c.csrf, sessions_table.c.expires_at
            ).where(sessions_table.c.id_hash == _digest(session_id))
        ).first()
    if row is None or row.expires_at <= time.time():
        return None
    return Session(
        token=row.token, csrf=row.csrf, expires_at=row.expires_at, id_hash=_digest(session_id)
    )


def close_session(store: Store, cookie: str | None) -> None:
    if cookie and cookie.count(".") == 2:
        id_hash = _digest(cookie.split(".")[0])
        with store.engine.begin() as conn:
            conn.execute(delete(sessions_table).where(sessions_table.c.id_hash == id_hash))
            conn.execute(delete(admin_grants_table).where(admin_grants_table.c.id_hash == id_hash))


def grant_admin(store: Store, session: Session, token: str, token_expiry: int) -> None:
    """Attach an (already verified) admin token to the session, until either expires."""
    grants = admin_grants_table
    now = int(time.time())
    with store.engine.begin() as conn:
        conn.execute(delete(grants).where(grants.c.expires_at < now))
        conn.execute(delete(grants).where(grants.c.id_hash == session.id_hash))
        conn.execute(
            insert(grants).values(
                id_hash=session.id_hash,
                token=token,
                expires_at=min(session.expires_at, token_expiry),
            )
        )


def admin_token(store: Store, session: Session) -> str | None:
    """The admin token attached to the session, if any and not expired."""
    grants = admin_grants_table
    with store.engine.connect() as conn:
        row = conn.execute(
            select(grants.c.token, grants.c.expires_at).where(grants.c.id_hash == session.id_hash)
        ).first()
    if row is None or row.expires_at <= time.time():
        return None
    return str(row.token)


def revoke_admin(store: Store, session: Session) -> None:
    with store.engine.begin() as conn:
        conn.execute(
            delete(admin_grants_table).where(admin_grants_table.c.id_hash == session.id_hash)
        )


def create_signin_code(store: Store, token: str) -> str:
    """A one-time code that signs its holder in with ``token`` (for the link ``serve`` prints)."""
    ensure_schema(store)
    code = secrets.token_urlsafe(24)
    with store.engine.begin() as conn:
        conn.execute(
            insert(codes_table).values(
                code_hash=_digest(code), token=token, expires_at=int(time.time()) + CODE_SECONDS
            )
        )
    return code


def redeem_signin_code(store: Store, code: str) -> str | None:
    """The token a code stands for, once: the code is deleted in the same transaction."""
    if not code or len(code) > 100:
        return None
    with store.engine.begin() as conn:
        row = conn.execute(
            select(codes_table.c.token, codes_table.c.expires_at).where(
                codes_table.c.code_hash == _digest(code)
            )
        ).first()
        if row is None:
            return None
        deleted = conn.execute(delete(codes_table).where(codes_table.c.code_hash == _digest(code)))
        if deleted.rowcount != 1 or row.expires_at <= time.time():
            return None
    return str(row.token)
