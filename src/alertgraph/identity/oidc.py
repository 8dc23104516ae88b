"""The token service's HTTP face, laid out as Entra ID publishes it.

OpenID discovery, the signing keys (JWKS) and the OAuth 2.0 token endpoint with the
client-credentials grant, so MSAL / azure-identity and JWT libraries work against this server as
they do against ``login.microsoftonline.com``. Every URL is built from the address the client used.
Errors here are OAuth's (``{"error": "invalid_client", ...}``) with Entra's members and AADSTS
codes (``error_description`` opening with ``AADSTSnnnnn: ``), not Graph's envelope.
"""

from __future__ import annotations

import base64
import binascii
import logging
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs, unquote

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from alertgraph.identity import keys
from alertgraph.identity.auth import Authenticator, AuthSettings, valid_tenant
from alertgraph.store.database import Store

log = logging.getLogger("alertgraph.identity.auth")

TOKEN_LIFETIME = 3599
CLAIMS = "aud iss iat nbf exp tid oid sub upn preferred_username name azp appid scp roles wids ver"
MAX_FORM_BYTES = 64_000
#: tenant aliases that name no single directory: fine for discovery, not for app tokens
TENANT_ALIASES = frozenset({"common", "organizations", "consumers"})
#: where Entra's own lookup page explains each AADSTS code (the codes used here are Entra's)
ERROR_URI = "https://login.microsoftonline.com/error?code={code}"
#: Entra's generic code for a malformed or unusable request parameter
INVALID_PARAMETER = 90100
GRAPH_DEFAULT_SCOPES = frozenset(
    {"https://graph.microsoft.com/.default", "00000003-0000-0000-c000-000000000000/.default"}
)


class OAuthError(Exception):
    """A refusal: OAuth's ``error``, Entra's AADSTS ``code`` and a description of the problem."""

    def __init__(self, error: str, code: int, description: str, *, status: int = 400) -> None:
        super().__init__(description)
        self.error = error
        self.description = description
        self.status = status
        self.code = code


def _origin(request: Request) -> str:
    """scheme://host[:port][/root_path] as the client addressed us."""
    return str(request.base_url).rstrip("/")


def _trace_id(request: Request) -> str:
    """One id per identity request, logged and returned (``x-ms-request-id``, as Entra does)."""
    trace_id: str | None = getattr(request.state, "trace_id", None)
    if trace_id is None:
        trace_id = str(uuid.uuid4())
        request.state.trace_id = trace_id
    return trace_id


def _oauth_error(request: Request, exc: OAuthError) -> JSONResponse:
    trace_id = _trace_id(request)
    # the form (and its secret) is never logged: only what was decided and for which tenant
    log.info(
        "token service refused %s %s: %s (%s) request_id=%s",
        request.method,
        request.url.path,
        exc.error,
        exc.description,
        trace_id,
    )
    correlation_id = request.headers.get("client-request-id") or str(uuid.uuid4())
    timestamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%SZ")
    # Entra's layout, which connectors parse: the code first, then the three reference lines
    description = (
        f"AADSTS{exc.code}: {exc.description}\r\nTrace ID: {trace_id}"
        f"\r\nCorrelation ID: {correlation_id}\r\nTimestamp: {timestamp}"
    )
    body: dict[str, Any] = {
        "error": exc.error,
        "error_description": description,
        "error_codes": [exc.code],
        "timestamp": timestamp,
        "trace_id": trace_id,
        "correlation_id": correlation_id,
        "error_uri": ERROR_URI.format(code=exc.code),
    }
    headers = {"Cache-Control": "no-store", "Pragma": "no-cache", "x-ms-request-id": trace_id}
    if exc.status == 401:
        headers["WWW-Authenticate"] = 'Basic realm="alertgraph"'
    return JSONResponse(body, status_code=exc.status, headers=headers)


def auth_routes(
    store: Store, settings: AuthSettings, *, authenticator: Authenticator | None = None
) -> list[BaseRoute]:
    """Discovery, JWKS, token and (refusing) authorize endpoints, to mount at the server root."""
    authority = authenticator or Authenticator(store, settings)

    def tenant_of(request: Request, *, error: str = "invalid_tenant") -> str:
        tenant = str(request.path_params.get("tenant", "common"))
        if not valid_tenant(tenant):
            # Entra: invalid_tenant on discovery, invalid_request on the token endpoint
            raise OAuthError(
                error,
                90002,
                f"Tenant '{tenant}' not found: a tenant is a GUID or a domain name "
                "(letters, digits, '-', '.').",
            )
        return tenant

    def guarded(handler: Callable[[Request], Any]) -> Callable[[Request], Any]:
        async def endpoint(request: Request) -> Response:
            try:
                result: Response = await handler(request)
            except OAuthError as exc:
                return _oauth_error(request, exc)
            return result

        return endpoint

    async def discovery(request: Request) -> Response:
        tenant = tenant_of(request)
        origin = _origin(request)
        issuer_tenant = "{tenantid}" if tenant in TENANT_ALIASES else tenant
        issuer = authority.issuer(issuer_tenant, base=origin)
        document = {
            "issuer": issuer,
            "token_endpoint": f"{origin}/{tenant}/oauth2/v2.0/token",
            "authorization_endpoint": f"{origin}/{tenant}/oauth2/v2.0/authorize",
            "jwks_uri": f"{origin}/{tenant}/discovery/v2.0/keys",
            "token_endpoint_auth_methods_supported": ["client_secret_post", "client_secret_basic"],
            "grant_types_supported": ["client_credentials"],
            "response_types_supported": ["token"],
            "response_modes_supported": ["query", "fragment", "form_post"],
            "subject_types_supported": ["pairwise"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "scopes_supported": sorted(GRAPH_DEFAULT_SCOPES),
            "claims_supported": CLAIMS.split(),
            "request_uri_parameter_supported": False,
            "tenant_region_scope": None,
            "cloud_instance_name": request.url.hostname,
        }
        return JSONResponse(document, headers={"Cache-Control": "max-age=300, private"})

    async def jwks(request: Request) -> Response:
        if "tenant" in request.path_params:
            tenant_of(request)
        found = await run_in_threadpool(
            keys.verification_keys,
            store,
            now=int(time.time()),
            leeway=settings.leeway_seconds,
        )
        found.sort(key=lambda key: -key.generation)
        body = {"keys": [key.public_jwk for key in found]}
        # short, since a rotation here takes effect at once; verifiers refetch on an unknown kid
        return JSONResponse(body, headers={"Cache-Control": "max-age=300, private"})

    async def token(request: Request) -> Response:
        tenant = tenant_of(request, error="invalid_request")
        content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
        # No Content-Type at all is read as a form, as Entra does (msticpy posts that way); an
        # explicit other type is not: Entra then finds no parameter in the body.
        if content_type not in ("", "application/x-www-form-urlencoded"):
            raise OAuthError(
                "invalid_request",
                900144,
                "The request body must contain the following parameter: 'grant_type'. The body "
                f"was sent as '{content_type}'; send the token request as a form "
                "(Content-Type: application/x-www-form-urlencoded).",
            )
        raw = await _limited_body(request)
        form = _parse_form(raw)
        return await run_in_threadpool(_client_credentials, authority, store, tenant, form, request)

    async def authorize_endpoint(request: Request) -> Response:
        tenant_of(request)
        raise OAuthError(
            "unsupported_response_type",
            INVALID_PARAMETER,
            "Interactive sign-in is not offered by this server. Use the client-credentials grant "
            "at the token endpoint, or mint a delegated token with `alertgraph token`.",
        )

    return [
        Route("/{tenant}/v2.0/.well-known/openid-configuration", guarded(discovery)),
        Route("/{tenant}/discovery/v2.0/keys", guarded(jwks)),
        Route("/discovery/v2.0/keys", guarded(jwks)),
        Route("/{tenant}/oauth2/v2.0/token", guarded(token), methods=["POST"]),
        Route(
            "/{tenant}/oauth2/v2.0/authorize",
            guarded(authorize_endpoint),
            methods=["GET", "POST"],
        ),
    ]


async def _limited_body(request: Request) -> bytes:
    """The form, read no further than MAX_FORM_BYTES (a huge body never fills memory)."""
    too_large = OAuthError(
        "invalid_request",
        INVALID_PARAMETER,
        f"The token request body is too large: the limit is {MAX_FORM_BYTES} bytes.",
    )
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_FORM_BYTES:
        raise too_large
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_FORM_BYTES:
            raise too_large
        chunks.append(chunk)
    return b"".join(chunks)


def _parse_form(raw: bytes) -> dict[str, str]:
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise OAuthError(
            "invalid_request", INVALID_PARAMETER, "The token request body is not UTF-8."
        ) from None
    parsed = parse_qs(text, keep_blank_values=True)
    repeated = sorted(name for name, values in parsed.items() if len(values) > 1)
    if repeated:
        # RFC 6749 3.2: request parameters must not be included more than once
        raise OAuthError(
            "invalid_request",
            INVALID_PARAMETER,
            f"The parameter '{repeated[0]}' is repeated; send each parameter once.",
        )
    return {name: values[0] for name, values in parsed.items()}


def _basic_credentials(request: Request) -> tuple[str, str] | None:
    header = request.headers.get("authorization")
    if header is None:
        return None
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "basic":
        raise OAuthError(
            "invalid_client",
            7000216,
            "'client_assertion', 'client_secret' or 'request' is required for the "
            f"'client_credentials' grant type; an Authorization header of scheme '{scheme}' "
            "is not a client credential (use HTTP Basic or form fields).",
            status=401,
        )
    try:
        decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        raise OAuthError(
            "invalid_client",
            7000216,
            "The Basic authorization header is not base64 of UTF-8 'client_id:client_secret'.",
            status=401,
        ) from None
    client_id, sep, secret = decoded.partition(":")
    if not sep:
        raise OAuthError(
            "invalid_client",
            7000216,
            "The Basic credentials have no ':' between client id and secret.",
            status=401,
        )
    # RFC 6749 2.3.1: both parts are form-urlencoded before Basic encoding
    return unquote(client_id.replace("+", " ")), unquote(secret.replace("+", " "))


def _client_credentials(
    authority: Authenticator, store: Store, tenant: str, form: dict[str, str], request: Request
) -> Response:
    grant = form.get("grant_type")
    if not grant:
        raise OAuthError(
            "invalid_request",
            900144,
            "The request body must contain the following parameter: 'grant_type'.",
        )
    if grant != "client_credentials":
        raise OAuthError(
            "unsupported_grant_type",
            70003,
            f"The access grant '{grant}' is not supported; this server issues tokens for the "
            "'client_credentials' grant only.",
        )
    if tenant in TENANT_ALIASES:
        raise OAuthError(
            "invalid_request",
            50059,
            "No tenant-identifying information found in the request: the client-credentials "
            f"grant needs a tenant id in the URL, not '{tenant}'.",
        )
    basic = _basic_credentials(request)
    if basic is not None and ("client_secret" in form or "client_assertion" in form):
        raise OAuthError(
            "invalid_request",
            INVALID_PARAMETER,
            "Use one client authentication method, not HTTP Basic and form fields together.",
        )
    client_id, secret = basic if basic is not None else (form.get("client_id"), None)
    if basic is None:
        secret = form.get("client_secret")
    if not client_id:
        raise OAuthError(
            "invalid_request",
            900144,
            "The request body must contain the following parameter: 'client_id'.",
        )
    if "client_assertion" in form and secret is None:
        raise OAuthError(
            "invalid_client",
            50012,
            "Authentication failed: certificate (client assertion) authentication is not "
            "supported by this server; use a client secret.",
            status=401,
        )
    if not secret:
        raise OAuthError(
            "invalid_client",
            7000216,
            "'client_assertion', 'client_secret' or 'request' is required for the "
            "'client_credentials' grant type. Send 'client_secret' in the form or use HTTP "
            "Basic authentication.",
            status=401,
        )
    scopes = form.get("scope", "").split()
    if not scopes:
        raise OAuthError(
            "invalid_request",
            900144,
            "The request body must contain the following parameter: 'scope' "
            "(https://graph.microsoft.com/.default).",
        )
    if len(scopes) != 1 or scopes[0] not in GRAPH_DEFAULT_SCOPES:
        raise OAuthError(
            "invalid_scope",
            1002012,
            f"The provided value for scope {' '.join(scopes)} is not valid. Client credential "
            "flows must have a scope value with /.default suffixed to the resource identifier: "
            "request 'https://graph.microsoft.com/.default'.",
        )
    found = keys.find_app(store, client_id)
    if found is None or found[0].tenant != tenant:
        # the same answer whether the app is unknown or registered in another tenant
        raise OAuthError(
            "unauthorized_client",
            700016,
            f"Application with identifier '{client_id}' was not found in the directory "
            f"'{tenant}'. You may have sent your authentication request to the wrong tenant, "
            "or the app was registered in another tenant.",
        )
    app, salt, expected = found
    if not keys.check_secret(secret, salt, expected):
        raise OAuthError(
            "invalid_client",
            7000215,
            "Invalid client secret provided. Ensure the secret being sent in the request is the "
            f"client secret value, not the client secret ID, for a secret added to app "
            f"'{client_id}'.",
            status=401,
        )
    access_token = authority.mint(
        tenant=tenant,
        app_id=app.client_id,
        object_id=app.object_id,
        roles=app.roles,
        expires_in=TOKEN_LIFETIME,
        issuer_base=_origin(request),
    )
    body = {
        "token_type": "Bearer",
        "expires_in": TOKEN_LIFETIME,
        "ext_expires_in": TOKEN_LIFETIME,
        "access_token": access_token,
    }
    trace_id = _trace_id(request)
    log.info(
        "token service issued an app token: tenant=%s client_id=%s roles=%s request_id=%s",
        tenant,
        app.client_id,
        "|".join(app.roles),
        trace_id,
    )
    headers = {"Cache-Control": "no-store", "Pragma": "no-cache", "x-ms-request-id": trace_id}
    return JSONResponse(body, headers=headers)
