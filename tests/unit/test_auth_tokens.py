"""Token verification: what is accepted, and the RFC 8725 attack list, each a 401."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
import time
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from sqlalchemy import update

from alertgraph.errors import Unauthorized
from alertgraph.identity import keys
from alertgraph.identity.auth import (
    DEFAULT_ISSUER_BASE,
    ROLE_TEMPLATE_IDS,
    Authenticator,
    AuthSettings,
    default_dev_grants,
    rotate_key,
)
from alertgraph.store.database import Store

TENANT = "11111111-2222-3333-4444-555555555555"
OTHER = "99999999-8888-7777-6666-555555555555"


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def segment(value: dict[str, Any]) -> str:
    return b64(json.dumps(value).encode())


def good_claims(**overrides: Any) -> dict[str, Any]:
    now = int(time.time())
    claims: dict[str, Any] = {
        "aud": "https://graph.microsoft.com",
        "iss": f"{DEFAULT_ISSUER_BASE}/{TENANT}/v2.0",
        "iat": now,
        "nbf": now,
        "exp": now + 600,
        "ver": "2.0",
        "tid": TENANT,
        "oid": "0f0f0f0f-0000-0000-0000-000000000001",
        "upn": "alice@contoso.com",
        "azp": "9c1f6a2e-4f3b-4c8e-9a51-6d7e2b0c4a11",
        "scp": "SecurityAlert.Read.All",
        "wids": [ROLE_TEMPLATE_IDS["Security Reader"]],
    }
    claims.update(overrides)
    return {name: value for name, value in claims.items() if value is not None}


@pytest.fixture
def authority(store: Store) -> Authenticator:
    return Authenticator(store, AuthSettings())


@pytest.fixture
def signing(authority: Authenticator) -> keys.SigningKey:
    return keys.current_key(authority.store)


def sign(signing: keys.SigningKey, claims: dict[str, Any], **header: Any) -> str:
    headers = {"kid": signing.kid, **header}
    return jwt.encode(claims, signing.private_key(), algorithm="RS256", headers=headers)


def rejected(authority: Authenticator, header: str | None) -> Unauthorized:
    with pytest.raises(Unauthorized) as caught:
        authority.authenticate(header, request_id="req-1")
    error = caught.value
    assert error.status == 401
    assert error.code == "InvalidAuthenticationToken"
    assert error.headers["WWW-Authenticate"].startswith('Bearer realm="alertgraph"')
    return error


# ---- accepted ---------------------------------------------------------------------------------


def test_minted_delegated_token_gives_its_claims(authority: Authenticator) -> None:
    scopes, roles = default_dev_grants()
    token = authority.mint(tenant=TENANT, user="alice@contoso.com", scopes=scopes,
                           directory_roles=roles)  # fmt: skip
    principal = authority.authenticate(f"Bearer {token}", request_id="r")
    assert principal.tenant == TENANT
    assert principal.kind == "delegated"
    assert principal.upn == principal.display_name == "alice@contoso.com"
    assert principal.delegated == frozenset(scopes)
    assert principal.directory_roles == frozenset(roles)
    assert principal.application == frozenset()
    header = jwt.get_unverified_header(token)
    assert header["alg"] == "RS256"
    assert header["typ"] == "JWT"
    claims = jwt.decode(token, options={"verify_signature": False})
    assert claims["iss"] == f"{DEFAULT_ISSUER_BASE}/{TENANT}/v2.0"
    assert claims["ver"] == "2.0"
    assert claims["preferred_username"] == "alice@contoso.com"
    assert claims["scp"] == " ".join(scopes)


def test_minted_app_token_is_application_kind(authority: Authenticator) -> None:
    token = authority.mint(tenant=TENANT, app_id="app-1", roles=["SecurityAlert.Read.All"])
    principal = authority.authenticate(f"bearer   {token}", request_id="r")
    assert principal.kind == "application"
    assert principal.app_id == principal.display_name == "app-1"
    assert principal.application == {"SecurityAlert.Read.All"}
    assert principal.delegated == frozenset()
    claims = jwt.decode(token, options={"verify_signature": False})
    assert claims["idtyp"] == "app"
    assert "scp" not in claims


def test_role_names_become_template_ids_and_unknown_names_are_refused(
    authority: Authenticator,
) -> None:
    token = authority.mint(tenant=TENANT, user="a@b.c", directory_roles=["security reader"])
    claims = jwt.decode(token, options={"verify_signature": False})
    assert claims["wids"] == [ROLE_TEMPLATE_IDS["Security Reader"]]
    with pytest.raises(ValueError, match="Did you mean 'Security Operator'"):
        authority.mint(tenant=TENANT, user="a@b.c", directory_roles=["Security Operater"])


def test_both_graph_audiences_are_accepted(authority, signing) -> None:
    for audience in ("https://graph.microsoft.com", "00000003-0000-0000-c000-000000000000"):
        token = sign(signing, good_claims(aud=audience))
        assert authority.authenticate(f"Bearer {token}", request_id="r").tenant == TENANT


def test_issuer_base_may_be_any_address_unless_fixed(store: Store, signing) -> None:
    token = sign(signing, good_claims(iss=f"http://127.0.0.1:8443/{TENANT}/v2.0"))
    assert Authenticator(store, AuthSettings()).authenticate(f"Bearer {token}", request_id="r")
    fixed = Authenticator(store, AuthSettings(issuer_base="https://login.example.test/"))
    rejected(fixed, f"Bearer {token}")
    good = sign(signing, good_claims(iss=f"https://login.example.test/{TENANT}/v2.0"))
    assert fixed.authenticate(f"Bearer {good}", request_id="r").tenant == TENANT


def test_leeway_tolerates_small_clock_skew(authority, signing) -> None:
    now = int(time.time())
    token = sign(signing, good_claims(exp=now - 2, nbf=now + 2, iat=now + 2))
    assert authority.authenticate(f"Bearer {token}", request_id="r").tenant == TENANT


# ---- rejected ---------------------------------------------------------------------------------


def test_missing_header_gets_a_bare_challenge(authority: Authenticator) -> None:
    for header in (None, "", "   ", "Bearer", "Bearer   "):
        error = rejected(authority, header)
        assert error.message == "Access token is empty."
        assert error.headers["WWW-Authenticate"] == 'Bearer realm="alertgraph"'


def test_other_schemes_are_refused(authority: Authenticator, signing) -> None:
    token = sign(signing, good_claims())
    error = rejected(authority, f"Basic {token}")
    assert "'Basic' is not supported" in error.message
    assert 'error="invalid_request"' in error.headers["WWW-Authenticate"]


@pytest.mark.parametrize(
    "token",
    ["abc", "a.b.c", "a.b", "....", "eyJhbGciOiJSUzI1NiJ9.e30", "%%%.%%%.%%%", "Bearer x y"],
)
def test_malformed_tokens(authority: Authenticator, token: str) -> None:
    error = rejected(authority, f"Bearer {token}")
    assert 'error="invalid_token"' in error.headers["WWW-Authenticate"]


def test_tampered_payload(authority, signing) -> None:
    token = sign(signing, good_claims())
    head, _, signature = token.split(".")
    forged = segment(good_claims(scp="SecurityAlert.ReadWrite.All"))
    error = rejected(authority, f"Bearer {head}.{forged}.{signature}")
    assert "signature is invalid" in error.message


def test_tampered_signature(authority, signing) -> None:
    head, body, signature = sign(signing, good_claims()).split(".")
    flipped = ("A" if signature[0] != "A" else "B") + signature[1:]
    rejected(authority, f"Bearer {head}.{body}.{flipped}")


@pytest.mark.parametrize(
    ("overrides", "needle"),
    [
        ({"exp": -60}, "expired"),
        ({"nbf": 120}, "not valid yet"),
        ({"iat": 120}, "not valid yet"),
        ({"aud": "api://some-other-api"}, "audience"),
        ({"aud": ["api://a", "api://b"]}, "audience"),
        ({"exp": None}, "'exp'"),
        ({"iat": None}, "'iat'"),
        ({"nbf": None}, "'nbf'"),
        ({"aud": None}, "'aud'"),
        ({"iss": None}, "'iss'"),
        ({"tid": None}, "'tid'"),
        ({"tid": "bad/tenant"}, "tid"),
        ({"ver": "1.0"}, "v2.0"),
        ({"scp": ["SecurityAlert.Read.All"]}, "scp"),
        ({"roles": "SecurityAlert.Read.All"}, "roles"),
        ({"wids": [1, 2]}, "wids"),
        ({"oid": None, "upn": None, "azp": None}, "names no user"),
    ],
)
def test_bad_claims(authority, signing, overrides: dict[str, Any], needle: str) -> None:
    now = int(time.time())
    relative = {"exp", "nbf", "iat"}
    values = {
        name: (now + value if name in relative and value is not None else value)
        for name, value in overrides.items()
    }
    error = rejected(authority, f"Bearer {sign(signing, good_claims(**values))}")
    assert needle in error.message


@pytest.mark.parametrize(
    "issuer",
    [
        f"https://sts.windows.net/{TENANT}/",  # v1 form
        f"{DEFAULT_ISSUER_BASE}/{OTHER}/v2.0",  # another tenant's issuer
        f"{DEFAULT_ISSUER_BASE}/{TENANT}/v2.0/",
        f"{DEFAULT_ISSUER_BASE}/{TENANT}/v2.0?x=1",
        f"ftp://login.example/{TENANT}/v2.0",
        f"{DEFAULT_ISSUER_BASE}/{TENANT}",
        "",
    ],
)
def test_wrong_issuer(authority, signing, issuer: str) -> None:
    error = rejected(authority, f"Bearer {sign(signing, good_claims(iss=issuer))}")
    assert "issuer" in error.message


def test_other_tenants_issuer_claiming_a_different_tid(authority, signing) -> None:
    # issued for OTHER but claims TENANT's data (and the reverse)
    claims = good_claims(iss=f"{DEFAULT_ISSUER_BASE}/{OTHER}/v2.0", tid=TENANT)
    rejected(authority, f"Bearer {sign(signing, claims)}")
    claims = good_claims(iss=f"{DEFAULT_ISSUER_BASE}/{TENANT}/v2.0", tid=OTHER)
    rejected(authority, f"Bearer {sign(signing, claims)}")


def test_alg_none(authority, signing) -> None:
    for alg in ("none", "None", "NONE"):
        head = segment({"alg": alg, "typ": "JWT", "kid": signing.kid})
        for signature in ("", "AAAA"):
            error = rejected(authority, f"Bearer {head}.{segment(good_claims())}.{signature}")
            assert "only RS256" in error.message


def test_algorithm_confusion_hs256_with_the_public_key(authority, signing) -> None:
    public = signing.private_key().public_key()
    for secret in (
        public.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        ),
        json.dumps(signing.public_jwk).encode(),
    ):
        head = segment({"alg": "HS256", "typ": "JWT", "kid": signing.kid})
        body = segment(good_claims())
        mac = hmac.new(secret, f"{head}.{body}".encode(), hashlib.sha256).digest()
        error = rejected(authority, f"Bearer {head}.{body}.{b64(mac)}")
        assert "'HS256'" in error.message


@pytest.mark.parametrize("alg", ["RS384", "RS512", "PS256"])
def test_other_rsa_algorithms_with_our_key(authority, signing, alg: str) -> None:
    token = jwt.encode(good_claims(), signing.private_key(), algorithm=alg,
                       headers={"kid": signing.kid})  # fmt: skip
    rejected(authority, f"Bearer {token}")


def test_es256_token(authority, signing) -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    token = jwt.encode(good_claims(), key, algorithm="ES256", headers={"kid": signing.kid})
    rejected(authority, f"Bearer {token}")


def test_unknown_kid_and_attacker_keys(authority, signing) -> None:
    attacker = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    own_kid = jwt.encode(good_claims(), attacker, algorithm="RS256", headers={"kid": "evil"})
    error = rejected(authority, f"Bearer {own_kid}")
    assert "unknown key" in error.message
    # the attacker's key under our kid: the signature does not verify
    our_kid = jwt.encode(good_claims(), attacker, algorithm="RS256",
                         headers={"kid": signing.kid})  # fmt: skip
    assert "signature" in rejected(authority, f"Bearer {our_kid}").message
    # RFC 8725 3.10: a key embedded in the header (jwk, jku, x5u) is never used
    embedded = keys.public_jwk(attacker.public_key())
    header = {"kid": embedded["kid"], "jwk": embedded, "jku": "https://evil.example/keys"}
    token = jwt.encode(good_claims(), attacker, algorithm="RS256", headers=header)
    assert "unknown key" in rejected(authority, f"Bearer {token}").message
    # no kid at all
    head = segment({"alg": "RS256", "typ": "JWT"})
    assert "'kid'" in rejected(authority, f"Bearer {head}.{segment(good_claims())}.AAAA").message


def test_header_oddities(authority, signing) -> None:
    # RFC 7515 4.1.11: a critical extension we don't implement makes the token invalid
    rejected(authority, f"Bearer {sign(signing, good_claims(), crit=['exp'])}")
    assert (
        "type" in rejected(authority, f"Bearer {sign(signing, good_claims(), typ='JWE')}").message
    )
    assert "JWE" in rejected(authority, "Bearer a.b.c.d.e").message
    assert "longer" in rejected(authority, "Bearer " + "a" * 20_000).message


def test_hostile_header_values_stay_out_of_the_challenge(authority, signing) -> None:
    for kid in ("evil\r\nSet-Cookie: x=1", "ключ", "k" * 500):
        token = sign(signing, good_claims(), kid=kid)
        challenge = rejected(authority, f"Bearer {token}").headers["WWW-Authenticate"]
        assert challenge.isascii()
        assert "\r" not in challenge
        assert "\n" not in challenge
        assert len(challenge) < 300
    challenge = rejected(authority, "Bas\u00efc abc").headers["WWW-Authenticate"]
    assert challenge.isascii()


def test_rejections_are_logged_without_the_token(authority, signing, caplog) -> None:
    token = sign(signing, good_claims(aud="api://x"))
    caplog.set_level("INFO", logger="alertgraph.identity.auth")
    rejected(authority, f"Bearer {token}")
    assert "req-1" in caplog.text
    assert token.split(".")[2] not in caplog.text


# ---- keys -------------------------------------------------------------------------------------


def test_rotation_keeps_old_tokens_valid_until_they_expire(store: Store) -> None:
    server = Authenticator(store, AuthSettings())
    cli = Authenticator(store, AuthSettings())
    old = cli.mint(tenant=TENANT, app_id="a", roles=["SecurityAlert.Read.All"])
    assert server.authenticate(f"Bearer {old}", request_id="r").app_id == "a"
    old_kid = jwt.get_unverified_header(old)["kid"]
    new_key = rotate_key(store)
    assert new_key.kid != old_kid
    new = cli.mint(tenant=TENANT, app_id="b", roles=["SecurityAlert.Read.All"])
    assert jwt.get_unverified_header(new)["kid"] == new_key.kid
    # the server learns the new key on first sight and still accepts the old one
    assert server.authenticate(f"Bearer {new}", request_id="r").app_id == "b"
    assert server.authenticate(f"Bearer {old}", request_id="r").app_id == "a"
    published = {key.kid for key in keys.verification_keys(store, now=int(time.time()), leeway=5)}
    assert published == {old_kid, new_key.kid}
    # once every token of the old key has expired, the key is neither published nor accepted
    with store.engine.begin() as conn:
        conn.execute(
            update(keys.signing_keys_table)
            .where(keys.signing_keys_table.c.kid == old_kid)
            .values(valid_until=int(time.time()) - 3600)
        )
    published = {key.kid for key in keys.verification_keys(store, now=int(time.time()), leeway=5)}
    assert published == {new_key.kid}
    fresh = Authenticator(store, AuthSettings())
    assert "unknown key" in rejected(fresh, f"Bearer {old}").message


def test_a_retired_key_that_signed_nothing_is_dropped(store: Store) -> None:
    keys.ensure_schema(store)
    first = keys.current_key(store)
    second = rotate_key(store)
    kids = {key.kid for key in keys.verification_keys(store, now=int(time.time()), leeway=5)}
    assert kids == {second.kid}
    assert second.generation == first.generation + 1


def test_replicas_starting_together_agree_on_one_key(store: Store) -> None:
    keys.ensure_schema(store)
    found: list[str] = []

    def first_use() -> None:
        found.append(keys.current_key(store).kid)

    threads = [threading.Thread(target=first_use) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(set(found)) == 1
    assert len(keys.verification_keys(store, now=int(time.time()), leeway=5)) == 1


def test_create_schema_makes_the_auth_tables(store: Store) -> None:
    from sqlalchemy import inspect

    names = set(inspect(store.engine).get_table_names())
    assert {"auth_signing_keys", "auth_apps"} <= names


def test_record_expiry_only_moves_forward(store: Store, authority: Authenticator) -> None:
    key = keys.current_key(store)
    keys.record_expiry(store, key.kid, 2_000_000_000)
    keys.record_expiry(store, key.kid, 1_000_000_000)
    assert keys.current_key(store).valid_until == 2_000_000_000


def test_mint_refuses_bad_arguments(authority: Authenticator) -> None:
    with pytest.raises(ValueError, match="not a valid tenant"):
        authority.mint(tenant="a/b")
    with pytest.raises(ValueError, match="positive"):
        authority.mint(tenant=TENANT, expires_in=0)
