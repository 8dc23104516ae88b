"""The console's in-process Graph calls refuse what JSON text cannot hold with a 400 (as HTTP)."""

from __future__ import annotations

from typing import Any

import pytest
from tests.factories import TENANT_A, alert, insert

from alertgraph.http.internal import dispatcher
from alertgraph.identity.auth import Authenticator, AuthSettings, default_dev_grants
from alertgraph.settings import Settings


def _nested(levels: int) -> dict[str, Any]:
    value: dict[str, Any] = {}
    for _ in range(levels):
        value = {"a": value}
    return value


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        ({"status": "resolved", "x": _nested(300)}, "nests more than 254 levels deep"),
        ({"status": "resolved", "x": 10**30}, "Integer exceeds 64-bit range"),
    ],
)
def test_a_body_json_cannot_hold_is_a_400_and_changes_nothing(store, body, fragment) -> None:
    insert(store, "alerts_v2", [alert("a1")])
    authenticator = Authenticator(store, AuthSettings())
    scopes, roles = default_dev_grants()
    token = authenticator.mint(
        tenant=TENANT_A, user="dev@contoso.com", scopes=scopes, directory_roles=roles
    )
    principal = authenticator.authenticate(f"Bearer {token}", request_id="t")
    dispatch = dispatcher(store, Settings(database_url=str(store.engine.url)))
    path = "/beta/security/alerts_v2/a1"
    outcome = dispatch(principal, "PATCH", path, body, base_url="http://testserver")
    assert outcome.status == 400, outcome.body
    assert fragment in outcome.body["error"]["message"]
    after = dispatch(principal, "GET", path, None, base_url="http://testserver")
    assert after.body["status"] == "new"
