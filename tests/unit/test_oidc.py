"""Discovery, JWKS and the client-credentials token endpoint, driven over HTTP in-process."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from starlette.applications import Starlette
from starlette.testclient import TestClient

from alertgraph.errors import Forbidden, Unauthorized
from alertgraph.identity.auth import Authenticator, AuthSettings, add_app, authorize, rotate_key
from alertgraph.identity.keys import public_jwk
from alertgraph.identity.oidc import auth_routes
from alertgraph.schema.endpoints import BY_NAME
from alertgraph.store.database import Store

TENANT = "0d6f1b2a-1111-4c8e-9a51-6d7e2b0c4a11"
GRAPH = "https://graph.microsoft.com/.default"


@pytest.fixture
def client(store: Store) -> TestClient:
    app = Starlette(routes=auth_routes(store, AuthSettings()))
    return TestClient(app, base_url="https://alertgraph.test:8443")


@pytest.fixture
def registered(store: Store) -> tuple[str, str]:
    return add_app(store, tenant=TENANT, roles=["SecurityAlert.Read.All"], name="ci")


def token_request(client: TestClient, tenant: str = TENANT, **form: str):
    return client.post(f"/{tenant}/oauth2/v2.0/token", data=form)


def test_discovery_urls_follow_the_request_address(client: TestClient) -> None:
    document = client.get(f"/{TENANT}/v2.0/.well-known/openid-configuration").json()
    base = "https://alertgraph.test:8443"
    assert document["issuer"] == f"{base}/{TENANT}/v2.0"
    assert document["token_endpoint"] == f"{base}/{TENANT}/oauth2/v2.0/token"
    assert document["jwks_uri"] == f"{base}/{TENANT}/discovery/v2.0/keys"
    assert document["id_token_signing_alg_values_supported"] == ["RS256"]
    other = TestClient(client.app, base_url="http://127.0.0.1:9000")
    moved = other.get(f"/{TENANT}/v2.0/.well-known/openid-configuration").json()
    assert moved["token_endpoint"] == f"http://127.0.0.1:9000/{TENANT}/oauth2/v2.0/token"
    common = client.get("/common/v2.0/.well-known/openid-configuration").json()
    assert common["issuer"] == f"{base}/{{tenantid}}/v2.0"


def test_fixed_issuer_base_is_published(store: Store) -> None:
    settings = AuthSettings(issuer_base="https://login.example.test")
    client = TestClient(Starlette(routes=auth_routes(store, settings)), base_url="http://x:1")
    document = client.get(f"/{TENANT}/v2.0/.well-known/openid-configuration").json()
    assert document["issuer"] == f"https://login.example.test/{TENANT}/v2.0"
    assert document["jwks_uri"] == f"http://x:1/{TENANT}/discovery/v2.0/keys"


def test_bad_tenant_in_path(client: TestClient) -> None:
    response = client.get("/bad%20tenant/v2.0/.well-known/openid-configuration")
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_tenant"


def test_minted_token_validates_through_discovery_and_jwks(store: Store, client) -> None:
    """What a third-party verifier does: discovery → jwks_uri → key by kid → verify."""
    token = Authenticator(store, AuthSettings()).mint(
        tenant=TENANT, user="bob@contoso.com", scopes=["SecurityAlert.Read.All"],
        issuer_base="https://alertgraph.test:8443",
    )  # fmt: skip
    document = client.get(f"/{TENANT}/v2.0/.well-known/openid-configuration").json()
    jwks = client.get(document["jwks_uri"]).json()
    key_set = jwt.PyJWKSet.from_dict(jwks)
    kid = jwt.get_unverified_header(token)["kid"]
    signing_key = next(key for key in key_set.keys if key.key_id == kid)
    claims = jwt.decode(
        token,
        signing_key.key,
        algorithms=document["id_token_signing_alg_values_supported"],
        audience="https://graph.microsoft.com",
        issuer=document["issuer"],
    )
    assert claims["upn"] == "bob@contoso.com"
    # the same keys under the common and tenant-less aliases
    assert client.get("/common/discovery/v2.0/keys").json() == jwks
    assert client.get("/discovery/v2.0/keys").json() == jwks


def test_pyjwkclient_flow(store: Store, client: TestClient) -> None:
    class InProcessJWKClient(jwt.PyJWKClient):
        def fetch_data(self):  # the stock client fetches with urllib; route it in-process
            return client.get(self.uri).json()

    token = Authenticator(store, AuthSettings()).mint(tenant=TENANT, app_id="x", roles=["r"])
    jwk_client = InProcessJWKClient(f"https://alertgraph.test:8443/{TENANT}/discovery/v2.0/keys")
    key = jwk_client.get_signing_key_from_jwt(token)
    assert jwt.decode(token, key.key, algorithms=["RS256"],
                      audience="https://graph.microsoft.com")["appid"] == "x"  # fmt: skip


def test_jwks_lists_old_key_until_its_tokens_expire(store: Store, client: TestClient) -> None:
    old_token = Authenticator(store, AuthSettings()).mint(tenant=TENANT, app_id="a")
    new_key = rotate_key(store)
    kids = [key["kid"] for key in client.get("/discovery/v2.0/keys").json()["keys"]]
    assert kids == [new_key.kid, jwt.get_unverified_header(old_token)["kid"]]
    for jwk in client.get("/discovery/v2.0/keys").json()["keys"]:
        assert set(jwk) == {"kty", "use", "alg", "kid", "n", "e"}


def test_client_credentials_grant(store: Store, client, registered) -> None:
    client_id, secret = registered
    response = token_request(
        client, grant_type="client_credentials", client_id=client_id,
        client_secret=secret, scope=GRAPH,
    )  # fmt: skip
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 3599
    assert response.headers["cache-control"] == "no-store"
    principal = Authenticator(store, AuthSettings()).authenticate(
        f"Bearer {body['access_token']}", request_id="r"
    )
    assert principal.kind == "application"
    assert principal.app_id == client_id
    assert principal.tenant == TENANT
    assert principal.application == {"SecurityAlert.Read.All"}
    authorize(principal, BY_NAME["alerts_v2"], "read", request_id="r")
    with pytest.raises(Forbidden):
        authorize(principal, BY_NAME["alerts_v2"], "write", request_id="r")
    claims = jwt.decode(body["access_token"], options={"verify_signature": False})
    assert claims["iss"] == f"https://alertgraph.test:8443/{TENANT}/v2.0"


def test_client_secret_basic(client, registered) -> None:
    client_id, secret = registered
    credentials = base64.b64encode(f"{client_id}:{secret}".encode()).decode()
    response = client.post(
        f"/{TENANT}/oauth2/v2.0/token",
        data={"grant_type": "client_credentials", "scope": GRAPH},
        headers={"Authorization": f"Basic {credentials}"},
    )
    assert response.status_code == 200, response.text
    wrong = base64.b64encode(f"{client_id}:nope".encode()).decode()
    response = client.post(
        f"/{TENANT}/oauth2/v2.0/token",
        data={"grant_type": "client_credentials", "scope": GRAPH},
        headers={"Authorization": f"Basic {wrong}"},
    )
    assert response.status_code == 401
    assert response.headers["www-authenticate"].startswith("Basic")


@pytest.mark.parametrize(
    ("change", "status", "error"),
    [
        ({"client_secret": "wrong"}, 401, "invalid_client"),
        ({"client_secret": ""}, 401, "invalid_client"),
        ({"client_id": "00000000-0000-0000-0000-000000000000"}, 400, "unauthorized_client"),
        ({"client_id": ""}, 400, "invalid_request"),
        ({"grant_type": "password"}, 400, "unsupported_grant_type"),
        ({"grant_type": ""}, 400, "invalid_request"),
        ({"scope": "SecurityAlert.Read.All"}, 400, "invalid_scope"),
        ({"scope": f"{GRAPH} offline_access"}, 400, "invalid_scope"),
        ({"scope": ""}, 400, "invalid_request"),
    ],
)
def test_token_endpoint_errors(client, registered, change, status, error) -> None:
    client_id, secret = registered
    form = {"grant_type": "client_credentials", "client_id": client_id,
            "client_secret": secret, "scope": GRAPH, **change}  # fmt: skip
    response = token_request(client, **form)
    assert response.status_code == status, response.text
    body = response.json()
    assert body["error"] == error
    assert body["error_description"]
    assert "trace_id" in body
    assert "access_token" not in body
    assert secret not in response.text


def test_app_of_another_tenant_is_not_found(client, registered) -> None:
    client_id, secret = registered
    response = token_request(
        client, "22222222-0000-0000-0000-000000000000", grant_type="client_credentials",
        client_id=client_id, client_secret=secret, scope=GRAPH,
    )  # fmt: skip
    assert response.status_code == 400
    assert response.json()["error"] == "unauthorized_client"
    assert 700016 in response.json()["error_codes"]


def test_token_endpoint_refuses_aliases_and_non_form_bodies(client, registered) -> None:
    client_id, secret = registered
    form = {"grant_type": "client_credentials", "client_id": client_id,
            "client_secret": secret, "scope": GRAPH}  # fmt: skip
    assert token_request(client, "common", **form).json()["error"] == "invalid_request"
    response = client.post(f"/{TENANT}/oauth2/v2.0/token", json=form)
    assert response.status_code == 400
    assert "x-www-form-urlencoded" in response.json()["error_description"]
    body = "&".join(f"{name}={value}" for name, value in form.items()) + "&scope=x"
    response = client.post(
        f"/{TENANT}/oauth2/v2.0/token",
        content=body,
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert "repeated" in response.json()["error_description"]


def test_authorize_endpoint_explains_what_to_use(client: TestClient) -> None:
    response = client.get(f"/{TENANT}/oauth2/v2.0/authorize")
    assert response.status_code == 400
    assert "client-credentials" in response.json()["error_description"]


def test_secrets_are_stored_hashed(store: Store, registered) -> None:
    from alertgraph.identity.keys import apps_table

    _, secret = registered
    with store.engine.connect() as conn:
        rows = [dict(row._mapping) for row in conn.execute(apps_table.select())]
    assert len(rows) == 1
    assert secret not in json.dumps(rows, default=str)


def test_trusted_external_issuer(store: Store, tmp_path: Path) -> None:
    external = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    jwk = public_jwk(external.public_key())
    (tmp_path / "keys.json").write_text(json.dumps({"keys": [jwk]}))
    issuer = "https://login.microsoftonline.com/{tenantid}/v2.0"
    config = tmp_path / "trusted.json"
    config.write_text(json.dumps({"issuers": [{"issuer": issuer, "jwks_file": "keys.json"}]}))
    claims = {
        "aud": "00000003-0000-0000-c000-000000000000",
        "iss": f"https://login.microsoftonline.com/{TENANT}/v2.0",
        "iat": 2_000_000_000 - 10**9,
        "nbf": 2_000_000_000 - 10**9,
        "exp": 4_000_000_000,
        "tid": TENANT,
        "oid": "o",
        "azp": "external-app",
        "roles": ["SecurityIncident.Read.All"],
    }
    token = jwt.encode(claims, external, algorithm="RS256", headers={"kid": jwk["kid"]})
    off = Authenticator(store, AuthSettings())
    with pytest.raises(Unauthorized, match="unknown key"):
        off.authenticate(f"Bearer {token}", request_id="r")
    on = Authenticator(store, AuthSettings(trusted_issuers_file=config))
    assert on.authenticate(f"Bearer {token}", request_id="r").app_id == "external-app"
    # an external key cannot vouch for another issuer (ours included)
    for wrong in (f"https://login.alertgraph.local/{TENANT}/v2.0", "https://evil.example/x/v2.0"):
        forged = jwt.encode({**claims, "iss": wrong}, external, algorithm="RS256",
                            headers={"kid": jwk["kid"]})  # fmt: skip
        with pytest.raises(Unauthorized, match="trusted issuer"):
            on.authenticate(f"Bearer {forged}", request_id="r")


def test_trusted_issuers_file_errors(tmp_path: Path) -> None:
    from alertgraph.identity.keys import load_trusted_issuers

    config = tmp_path / "trusted.json"
    config.write_text(json.dumps({"issuers": [{"issuer": "https://x/v2.0"}]}))
    with pytest.raises(ValueError, match=r"issuers\[0\]: needs 'jwks'"):
        load_trusted_issuers(config)
    config.write_text("[]")
    with pytest.raises(ValueError, match="'issuers' array"):
        load_trusted_issuers(config)
