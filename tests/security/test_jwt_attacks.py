"""RFC 8725 attacks on the bearer token, end to end over HTTP: each is a 401, never a 500.

Every refusal must carry Graph's envelope (InvalidAuthenticationToken), an RFC 6750 challenge, and
must not echo the token.
"""

from __future__ import annotations

import hashlib
import hmac
import http.server
import json
import threading
import time
from collections.abc import Iterator
from typing import Any, ClassVar

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from sqlalchemy import update

from alertgraph.errors import Unauthorized
from alertgraph.identity import keys
from alertgraph.identity.auth import Authenticator, rotate_key
from tests.factories import TENANT_A, TENANT_B, alert, app_client, built_app, insert
from tests.security.conftest import app_claims, b64, bearer, claims_for, sign

URL = "/beta/security/alerts_v2"


def refused(response: Any, token: str, needle: str = "") -> str:
    """Assert a proper 401 for ``token``; returns the error message."""
    assert response.status_code == 401, response.text
    error = response.json()["error"]
    assert error["code"] == "InvalidAuthenticationToken"
    challenge = response.headers["www-authenticate"]
    assert challenge.startswith('Bearer realm="alertgraph"')
    assert 'error="invalid_token"' in challenge
    # never echo the credential, not even its signature or payload
    for part in token.split("."):
        if len(part) > 12:
            assert part not in response.text
            assert part not in challenge
    assert needle.lower() in error["message"].lower(), error["message"]
    return str(error["message"])


@pytest.fixture
def seeded(store):
    insert(store, "alerts_v2", [alert("a1")])
    return store


def test_the_forger_makes_tokens_the_server_accepts(client, seeded) -> None:
    """The baseline every attack below varies: if this fails, the attacks prove nothing."""
    response = client.get(URL, headers=bearer(sign(seeded, claims_for())))
    assert response.status_code == 200, response.text
    assert [item["id"] for item in response.json()["value"]] == ["a1"]


# ---- algorithm confusion ----------------------------------------------------------------------


@pytest.mark.parametrize("alg", ["none", "None", "NONE", "nOnE", ""])
def test_unsigned_tokens(client, seeded, alg: str) -> None:
    kid = keys.current_key(seeded).kid
    header = b64(json.dumps({"alg": alg, "typ": "JWT", "kid": kid}).encode())
    payload = b64(json.dumps(claims_for()).encode())
    for token in (f"{header}.{payload}.", f"{header}.{payload}"):
        response = client.get(URL, headers=bearer(token))
        assert response.status_code == 401, (alg, token[-5:], response.text)


@pytest.mark.parametrize("alg", ["RS256 ", "rs256", "Rs256", "RS512", "PS256", "HS256"])
def test_algorithm_must_be_exactly_rs256(client, seeded, alg: str) -> None:
    token = sign(
        seeded, claims_for(), header={"alg": alg, "typ": "JWT", "kid": keys.current_key(seeded).kid}
    )
    refused(client.get(URL, headers=bearer(token)), token)


def _hs256(secret: bytes, header: dict[str, Any], claims: dict[str, Any]) -> str:
    signing_input = f"{b64(json.dumps(header).encode())}.{b64(json.dumps(claims).encode())}"
    mac = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{b64(mac)}"


def test_hs256_signed_with_the_public_key_in_every_form(client, seeded) -> None:
    signing = keys.current_key(seeded)
    public = signing.private_key().public_key()
    forms = [
        public.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        ),
        public.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.PKCS1),
        public.public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        ),
        json.dumps(signing.public_jwk).encode(),
        json.dumps(signing.public_jwk, sort_keys=True, separators=(",", ":")).encode(),
        json.dumps({"keys": [signing.public_jwk]}).encode(),
        signing.public_jwk["n"].encode(),
    ]
    # the JWKS exactly as published is a secret anyone can fetch
    forms.append(client.get("/discovery/v2.0/keys").content)
    for secret in forms:
        header = {"alg": "HS256", "typ": "JWT", "kid": signing.kid}
        token = _hs256(secret, header, claims_for())
        refused(client.get(URL, headers=bearer(token)), token, "only RS256")


# ---- the key: kid and embedded keys -----------------------------------------------------------


@pytest.mark.parametrize(
    "kid",
    [
        "no-such-key",
        "../../../../etc/passwd",
        "/dev/null",
        "file:///etc/passwd",
        "' OR '1'='1",
        "x'; DROP TABLE auth_signing_keys; --",
        "%00",
        "\u0000",
        "k" * 5000,
        "",
    ],
)
def test_kid_pointing_at_nothing(client, seeded, kid: str) -> None:
    token = sign(seeded, claims_for(), header={"alg": "RS256", "typ": "JWT", "kid": kid})
    refused(client.get(URL, headers=bearer(token)), token)
    # the lookup was a bound parameter: the key table is intact and the real key still works
    assert client.get(URL, headers=bearer(sign(seeded, claims_for()))).status_code == 200


@pytest.mark.parametrize("kid", [None, 1, ["k"], {"kid": "k"}, True])
def test_kid_of_the_wrong_type(client, seeded, kid: Any) -> None:
    header: dict[str, Any] = {"alg": "RS256", "typ": "JWT"}
    if kid is not None:
        header["kid"] = kid
    token = sign(seeded, claims_for(), header=header)
    refused(client.get(URL, headers=bearer(token)), token)


class _Recorder(http.server.BaseHTTPRequestHandler):
    hits: ClassVar[list[str]] = []

    def do_GET(self) -> None:
        _Recorder.hits.append(self.path)
        self.send_response(200)
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        return


@pytest.fixture
def listener() -> Iterator[str]:
    """A local HTTP server that records any request: embedded key URLs must never be fetched."""
    _Recorder.hits = []
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Recorder)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def test_embedded_and_remote_keys_are_ignored_and_never_fetched(client, seeded, listener) -> None:
    attacker = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    attacker_jwk = keys.public_jwk(attacker.public_key())
    ours = keys.current_key(seeded).kid
    headers = []
    for kid in (attacker_jwk["kid"], ours):
        headers += [
            {"alg": "RS256", "typ": "JWT", "kid": kid, "jwk": attacker_jwk},
            {"alg": "RS256", "typ": "JWT", "kid": kid, "jku": f"{listener}/jwks.json"},
            {"alg": "RS256", "typ": "JWT", "kid": kid, "x5u": f"{listener}/cert.pem"},
            {
                "alg": "RS256",
                "typ": "JWT",
                "kid": kid,
                "jwk": attacker_jwk,
                "jku": f"{listener}/jwks.json",
                "x5u": f"{listener}/cert.pem",
                "x5c": ["MIIB"],
            },
        ]
    for header in headers:
        token = sign(seeded, claims_for(), header=header, key=attacker)
        refused(client.get(URL, headers=bearer(token)), token)
    time.sleep(0.2)
    assert _Recorder.hits == []


def test_jku_on_a_token_signed_by_our_key_is_ignored_not_fetched(client, seeded, listener) -> None:
    """Header members that name keys do not matter when our key signed: kid alone picks it."""
    header = {
        "alg": "RS256",
        "typ": "JWT",
        "kid": keys.current_key(seeded).kid,
        "jku": f"{listener}/jwks.json",
        "x5u": f"{listener}/c.pem",
    }
    response = client.get(URL, headers=bearer(sign(seeded, claims_for(), header=header)))
    assert response.status_code == 200
    time.sleep(0.2)
    assert _Recorder.hits == []


@pytest.mark.parametrize(
    "extra",
    [{"crit": ["exp"]}, {"crit": ["b64"], "b64": False}, {"crit": []}, {"crit": "x"}],
)
def test_critical_header_parameters(client, seeded, extra) -> None:
    header = {"alg": "RS256", "typ": "JWT", "kid": keys.current_key(seeded).kid, **extra}
    token = sign(seeded, claims_for(), header=header)
    refused(client.get(URL, headers=bearer(token)), token)


@pytest.mark.parametrize("typ", ["JWE", "id_token", "dpop+jwt", "logout+jwt", "JOSE", 7, ""])
def test_wrong_typ(client, seeded, typ) -> None:
    header = {"alg": "RS256", "typ": typ, "kid": keys.current_key(seeded).kid}
    token = sign(seeded, claims_for(), header=header)
    refused(client.get(URL, headers=bearer(token)), token)


def test_nested_jwt_is_not_unwrapped(client, seeded) -> None:
    inner = sign(seeded, claims_for())
    header = {"alg": "RS256", "typ": "JWT", "cty": "JWT", "kid": keys.current_key(seeded).kid}
    token = sign(seeded, inner.encode(), header=header)
    refused(client.get(URL, headers=bearer(token)), token)


def test_jwe_shaped_token(client, seeded) -> None:
    token = "eyJhbGciOiJSU0EtT0FFUCIsImVuYyI6IkEyNTZHQ00ifQ.a.b.c.d"
    refused(client.get(URL, headers=bearer(token)), token, "JWE")


@pytest.mark.parametrize("size", [16_001, 1_000_000])
def test_huge_tokens_are_401_not_500(client, seeded, size: int) -> None:
    header = {"alg": "RS256", "typ": "JWT", "kid": keys.current_key(seeded).kid, "pad": "A" * size}
    token = sign(seeded, claims_for(), header=header)
    response = client.get(URL, headers=bearer(token))
    assert response.status_code == 401, response.status_code
    error = response.json()["error"]
    assert error["code"] == "InvalidAuthenticationToken"
    assert error["message"] == "Access token is longer than 16000 characters."
    assert len(response.content) < 5_000


@pytest.mark.parametrize(
    "token",
    [
        "a.b.c",
        "...",
        "eyJ.eyJ.",
        "Zm9v.YmFy.YmF6",
        "e30.e30.e30",  # {} . {} . {}
        "W10.W10.",  # [] . []
        "bnVsbA.bnVsbA.",  # null . null
        "\u00e9\u00e9.\u00e9.\u00e9",
        "eyJhbGciOiJSUzI1NiJ9." + "A" * 10 + ".!!!",
    ],
)
def test_garbage_tokens(client, seeded, token: str) -> None:
    response = client.get(URL, headers={"Authorization": f"Bearer {token}".encode()})
    assert response.status_code == 401, response.text


def test_payload_that_is_not_an_object(client, seeded) -> None:
    for payload in (b"[]", b"null", b"1", b'"claims"', b"{", b"\xff\xfe"):
        token = sign(seeded, payload)
        refused(client.get(URL, headers=bearer(token)), token)


def test_header_that_is_not_an_object(client, seeded) -> None:
    for header in (b"[]", b"null", b'"RS256"', b"{"):
        token = sign(seeded, claims_for(), header=header)
        refused(client.get(URL, headers=bearer(token)), token)


# ---- claims ------------------------------------------------------------------------------------


def test_duplicate_claims_are_refused(client, seeded) -> None:
    """RFC 7519 4: a JWT must not repeat a claim; a parser that keeps one of them silently lets
    the two sides of a confusion attack read different tenants."""
    base = claims_for(TENANT_B)
    body = json.dumps(base)[:-1] + f', "tid": "{TENANT_A}"}}'
    token = sign(seeded, body.encode())
    refused(client.get(URL, headers=bearer(token)), token, "repeat")
    body = json.dumps(claims_for())[:-1] + ', "scp": "SecurityAlert.Read.All"}'
    token = sign(seeded, body.encode())
    refused(client.get(URL, headers=bearer(token)), token, "repeat")


def test_duplicate_header_members_are_refused(client, seeded) -> None:
    kid = keys.current_key(seeded).kid
    header = f'{{"alg": "none", "typ": "JWT", "kid": "{kid}", "alg": "RS256"}}'.encode()
    token = sign(seeded, claims_for(), header=header)
    refused(client.get(URL, headers=bearer(token)), token, "repeat")


@pytest.mark.parametrize("name", ["exp", "nbf", "iat"])
@pytest.mark.parametrize("value", ["string", True, None, [1], {"t": 1}, "NaN"])
def test_time_claims_must_be_numbers(client, seeded, name: str, value: Any) -> None:
    now = int(time.time())
    shifted = {"exp": now + 600, "nbf": now - 5, "iat": now - 5}[name]
    if value == "string":
        value = str(shifted)  # a perfectly good time, as a string: still not a NumericDate
    claims = claims_for()
    claims[name] = value
    token = sign(seeded, claims)
    refused(client.get(URL, headers=bearer(token)), token)


@pytest.mark.parametrize("literal", ["Infinity", "-Infinity", "NaN", "1e400", "-1e400"])
@pytest.mark.parametrize("name", ["exp", "nbf", "iat"])
def test_non_finite_time_claims(client, seeded, name: str, literal: str) -> None:
    """Python's JSON reader accepts these; they must be a 401, not an overflow into a 500."""
    claims = claims_for()
    claims[name] = "__placeholder__"
    body = json.dumps(claims).replace('"__placeholder__"', literal)
    token = sign(seeded, body.encode())
    refused(client.get(URL, headers=bearer(token)), token)


def test_float_times_are_numeric_dates(client, seeded) -> None:
    """RFC 7519 2: a NumericDate may be non-integer."""
    now = time.time()
    claims = claims_for(iat=now - 1.5, nbf=now - 1.5, exp=now + 600.25)
    assert client.get(URL, headers=bearer(sign(seeded, claims))).status_code == 200
    expired = claims_for(iat=now - 100.5, nbf=now - 100.5, exp=now - 10.5)
    token = sign(seeded, expired)
    refused(client.get(URL, headers=bearer(token)), token, "expired")


def test_far_future_exp_from_our_key_is_honoured(client, seeded) -> None:
    """Lifetime is the issuer's policy; only a holder of the signing key can set it."""
    claims = claims_for(exp=int(time.time()) + 100 * 365 * 86400)
    assert client.get(URL, headers=bearer(sign(seeded, claims))).status_code == 200


@pytest.mark.parametrize(
    ("overrides", "needle"),
    [
        ({"exp": -60}, "expired"),
        ({"exp": 0}, "expired"),
        ({"exp": -1}, "expired"),
        ({"nbf": 60}, "not valid yet"),
        ({"iat": 60}, "not valid yet"),
        ({"nbf": 10**9}, "not valid yet"),
        ({"exp": None}, "'exp'"),
        ({"nbf": None}, "'nbf'"),
        ({"iat": None}, "'iat'"),
        ({"aud": None}, "'aud'"),
        ({"iss": None}, "'iss'"),
        ({"tid": None}, "tid"),
        ({"tid": ""}, "tid"),
        ({"tid": 7}, "tid"),
        ({"tid": ["x"]}, "tid"),
        ({"tid": "../other"}, "tid"),
        ({"ver": "1.0"}, "v2.0"),
        ({"ver": None}, "v2.0"),
        ({"aud": "https://graph.microsoft.com/"}, "audience"),
        ({"aud": "https://GRAPH.microsoft.com"}, "audience"),
        ({"aud": "https://management.azure.com"}, "audience"),
        ({"aud": []}, "aud"),
        ({"aud": 1}, ""),
        ({"scp": ["SecurityAlert.Read.All"]}, "scp"),
        ({"roles": "SecurityAlert.Read.All"}, "roles"),
        ({"wids": "62e90394-69f5-4237-9190-012177145e10"}, "wids"),
        ({"wids": [1]}, "wids"),
        ({"oid": None, "upn": None, "azp": None}, "no user"),
    ],
)
def test_bad_claims(client, seeded, overrides, needle) -> None:
    """Times in ``overrides`` are offsets from now, except the absolute 0 and -1."""
    now = int(time.time())
    overrides = {
        name: now + value
        if name in ("exp", "nbf", "iat") and isinstance(value, int) and value not in (0, -1)
        else value
        for name, value in overrides.items()
    }
    token = sign(seeded, claims_for(**overrides))
    refused(client.get(URL, headers=bearer(token)), token, needle)


def test_leeway_is_small(client, seeded) -> None:
    now = int(time.time())
    ok = claims_for(nbf=now + 2, iat=now + 2)
    assert client.get(URL, headers=bearer(sign(seeded, ok))).status_code == 200
    late = claims_for(exp=now - 30)
    token = sign(seeded, late)
    refused(client.get(URL, headers=bearer(token)), token, "expired")


@pytest.mark.parametrize(
    "aud",
    [
        ["https://graph.microsoft.com", "https://attacker.example"],
        ["https://attacker.example", "00000003-0000-0000-c000-000000000000"],
        ["https://graph.microsoft.com", "https://graph.microsoft.com"],
    ],
)
def test_audience_lists_are_refused(client, seeded, aud) -> None:
    """Graph's tokens name one audience. A token also meant for another service could be replayed
    here by that service (RFC 8725 3.9), so a list is refused even when it includes Graph."""
    token = sign(seeded, claims_for(aud=aud))
    refused(client.get(URL, headers=bearer(token)), token, "audience")


def test_either_graph_audience_alone_is_accepted(client, seeded) -> None:
    for aud in ("https://graph.microsoft.com", "00000003-0000-0000-c000-000000000000"):
        assert client.get(URL, headers=bearer(sign(seeded, claims_for(aud=aud)))).status_code == 200


# ---- tenant confusion ----------------------------------------------------------------------------


def test_issuer_of_another_tenant_with_this_tid(client, seeded) -> None:
    """A token B's issuer made cannot be relabelled as A's, nor the other way round."""
    for iss_tenant, tid in ((TENANT_B, TENANT_A), (TENANT_A, TENANT_B)):
        claims = claims_for(tid, iss=f"https://login.alertgraph.local/{iss_tenant}/v2.0")
        token = sign(seeded, claims)
        refused(client.get(URL, headers=bearer(token)), token, "issuer")


@pytest.mark.parametrize(
    "iss",
    [
        f"https://login.alertgraph.local/{TENANT_A}/v2.0/",
        f"https://login.alertgraph.local/{TENANT_A}",
        "https://login.alertgraph.local/common/v2.0",
        "https://login.alertgraph.local/{tenantid}/v2.0",
        f"https://login.alertgraph.local/{TENANT_A.upper()}/v2.0",
        f"https://sts.windows.net/{TENANT_A}/",
        f"ftp://login.alertgraph.local/{TENANT_A}/v2.0",
        f"https://login.alertgraph.local/{TENANT_A}/v2.0?x=1",
        f"https://login.alertgraph.local/{TENANT_A}/v2.0#x",
        f"https://login.alertgraph.local/x/{TENANT_B}/../{TENANT_A}/v2.0 ",
        "",
    ],
)
def test_issuer_shapes(client, seeded, iss: str) -> None:
    token = sign(seeded, claims_for(iss=iss))
    refused(client.get(URL, headers=bearer(token)), token, "issuer")


# ---- keys: rotation and retirement ------------------------------------------------------------


def test_rotated_out_key_is_refused_once_its_tokens_have_expired(app, client, seeded) -> None:
    old = keys.current_key(seeded)
    token = sign(seeded, claims_for(exp=int(time.time()) + 600))
    keys.record_expiry(seeded, old.kid, int(time.time()) + 600)
    rotate_key(seeded)
    assert client.get(URL, headers=bearer(token)).status_code == 200  # still in its lifetime
    # every token it signed has expired: the key is retired, even for a new, fresh token
    table = keys.signing_keys_table
    with seeded.engine.begin() as conn:
        conn.execute(update(table).where(table.c.kid == old.kid).values(valid_until=1))
    forged = sign(seeded, claims_for(), key=old.private_key(), kid=old.kid)
    # a verifier that loads the keys now (a running server reloads them every minute)
    verifier = Authenticator(seeded, app.state.authenticator.settings)
    with pytest.raises(Unauthorized, match="unknown key"):
        verifier.verify(forged)


def test_retired_key_is_refused_over_http_by_a_server_started_after_retirement(
    settings, seeded
) -> None:
    old = keys.current_key(seeded)
    rotate_key(seeded)
    forged = sign(seeded, claims_for(), key=old.private_key(), kid=old.kid)
    with built_app(settings, seeded) as application, app_client(application) as later:
        refused(later.get(URL, headers=bearer(forged)), forged, "unknown key")
        # the current key works on the same server
        assert later.get(URL, headers=bearer(sign(seeded, claims_for()))).status_code == 200


def test_token_signed_by_a_key_the_server_never_had(client, seeded) -> None:
    stranger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    kid = keys.public_jwk(stranger.public_key())["kid"]
    token = sign(seeded, claims_for(), key=stranger, kid=kid)
    refused(client.get(URL, headers=bearer(token)), token, "unknown key")
    # and with our kid: the signature does not verify
    token = sign(seeded, claims_for(), key=stranger)
    refused(client.get(URL, headers=bearer(token)), token, "signature")


def test_signature_of_another_token_is_not_transplantable(client, seeded) -> None:
    good_a = sign(seeded, claims_for(TENANT_A))
    good_b = sign(seeded, claims_for(TENANT_B))
    head, payload_b, _ = good_b.split(".")
    spliced = f"{head}.{payload_b}.{good_a.split('.')[2]}"
    refused(client.get(URL, headers=bearer(spliced)), spliced, "signature")
    stripped = f"{head}.{payload_b}."
    refused(client.get(URL, headers=bearer(stripped)), stripped)


# ---- the Authorization header --------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    [
        "Bearer",
        "Bearer ",
        "bearer",
        "Basic dXNlcjpwYXNz",
        "Token abc",
        "Bearer a b c",
        "Bearer\ttoken",
        "Negotiate YII=",
    ],
)
def test_malformed_authorization_headers(client, seeded, value: str) -> None:
    response = client.get(URL, headers={"Authorization": value})
    assert response.status_code == 401, response.text
    assert response.json()["error"]["code"] == "InvalidAuthenticationToken"


def test_two_authorization_headers_are_refused(client, seeded) -> None:
    """Proxies disagree on which of two headers counts; the server takes neither."""
    good = sign(seeded, claims_for())
    other = sign(seeded, claims_for(TENANT_B))
    response = client.get(
        URL, headers=[("Authorization", f"Bearer {good}"), ("Authorization", f"Bearer {other}")]
    )
    assert response.status_code == 401, response.text


def test_token_in_the_query_string_is_not_a_credential(client, seeded) -> None:
    token = sign(seeded, claims_for())
    response = client.get(f"{URL}?access_token={token}")
    assert response.status_code == 401, response.text
    error = response.json()["error"]
    assert error["code"] == "InvalidAuthenticationToken"
    assert error["message"] == "Access token is empty."
    assert token not in response.text


def test_app_token_with_user_claims_stripped_still_needs_roles(client, seeded) -> None:
    token = sign(seeded, app_claims(roles=[]))
    response = client.get(URL, headers=bearer(token))
    assert response.status_code == 403


@pytest.mark.parametrize(
    "value",
    ["RS256\r\nX-Injected: yes", "\u2603", "a\u0000b", "\u00e9", "x" * 5000, '"quoted"\\'],
)
@pytest.mark.parametrize("member", ["alg", "typ", "kid"])
def test_header_values_never_break_the_challenge(client, seeded, member: str, value: str) -> None:
    """alg, typ and kid are read before the signature: whatever they hold, the answer is a clean
    401 whose WWW-Authenticate header stays one printable line."""
    header = {"alg": "RS256", "typ": "JWT", "kid": keys.current_key(seeded).kid, member: value}
    token = sign(seeded, claims_for(), header=header)
    response = client.get(URL, headers=bearer(token))
    assert response.status_code == 401, response.text
    assert "x-injected" not in response.headers
    challenge = response.headers["www-authenticate"]
    assert challenge.isprintable()
    assert challenge.isascii()
    assert len(challenge) < 1000
