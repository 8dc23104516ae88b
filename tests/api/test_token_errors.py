"""The token endpoint as connectors meet it: a form without Content-Type, Entra-shaped errors.

Each refusal carries Entra's AADSTS code in ``error_codes`` and at the head of
``error_description``, followed by the Trace ID / Correlation ID / Timestamp lines that XSOAR and
MSAL parse out of it.
"""

from __future__ import annotations

import base64
import re
from typing import Any
from urllib.parse import urlencode

import pytest

from alertgraph.identity.auth import add_app
from tests.api.conftest import TENANT_A

GRAPH = "https://graph.microsoft.com/.default"
TOKEN_URL = f"/{TENANT_A}/oauth2/v2.0/token"
DESCRIPTION = re.compile(
    r"^AADSTS(?P<code>\d+): (?P<text>.+)\r\nTrace ID: (?P<trace>[0-9a-f-]{36})"
    r"\r\nCorrelation ID: (?P<corr>[^\r\n]+)"
    r"\r\nTimestamp: (?P<ts>\d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ)$",
    re.S,
)


@pytest.fixture
def registered(store: Any) -> tuple[str, str]:
    return add_app(store, tenant=TENANT_A, roles=["SecurityAlert.Read.All"], name="connector")


def _form(registered: tuple[str, str], **change: str) -> dict[str, str]:
    client_id, secret = registered
    form = {
        "grant_type": "client_credentials",
        "client_id": client_id,
        "client_secret": secret,
        "scope": GRAPH,
    }
    form.update(change)
    return {name: value for name, value in form.items() if value is not None}


def _entra_error(response: Any, status: int, error: str, code: int) -> str:
    """Check the whole Entra error shape; return the text after the code."""
    assert response.status_code == status, response.text
    body = response.json()
    assert body["error"] == error
    assert body["error_codes"] == [code]
    match = DESCRIPTION.match(body["error_description"])
    assert match is not None, body["error_description"]
    assert int(match["code"]) == code
    assert match["trace"] == body["trace_id"] == response.headers["x-ms-request-id"]
    assert match["corr"] == body["correlation_id"]
    assert match["ts"] == body["timestamp"]
    assert body["error_uri"] == f"https://login.microsoftonline.com/error?code={code}"
    assert "access_token" not in body
    return match["text"]


def test_form_without_content_type_is_read_as_a_form(client, registered) -> None:
    """msticpy posts the encoded form with no Content-Type header; Entra accepts that."""
    body = urlencode(_form(registered)).encode()
    response = client.post(TOKEN_URL, content=body)
    # raw bytes go without a Content-Type: make sure none was sent
    assert "content-type" not in {name.lower() for name in response.request.headers}
    assert response.status_code == 200, response.text
    token = response.json()["access_token"]
    alerts = client.get("/beta/security/alerts_v2", headers={"Authorization": f"Bearer {token}"})
    assert alerts.status_code == 200


@pytest.mark.parametrize("content_type", ["application/json", "text/plain", "multipart/form-data"])
def test_explicit_non_form_content_type_is_refused(client, registered, content_type) -> None:
    body = urlencode(_form(registered)).encode()
    response = client.post(TOKEN_URL, content=body, headers={"Content-Type": content_type})
    text = _entra_error(response, 400, "invalid_request", 900144)
    assert "'grant_type'" in text
    assert content_type in text
    assert "application/x-www-form-urlencoded" in text


@pytest.mark.parametrize(
    ("change", "status", "error", "code", "says"),
    [
        ({"client_secret": "wrong"}, 401, "invalid_client", 7000215, "Invalid client secret"),
        ({"client_secret": None}, 401, "invalid_client", 7000216, "'client_secret'"),
        ({"client_secret": ""}, 401, "invalid_client", 7000216, "'client_secret'"),
        (
            {"client_id": "00000000-0000-4000-8000-000000000000"},
            400,
            "unauthorized_client",
            700016,
            "Application with identifier '00000000-0000-4000-8000-000000000000' was not found",
        ),
        ({"client_id": None}, 400, "invalid_request", 900144, "parameter: 'client_id'"),
        ({"grant_type": None}, 400, "invalid_request", 900144, "parameter: 'grant_type'"),
        (
            {"grant_type": "password"},
            400,
            "unsupported_grant_type",
            70003,
            "The access grant 'password' is not supported",
        ),
        ({"scope": None}, 400, "invalid_request", 900144, "parameter: 'scope'"),
        (
            {"scope": "SecurityAlert.Read.All"},
            400,
            "invalid_scope",
            1002012,
            "scope SecurityAlert.Read.All is not valid",
        ),
    ],
)
def test_each_refusal_has_entras_code(client, registered, change, status, error, code, says):
    response = client.post(TOKEN_URL, data=_form(registered, **change))
    text = _entra_error(response, status, error, code)
    assert says in text
    assert registered[1] not in response.text  # the secret is never echoed


def test_unknown_tenant_and_tenant_alias(client, registered) -> None:
    bad = client.post("/not%20a%20tenant/oauth2/v2.0/token", data=_form(registered))
    assert "Tenant 'not a tenant' not found" in _entra_error(bad, 400, "invalid_request", 90002)
    alias = client.post("/common/oauth2/v2.0/token", data=_form(registered))
    assert "'common'" in _entra_error(alias, 400, "invalid_request", 50059)
    # discovery keeps Entra's invalid_tenant for the same mistake
    discovery = client.get("/not%20a%20tenant/v2.0/.well-known/openid-configuration")
    _entra_error(discovery, 400, "invalid_tenant", 90002)


def test_repeated_parameter_and_bad_basic(client, registered) -> None:
    body = urlencode(_form(registered)) + "&scope=x"
    repeated = client.post(
        TOKEN_URL, content=body, headers={"Content-Type": "application/x-www-form-urlencoded"}
    )
    assert "'scope' is repeated" in _entra_error(repeated, 400, "invalid_request", 90100)
    basic = base64.b64encode(b"no-colon").decode()
    response = client.post(
        TOKEN_URL,
        data={"grant_type": "client_credentials", "scope": GRAPH},
        headers={"Authorization": f"Basic {basic}"},
    )
    assert "no ':'" in _entra_error(response, 401, "invalid_client", 7000216)


def test_correlation_id_echoes_client_request_id(client, registered) -> None:
    response = client.post(
        TOKEN_URL,
        data=_form(registered, client_secret="wrong"),
        headers={"client-request-id": "11111111-2222-4333-8444-555555555555"},
    )
    _entra_error(response, 401, "invalid_client", 7000215)
    assert response.json()["correlation_id"] == "11111111-2222-4333-8444-555555555555"
