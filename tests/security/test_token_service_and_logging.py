"""The client-credentials flow end to end through the real app, and the security log.

A connector that registered with some application permissions gets exactly those, in exactly its
tenant. Every security decision (token refused, operation allowed or denied, token issued or
refused) is logged with the request id the response carries, and no credential is ever logged.
"""

from __future__ import annotations

import base64
import json
import logging
from typing import Any

import jwt
import pytest

from alertgraph.identity.auth import add_app
from tests.factories import TENANT_A, TENANT_B, mint
from tests.security.conftest import bearer, claims_for, seed_tenant, sign

GRAPH = "https://graph.microsoft.com/.default"
ALERTS = "/beta/security/alerts_v2"
INCIDENTS = "/beta/security/incidents"


@pytest.fixture
def two(store):
    seed_tenant(store, TENANT_A, "A", own="555")
    seed_tenant(store, TENANT_B, "B", own="777")
    return store


@pytest.fixture
def connector(two) -> tuple[str, str]:
    return add_app(two, tenant=TENANT_A, roles=["SecurityAlert.Read.All"], name="siem")


def token_request(client, tenant: str, **form: str):
    return client.post(f"/{tenant}/oauth2/v2.0/token", data=form)


def get_token(client, tenant: str, client_id: str, secret: str) -> Any:
    return token_request(
        client,
        tenant,
        grant_type="client_credentials",
        client_id=client_id,
        client_secret=secret,
        scope=GRAPH,
    )


def test_connector_gets_exactly_its_permissions_in_its_tenant(client, connector) -> None:
    client_id, secret = connector
    response = get_token(client, TENANT_A, client_id, secret)
    assert response.status_code == 200, response.text
    token = response.json()["access_token"]
    claims = jwt.decode(token, options={"verify_signature": False})
    assert claims["tid"] == TENANT_A
    assert claims["iss"] == f"http://testserver/{TENANT_A}/v2.0"
    assert claims["roles"] == ["SecurityAlert.Read.All"]
    assert "scp" not in claims
    assert "wids" not in claims
    listed = client.get(ALERTS, headers=bearer(token)).json()["value"]
    assert sorted(a["title"] for a in listed) == ["A a1", "A a2", "A only"]
    assert client.get(f"{ALERTS}/B-only", headers=bearer(token)).status_code == 404
    # nothing beyond the registered permission
    assert client.get(INCIDENTS, headers=bearer(token)).status_code == 403
    patch = client.patch(f"{ALERTS}/a1", json={"status": "resolved"}, headers=bearer(token))
    assert patch.status_code == 403
    assert (
        client.get("/beta/security/partner/securityAlerts", headers=bearer(token)).status_code
        == 403
    )


def test_client_of_tenant_a_at_tenant_bs_token_url(client, connector) -> None:
    client_id, secret = connector
    theirs = get_token(client, TENANT_B, client_id, secret)
    unknown = get_token(client, TENANT_B, "00000000-0000-4000-8000-000000000000", secret)
    for response in (theirs, unknown):
        assert response.status_code == 400, response.text
        assert response.json()["error"] == "unauthorized_client"
        assert "access_token" not in response.json()
        assert secret not in response.text
    # the same answer whether the app exists elsewhere or not at all
    assert theirs.json()["error_codes"] == unknown.json()["error_codes"]
    # HTTP Basic authentication: the same
    basic = base64.b64encode(f"{client_id}:{secret}".encode()).decode()
    response = client.post(
        f"/{TENANT_B}/oauth2/v2.0/token",
        data={"grant_type": "client_credentials", "scope": GRAPH},
        headers={"Authorization": f"Basic {basic}"},
    )
    assert response.json()["error"] == "unauthorized_client"


def test_secret_of_one_app_does_not_open_another(client, two, connector) -> None:
    _, secret = connector
    other_id, _ = add_app(two, tenant=TENANT_A, roles=["SecurityIncident.ReadWrite.All"])
    response = get_token(client, TENANT_A, other_id, secret)
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"


def test_app_token_of_a_tenant_can_not_be_relabelled(client, two, connector) -> None:
    """Changing tid (or iss) in an issued token breaks its signature."""
    client_id, secret = connector
    token = get_token(client, TENANT_A, client_id, secret).json()["access_token"]
    head, _payload, signature = token.split(".")
    claims = jwt.decode(token, options={"verify_signature": False})
    claims["tid"] = TENANT_B
    claims["iss"] = claims["iss"].replace(TENANT_A, TENANT_B)
    forged_payload = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    forged = f"{head}.{forged_payload}.{signature}"
    assert client.get(ALERTS, headers=bearer(forged)).status_code == 401


# ---- the log ---------------------------------------------------------------------------------


@pytest.fixture
def security_log(caplog) -> Any:
    caplog.set_level(logging.DEBUG, logger="alertgraph")
    return caplog


def _records(caplog, request_id: str) -> list[str]:
    return [r.getMessage() for r in caplog.records if request_id in r.getMessage()]


def _assert_no_credential(caplog, *secrets: str) -> None:
    text = "\n".join(r.getMessage() for r in caplog.records)
    for secret in secrets:
        for part in secret.split("."):
            if len(part) > 8:
                assert part not in text, "a credential reached the log"


def test_refused_tokens_are_logged_with_the_request_id(client, two, security_log) -> None:
    cases = [
        sign(two, claims_for(aud="https://management.azure.com")),
        sign(two, claims_for(), header={"alg": "none", "kid": "x"}),
        "garbage.token.here",
        sign(two, claims_for(exp=1)),
    ]
    for token in cases:
        response = client.get(ALERTS, headers=bearer(token))
        assert response.status_code == 401
        messages = _records(security_log, response.headers["request-id"])
        assert any("authentication failed" in m for m in messages), messages
        _assert_no_credential(security_log, token)
    response = client.get(ALERTS)
    assert _records(security_log, response.headers["request-id"])


def test_two_authorization_headers_are_logged(client, two, security_log) -> None:
    token = sign(two, claims_for())
    response = client.get(
        ALERTS, headers=[("Authorization", f"Bearer {token}"), ("Authorization", "Bearer x")]
    )
    assert response.status_code == 401
    assert _records(security_log, response.headers["request-id"])
    _assert_no_credential(security_log, token)


def test_allowed_and_denied_operations_are_logged(app, client, two, security_log) -> None:
    reader = mint(app, TENANT_A, roles=["SecurityAlert.Read.All"])
    allowed = client.get(ALERTS, headers=bearer(reader))
    assert allowed.status_code == 200
    messages = _records(security_log, allowed.headers["request-id"])
    decision = [m for m in messages if m.startswith("authorization allowed")]
    assert decision, messages
    assert f"tenant={TENANT_A}" in decision[0]
    assert "operation=read" in decision[0]
    assert "needs=SecurityAlert.Read.All|SecurityAlert.ReadWrite.All" in decision[0]
    assert any(m.startswith("authenticated ") for m in messages)

    denied = client.patch(f"{ALERTS}/a1", json={"status": "new"}, headers=bearer(reader))
    assert denied.status_code == 403
    messages = _records(security_log, denied.headers["request-id"])
    assert any(m.startswith("authorization denied") and "operation=write" in m for m in messages)

    action = client.post(
        f"{INCIDENTS}/mergeIncidents", json={"incidentIds": ["100", "555"]}, headers=bearer(reader)
    )
    assert action.status_code == 403
    messages = _records(security_log, action.headers["request-id"])
    assert any("denied" in m and "operation=mergeIncidents" in m for m in messages)
    _assert_no_credential(security_log, reader)


def test_token_service_decisions_are_logged_without_the_secret(
    client, connector, security_log
) -> None:
    client_id, secret = connector
    issued = get_token(client, TENANT_A, client_id, secret)
    assert issued.status_code == 200
    request_id = issued.headers["x-ms-request-id"]
    messages = _records(security_log, request_id)
    assert any("issued" in m and TENANT_A in m and client_id in m for m in messages), messages
    # Entra's answers: a wrong secret is invalid_client (401); an app of another directory is
    # unauthorized_client (400)
    for response, status, error in (
        (get_token(client, TENANT_A, client_id, secret + "x"), 401, "invalid_client"),
        (get_token(client, TENANT_B, client_id, secret), 400, "unauthorized_client"),
    ):
        assert response.status_code == status, response.text
        assert response.json()["error"] == error
        trace = response.json()["trace_id"]
        assert response.headers["x-ms-request-id"] == trace
        assert any("refused" in m for m in _records(security_log, trace))
    _assert_no_credential(security_log, secret, issued.json()["access_token"])


def test_oversized_token_requests_are_refused_without_reading_them(client, connector) -> None:
    client_id, secret = connector
    padding = "x" * 70_000
    response = client.post(
        f"/{TENANT_A}/oauth2/v2.0/token",
        content=f"grant_type=client_credentials&client_id={client_id}&client_secret={secret}"
        f"&scope={GRAPH}&pad={padding}",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert response.status_code == 400
    assert "too large" in response.json()["error_description"]

    def chunks():
        for _ in range(100):
            yield b"a" * 10_000

    streamed = client.post(
        f"/{TENANT_A}/oauth2/v2.0/token",
        content=chunks(),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert streamed.status_code == 400
