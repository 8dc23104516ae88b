"""Who is calling and what they may do: Entra-style bearer tokens and Graph's permission rules.

``Authenticator`` verifies access tokens (signed with the keys of
:mod:`alertgraph.identity.keys`, or by an explicitly trusted external issuer) and mints them;
every rejection is a 401. ``authorize`` checks a :class:`Principal` against the permissions and
directory roles of an entity set row in :mod:`alertgraph.schema.endpoints`; a refusal is a 403
naming what is missing. See docs/auth.md.
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
import math
import re
import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa

from alertgraph.errors import Forbidden, Unauthorized, did_you_mean
from alertgraph.identity import keys
from alertgraph.identity.keys import TrustedIssuer, add_app, load_trusted_issuers, rotate_key
from alertgraph.schema.endpoints import ENTITY_SETS, Access, EntitySet
from alertgraph.store.database import Store

log = logging.getLogger("alertgraph.identity.auth")

GRAPH_AUDIENCES = ("https://graph.microsoft.com", "00000003-0000-0000-c000-000000000000")
#: used when neither the settings nor the caller name the address tokens are issued for
DEFAULT_ISSUER_BASE = "https://login.alertgraph.local"
#: the client id that delegated dev tokens name as the app acting for the user
DEV_CLIENT_ID = "9c1f6a2e-4f3b-4c8e-9a51-6d7e2b0c4a11"
MAX_TOKEN_CHARS = 16_000
MAX_KID_CHARS = 256
#: verified tokens remembered (by their exact text) until they expire, least recently used first out
VERIFIED_TOKENS = 4096

#: Entra built-in role template ids (the ``wids`` claim carries these, never names)
ROLE_TEMPLATE_IDS: dict[str, str] = {
    "Global Administrator": "62e90394-69f5-4237-9190-012177145e10",
    "Global Reader": "f2ef992c-3afb-46b9-b7cf-a126ee74c451",
    "Security Reader": "5d6b6bb7-de71-4623-b4af-96380a352509",
    "Security Operator": "5f2222b1-57c3-48ba-8ad5-d4759f1fde6f",
    "Security Administrator": "194ae4cb-b126-40b2-bd5b-6091b380977d",
    "Privileged Role Administrator": "e8611ab8-c189-46e8-94e1-60213ab1f814",
}
ROLE_NAMES: dict[str, str] = {value: name for name, value in ROLE_TEMPLATE_IDS.items()}
#: holds every permission of the roles the docs name, so it satisfies any role requirement
SUPERSET_ROLE = "Global Administrator"

_TENANT_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9.\-]{0,99}")
_ISSUER_RE = re.compile(r"(?P<base>https?://[^/?#\s]+(?:/[^?#\s]*)?)/(?P<tenant>[^/?#\s]+)/v2\.0")


@dataclass(frozen=True, slots=True)
class Principal:
    tenant: str
    object_id: str | None
    upn: str | None
    app_id: str | None
    delegated: frozenset[str]  # scp
    application: frozenset[str]  # roles
    directory_roles: frozenset[str]  # wids (template ids)

    @property
    def kind(self) -> Literal["delegated", "application"]:
        """A user token (it carries scp or a user name) or an app-only token."""
        return "delegated" if self.delegated or self.upn is not None else "application"

    @property
    def display_name(self) -> str:
        return self.upn or self.app_id or self.object_id or "unknown"


@dataclass(frozen=True, slots=True)
class AuthSettings:
    leeway_seconds: int = 5
    #: fixed issuer base (``{base}/{tid}/v2.0``); None: the address the client reached us at
    issuer_base: str | None = None
    audiences: tuple[str, ...] = GRAPH_AUDIENCES
    #: JSON file of external issuers and their keys whose tokens are also accepted (off: None)
    trusted_issuers_file: Path | None = None


def valid_tenant(tenant: str) -> bool:
    return _TENANT_RE.fullmatch(tenant) is not None


def role_template_id(role: str) -> str:
    """A directory role name or template id → the template id; ValueError names the choices."""
    if role in ROLE_NAMES:
        return role
    if role in ROLE_TEMPLATE_IDS:
        return ROLE_TEMPLATE_IDS[role]
    lowered = {name.lower(): name for name in ROLE_TEMPLATE_IDS}
    if role.lower() in lowered:
        return ROLE_TEMPLATE_IDS[lowered[role.lower()]]
    hint = did_you_mean(role, ROLE_TEMPLATE_IDS)
    raise ValueError(
        f"unknown directory role '{role}'; known roles: {', '.join(ROLE_TEMPLATE_IDS)}.{hint}"
    )


class Authenticator:
    """Verifies bearer tokens against the database's keys (and trusted issuers) and mints them."""

    def __init__(self, store: Store, settings: AuthSettings) -> None:
        keys.ensure_schema(store)
        self.store = store
        self.settings = settings
        self._trusted: tuple[TrustedIssuer, ...] = (
            load_trusted_issuers(settings.trusted_issuers_file)
            if settings.trusted_issuers_file is not None
            else ()
        )
        self._lock = threading.Lock()
        self._local: dict[str, rsa.RSAPublicKey] = {}
        self._loaded_at = float("-inf")
        self._missed: dict[str, float] = {}
        #: token -> (principal, accepted until (epoch seconds), kid)
        self._verified: OrderedDict[str, tuple[Principal, float, str]] = OrderedDict()

    # ---- verification -----------------------------------------------------------------------

    def authenticate(self, authorization: str | None, *, request_id: str) -> Principal:
        """The caller of a request with this ``Authorization`` header; raises Unauthorized."""
        try:
            token = _bearer_token(authorization)
            principal = self._remembered(token)
            if principal is None:
                claims = self.verify(token)
                principal = self._principal(claims)
                self._remember(token, principal, claims)
        except Unauthorized as exc:
            log.info("authentication failed: %s (request %s)", exc.message, request_id)
            raise
        log.debug(
            "authenticated %s in tenant %s (request %s)",
            principal.display_name,
            principal.tenant,
            request_id,
        )
        return principal

    def remembered(self, authorization: str | None) -> Principal | None:
        """The caller when this header's token was verified before and still holds, else None
        (then :meth:`authenticate` decides). Reads memory and, once a minute, the key table."""
        try:
            token = _bearer_token(authorization)
        except Unauthorized:
            return None
        return self._remembered(token)

    def _remembered(self, token: str) -> Principal | None:
        """The principal of a token verified earlier, while it is unexpired and its key current.

        The signing key is looked up on every use (the key set is reloaded every minute), so a
        key removed from the database stops its tokens as soon as it did without this cache.
        """
        with self._lock:
            entry = self._verified.get(token)
            if entry is None:
                return None
            principal, until, kid = entry
            if time.time() >= until:
                del self._verified[token]
                return None
            self._verified.move_to_end(token)
        if self._find_key(kid)[0] is None:
            with self._lock:
                self._verified.pop(token, None)
            return None
        return principal

    def _remember(self, token: str, principal: Principal, claims: Mapping[str, Any]) -> None:
        kid = jwt.get_unverified_header(token)["kid"]
        until = float(claims["exp"]) + self.settings.leeway_seconds  # PyJWT's own expiry rule
        with self._lock:
            self._verified[token] = (principal, until, kid)
            while len(self._verified) > VERIFIED_TOKENS:
                self._verified.popitem(last=False)

    def verify(self, token: str) -> dict[str, Any]:
        """The claims of a valid access token; every failure raises Unauthorized."""
        if len(token) > MAX_TOKEN_CHARS:
            raise Unauthorized(f"Access token is longer than {MAX_TOKEN_CHARS} characters.")
        if token.count(".") == 4:
            raise Unauthorized("Encrypted (JWE) access tokens are not accepted.")
        try:
            header = jwt.get_unverified_header(token)
        except jwt.InvalidTokenError:
            raise Unauthorized("Access token is not a well-formed JWT.") from None
        head, payload = token.split(".")[:2]
        _refuse_repeated_members(head, "header")
        _refuse_repeated_members(payload, "payload")
        algorithm = header.get("alg")
        if algorithm != "RS256":
            # RFC 8725 3.1: never let the token choose the algorithm ('none', HS256 with the
            # public key as the secret...)
            raise Unauthorized(
                f"Access token is signed with {_shown(algorithm)}; only RS256 tokens are accepted."
            )
        if "crit" in header:
            raise Unauthorized("Access token has critical header parameters this server ignores.")
        if header.get("typ") not in (None, "JWT", "jwt", "at+jwt", "application/at+jwt"):
            raise Unauthorized(f"Access token has type {_shown(header.get('typ'))}, not JWT.")
        kid = header.get("kid")
        if not isinstance(kid, str) or not kid:
            raise Unauthorized("Access token has no 'kid' header naming its signing key.")
        if len(kid) > MAX_KID_CHARS or not kid.isprintable():
            # never a key of ours or a trusted issuer's; PostgreSQL text can't even hold NUL
            raise Unauthorized("Access token is signed with an unknown key (unusable 'kid').")
        key, trusted = self._find_key(kid)
        if key is None:
            raise Unauthorized(f"Access token is signed with an unknown key (kid {_shown(kid)}).")
        claims = self._decode(token, key)
        _check_claim_types(claims)
        tenant = claims.get("tid")
        if not isinstance(tenant, str) or not valid_tenant(tenant):
            raise Unauthorized("Access token has no valid 'tid' (tenant id) claim.")
        issuer = claims.get("iss")
        if trusted is None:
            self._check_local_issuer(issuer, tenant)
            if claims.get("ver") != "2.0":
                raise Unauthorized("Access token is not a v2.0 token ('ver' claim).")
        elif not trusted.accepts(issuer, tenant):
            raise Unauthorized(
                f"Access token issuer '{issuer}' does not match the trusted issuer "
                f"'{trusted.issuer}' whose key signed it, for tenant '{tenant}'."
            )
        return claims

    def _decode(self, token: str, key: Any) -> dict[str, Any]:
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                key,
                algorithms=["RS256"],
                audience=list(self.settings.audiences),
                leeway=self.settings.leeway_seconds,
                options={"require": ["exp", "iat", "nbf", "iss", "aud", "tid"]},
            )
        except jwt.ExpiredSignatureError:
            raise Unauthorized("Access token has expired.") from None
        except jwt.ImmatureSignatureError:
            raise Unauthorized("Access token is not valid yet ('nbf' or 'iat').") from None
        except jwt.InvalidAudienceError:
            # the signature was checked before the audience: the claim is the issuer's to show
            audience = jwt.decode(token, options={"verify_signature": False}).get("aud")
            allowed = " or ".join(self.settings.audiences)
            raise Unauthorized(
                f"Access token audience is {_shown(audience)}; this API takes only tokens for "
                f"{allowed}."
            ) from None
        except jwt.MissingRequiredClaimError as exc:
            raise Unauthorized(f"Access token has no '{exc.claim}' claim.") from None
        except jwt.InvalidSignatureError:
            raise Unauthorized("Access token signature is invalid.") from None
        except jwt.InvalidTokenError as exc:
            raise Unauthorized(f"Access token is invalid: {exc}.") from None
        except (OverflowError, ValueError, TypeError):
            # e.g. exp: Infinity, which Python's JSON reader accepts and int() can't convert
            raise Unauthorized("Access token has a time claim that is not a number.") from None
        return claims

    def _check_local_issuer(self, issuer: Any, tenant: str) -> None:
        match = _ISSUER_RE.fullmatch(issuer) if isinstance(issuer, str) else None
        if match is None or match["tenant"] != tenant:
            raise Unauthorized(
                f"Access token issuer '{issuer}' is not this server's issuer for tenant "
                f"'{tenant}' (expected '<base>/{tenant}/v2.0')."
            )
        fixed = self.settings.issuer_base
        if fixed is not None and match["base"] != fixed.rstrip("/"):
            raise Unauthorized(
                f"Access token issuer '{issuer}' is not '{fixed.rstrip('/')}/{tenant}/v2.0'."
            )

    def _find_key(self, kid: str) -> tuple[Any, TrustedIssuer | None]:
        now = time.monotonic()
        with self._lock:
            # every minute: drop retired keys whose tokens have all expired
            if now - self._loaded_at > 60:
                self._local = self._load_local()
                self._loaded_at = now
                self._missed.clear()
            local = self._local.get(kid)
            recently_missed = now - self._missed.get(kid, float("-inf")) < 2
        if local is None and not recently_missed:
            # a key rotated in by another replica or the CLI: one primary-key lookup
            local = self._load_local(kid).get(kid)
            with self._lock:
                if local is not None:
                    self._local[kid] = local
                else:
                    if len(self._missed) > 1024:
                        self._missed.clear()
                    self._missed[kid] = now
        if local is not None:
            return local, None
        for trusted in self._trusted:
            external = trusted.keys.get(kid)
            if external is not None:
                return external, trusted
        return None, None

    def _load_local(self, kid: str | None = None) -> dict[str, rsa.RSAPublicKey]:
        found = keys.verification_keys(
            self.store, now=int(time.time()), leeway=self.settings.leeway_seconds, kid=kid
        )
        return {key.kid: key.private_key().public_key() for key in found}

    def _principal(self, claims: Mapping[str, Any]) -> Principal:
        scp = claims.get("scp", "")
        roles = claims.get("roles", [])
        wids = claims.get("wids", [])
        if not isinstance(scp, str):
            raise Unauthorized("Access token 'scp' claim must be a space-separated string.")
        for name, value in (("roles", roles), ("wids", wids)):
            if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
                raise Unauthorized(f"Access token '{name}' claim must be an array of strings.")
        upn = claims.get("upn") or claims.get("preferred_username")
        app_id = claims.get("azp") or claims.get("appid")
        object_id = claims.get("oid")
        if not any(isinstance(value, str) and value for value in (upn, app_id, object_id)):
            raise Unauthorized("Access token names no user ('oid', 'upn') and no app ('azp').")
        return Principal(
            tenant=str(claims["tid"]),
            object_id=str(object_id) if object_id else None,
            upn=str(upn) if upn else None,
            app_id=str(app_id) if app_id else None,
            delegated=frozenset(scp.split()),
            application=frozenset(roles),
            directory_roles=frozenset(wids),
        )

    # ---- minting ------------------------------------------------------------------------------

    def issuer(self, tenant: str, *, base: str | None = None) -> str:
        """This server's issuer for ``tenant``: the fixed base if set, else ``base``."""
        chosen = self.settings.issuer_base or base or DEFAULT_ISSUER_BASE
        return f"{chosen.rstrip('/')}/{tenant}/v2.0"

    def mint(
        self,
        *,
        tenant: str,
        user: str | None = None,
        app_id: str | None = None,
        scopes: Sequence[str] = (),
        roles: Sequence[str] = (),
        directory_roles: Sequence[str] = (),
        expires_in: int = 3600,
        issuer_base: str | None = None,
        object_id: str | None = None,
    ) -> str:
        """A signed access token shaped like Entra ID's v2.0 tokens for Graph.

        With ``user`` it is a delegated token (``scp``, ``wids``, ``upn``), otherwise an app-only
        token (``roles``). ``directory_roles`` takes role names or template ids. Raises ValueError
        for an invalid tenant, an unknown role name or a non-positive lifetime.
        """
        if not valid_tenant(tenant):
            raise ValueError(f"'{tenant}' is not a valid tenant id (letters, digits, '-', '.')")
        if expires_in <= 0:
            raise ValueError(f"expires_in must be a positive number of seconds; got {expires_in}")
        wids = [role_template_id(role) for role in directory_roles]
        now = int(time.time())
        claims: dict[str, Any] = {
            "aud": self.settings.audiences[0],
            "iss": self.issuer(tenant, base=issuer_base),
            "iat": now,
            "nbf": now,
            "exp": now + expires_in,
            "ver": "2.0",
            "tid": tenant,
            "uti": uuid.uuid4().hex,
        }
        if user is not None:
            client = app_id or DEV_CLIENT_ID
            oid = object_id or str(uuid.uuid5(uuid.NAMESPACE_URL, f"user:{tenant}:{user}"))
            claims.update(
                {
                    "idtyp": "user",
                    "oid": oid,
                    "sub": oid,
                    "upn": user,
                    "preferred_username": user,
                    "name": user,
                    "azp": client,
                    "appid": client,
                    "scp": " ".join(dict.fromkeys(scopes)),
                    "wids": wids,
                }
            )
            if roles:
                claims["roles"] = list(dict.fromkeys(roles))
        else:
            client = app_id or DEV_CLIENT_ID
            oid = object_id or str(uuid.uuid5(uuid.NAMESPACE_URL, f"app:{tenant}:{client}"))
            claims.update(
                {
                    "idtyp": "app",
                    "oid": oid,
                    "sub": oid,
                    "azp": client,
                    "appid": client,
                    "azpacr": "1",
                    "roles": list(dict.fromkeys(roles)),
                }
            )
            if wids:
                claims["wids"] = wids
        signing = keys.current_key(self.store)
        token = jwt.encode(
            claims,
            signing.private_key(),
            algorithm="RS256",
            headers={"kid": signing.kid, "typ": "JWT"},
        )
        keys.record_expiry(self.store, signing.kid, claims["exp"])
        return token


def _shown(value: Any) -> str:
    """A header value the sender chose, fit to quote in a message and a response header: JSON
    escapes for anything but printable ASCII (no CR/LF to split a header), at most 60 chars."""
    plain = isinstance(value, str) and value.isascii() and value.isprintable()
    text = f"'{value}'" if plain else json.dumps(value, ensure_ascii=True)
    return text if len(text) <= 60 else text[:57] + "..."


class _RepeatedMember(ValueError):
    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.name = name


def _unique_members(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for name, value in pairs:
        if name in found:
            raise _RepeatedMember(name)
        found[name] = value
    return found


def _refuse_repeated_members(segment: str, part: str) -> None:
    """RFC 7519 4 / RFC 7515 4: no repeated names. Parsers that keep the first or the last of two
    'tid' or 'alg' members would read different tokens out of the same bytes, so refuse them."""
    try:
        raw = base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))
        json.loads(raw, object_pairs_hook=_unique_members)
    except _RepeatedMember as exc:
        raise Unauthorized(f"Access token {part} repeats the member '{exc.name}'.") from None
    except (ValueError, binascii.Error):
        raise Unauthorized("Access token is not a well-formed JWT.") from None


def _check_claim_types(claims: Mapping[str, Any]) -> None:
    """What PyJWT lets through: times must be JSON numbers (it converts "123" and true), and the
    audience one value (RFC 8725 3.9: a token also meant for another service could be replayed
    here by that service)."""
    for name in ("exp", "nbf", "iat"):
        value = claims[name]
        number = isinstance(value, int | float) and not isinstance(value, bool)
        if not number or not math.isfinite(value):
            raise Unauthorized(
                f"Access token '{name}' claim must be a number of seconds (a NumericDate)."
            )
    audience = claims["aud"]
    if isinstance(audience, list) and len(audience) != 1:
        raise Unauthorized(
            "Access token names several audiences; a token for Graph names Graph alone."
        )


def _bearer_token(authorization: str | None) -> str:
    if authorization is None or not authorization.strip():
        raise Unauthorized("Access token is empty.", error="")
    scheme, _, token = authorization.strip().partition(" ")
    # RFC 7235: the scheme is case-insensitive
    if scheme.lower() != "bearer":
        # Never echo what may be a credential sent without its scheme: name short schemes only.
        shown = f"'{scheme}' " if len(scheme) <= 16 and scheme.isalpha() else ""
        raise Unauthorized(
            f"Authorization scheme {shown}is not supported; send 'Bearer <access token>'.",
            error="invalid_request",
        )
    token = token.strip()
    if not token:
        raise Unauthorized("Access token is empty.", error="")
    return token


# ---- authorization ----------------------------------------------------------------------------


#: What an operation needs: the row's Access for reads, writes and special operations.
Requirement = Access


def requirement(entity_set: EntitySet, operation: str) -> Requirement:
    """What ``operation`` ("read", "write" or an action name) on ``entity_set`` needs.

    Operations without an entry in the row's ``access`` (comments, refresh, remediate...) need
    the write permission, as every such action in these APIs does.
    """
    if operation == "read":
        return Requirement(entity_set.read_permissions, entity_set.read_roles)
    special = entity_set.access.get(operation)
    if special is not None:
        return special
    return Requirement(entity_set.write_permissions, entity_set.write_roles)


def forbidden_code(entity_set: EntitySet) -> str:
    """Graph's 403 code: directory-backed APIs (PIM) answer like Entra, security ones plainly."""
    if entity_set.path.startswith("identityGovernance/"):
        return "Authorization_RequestDenied"
    return "Forbidden"


def _describe(entity_set: EntitySet, operation: str) -> str:
    match operation:
        case "read":
            return f"Reading /{entity_set.path}"
        case "write":
            return f"Changing /{entity_set.path}"
        case _:
            return f"The {operation} operation on /{entity_set.path}"


def _listing(values: Iterable[str]) -> str:
    items = sorted(values)
    return ", ".join(items) if items else "none"


def _role_listing(template_ids: Iterable[str]) -> str:
    return _listing(ROLE_NAMES.get(value, value) for value in template_ids)


def authorize(
    principal: Principal, entity_set: EntitySet, operation: str, *, request_id: str
) -> None:
    """Allow ``operation`` on ``entity_set`` or raise Forbidden naming what is missing.

    Application tokens need one of the permissions in ``roles``; delegated tokens one in ``scp``
    and, where the docs name directory roles, one of those roles (or Global Administrator) in
    ``wids``. Every decision is logged with the request id; the token itself never is.
    """
    needed = requirement(entity_set, operation)
    what = _describe(entity_set, operation)
    code = forbidden_code(entity_set)
    prefix = "Insufficient privileges to complete the operation. " if code != "Forbidden" else ""
    problem: str | None = None
    if principal.kind == "application":
        if not principal.application & set(needed.permissions):
            problem = (
                f"{prefix}Missing application roles. {what} requires one of the application "
                f"permissions {', '.join(needed.permissions)}; the token's roles claim has "
                f"{_listing(principal.application)}."
            )
    elif not principal.delegated & set(needed.permissions):
        problem = (
            f"{prefix}Missing scope permissions on the request. {what} requires one of the "
            f"delegated permissions {', '.join(needed.permissions)}; the token's scp claim has "
            f"{_listing(principal.delegated)}."
        )
    elif needed.roles:
        accepted = {ROLE_TEMPLATE_IDS[name] for name in (*needed.roles, SUPERSET_ROLE)}
        if not principal.directory_roles & accepted:
            problem = (
                f"{prefix}The signed-in user has none of the directory roles {what.lower()} "
                f"requires: {', '.join(needed.roles)} (or {SUPERSET_ROLE}); the token's wids "
                f"claim has {_role_listing(principal.directory_roles)}."
            )
    log.info(
        "authorization %s: tenant=%s principal=%s kind=%s set=%s operation=%s needs=%s "
        "request_id=%s",
        "denied" if problem else "allowed",
        principal.tenant,
        principal.display_name,
        principal.kind,
        entity_set.name,
        operation,
        "|".join(needed.permissions),
        request_id,
    )
    if problem is not None:
        raise Forbidden(problem, code=code)


def known_application_permissions() -> frozenset[str]:
    """Every permission some served operation accepts (what an app registration may be given)."""
    names: set[str] = set()
    for entity_set in ENTITY_SETS:
        names.update(entity_set.read_permissions, entity_set.write_permissions)
    for entity_set in ENTITY_SETS:
        for special in entity_set.access.values():
            names.update(special.permissions)
    return frozenset(names)


def default_dev_grants() -> tuple[list[str], list[str]]:
    """Scopes and directory role template ids for a dev token that may do everything served."""
    scopes: dict[str, None] = {}
    for entity_set in ENTITY_SETS:
        scopes.update(dict.fromkeys(entity_set.read_permissions))
        scopes.update(dict.fromkeys(entity_set.write_permissions))
    for entity_set in ENTITY_SETS:
        for special in entity_set.access.values():
            scopes.update(dict.fromkeys(special.permissions))
    roles = [
        ROLE_TEMPLATE_IDS["Security Administrator"],
        ROLE_TEMPLATE_IDS["Privileged Role Administrator"],
    ]
    return list(scopes), roles


def mint_dev_token(
    store: Store,
    *,
    tenant: str,
    user: str | None = None,
    app_id: str | None = None,
    scopes: Sequence[str] = (),
    roles: Sequence[str] = (),
    directory_roles: Sequence[str] = (),
    expires_in: int = 3600,
) -> str:
    """A token as ``alertgraph token`` mints it: with neither scopes nor roles it carries every
    permission, delegated, plus the PIM directory roles; with neither user nor app it is the dev
    admin user's."""
    wids = list(directory_roles)
    if not scopes and not roles:
        default_scopes, default_roles = default_dev_grants()
        scopes = default_scopes
        wids = wids or list(default_roles)
    if app_id is None and user is None:
        user = "admin@alertgraph.dev"
    return Authenticator(store, AuthSettings()).mint(
        tenant=tenant,
        user=user,
        app_id=app_id,
        scopes=scopes,
        roles=roles,
        directory_roles=wids,
        expires_in=expires_in,
    )


def permission_table() -> str:
    """The Markdown table of docs/auth.md: every entity set and action, derived from the rows."""
    lines = [
        "| Endpoint | Operation | Permissions, least privileged first (delegated and "
        "application) | Directory roles for delegated calls | 403 code |",
        "|---|---|---|---|---|",
    ]
    operations: list[tuple[EntitySet, str]] = []
    by_name = {entity_set.name: entity_set for entity_set in ENTITY_SETS}
    for entity_set in ENTITY_SETS:
        operations += [(entity_set, "read"), (entity_set, "write")]
        operations += [(entity_set, operation) for operation in entity_set.access]
    for entity_set, operation in operations:
        needed = requirement(entity_set, operation)
        roles = ", ".join(needed.roles) if needed.roles else "none required"
        path = entity_set.path
        if entity_set.parent is not None:
            parent = by_name[entity_set.parent].path
            path = f"{parent}/{{id}}{path.removeprefix(parent)}"
        lines.append(
            f"| `/{path}` | {operation} | {', '.join(needed.permissions)} | {roles} "
            f"| {forbidden_code(entity_set)} |"
        )
    return "\n".join(lines) + "\n"


__all__ = [
    "AuthSettings",
    "Authenticator",
    "Principal",
    "Requirement",
    "add_app",
    "authorize",
    "default_dev_grants",
    "forbidden_code",
    "mint_dev_token",
    "permission_table",
    "requirement",
    "role_template_id",
    "rotate_key",
]
