"""A verified token is remembered until it expires, never longer, and never for another token."""

from __future__ import annotations

import time
from typing import Any

import pytest

from alertgraph.identity import auth, keys
from alertgraph.settings import Settings
from tests.api.conftest import TENANT_A, TENANT_B, mint

ALERTS = "/beta/security/alerts_v2"


@pytest.fixture
def settings(db_url: str) -> Settings:
    return Settings(database_url=db_url, token_leeway_seconds=0)


def test_a_remembered_token_expires_on_time(client: Any, app: Any) -> None:
    token = app.state.authenticator.mint(
        tenant=TENANT_A, app_id="a1", roles=["SecurityAlert.Read.All"], expires_in=2
    )
    headers = {"Authorization": f"Bearer {token}"}
    assert client.get(ALERTS, headers=headers).status_code == 200
    assert client.get(ALERTS, headers=headers).status_code == 200  # from the cache
    exp = auth.jwt.decode(token, options={"verify_signature": False})["exp"]
    time.sleep(max(exp - time.time(), 0) + 0.2)
    expired = client.get(ALERTS, headers=headers)
    assert expired.status_code == 401
    assert "expired" in expired.json()["error"]["message"]


def test_the_cache_is_keyed_by_the_exact_token(client: Any, app: Any) -> None:
    good = mint(app)
    assert client.get(ALERTS, headers={"Authorization": f"Bearer {good}"}).status_code == 200
    head, payload, signature = good.split(".")
    flipped = signature[:-2] + ("AA" if signature[-2:] != "AA" else "BB")
    forged = client.get(ALERTS, headers={"Authorization": f"Bearer {head}.{payload}.{flipped}"})
    assert forged.status_code == 401
    other = mint(app, tenant=TENANT_B)
    body = client.get(ALERTS, headers={"Authorization": f"Bearer {other}"})
    assert body.status_code == 200


def test_a_removed_key_stops_remembered_tokens(client: Any, app: Any, store: Any) -> None:
    token = mint(app)
    headers = {"Authorization": f"Bearer {token}"}
    assert client.get(ALERTS, headers=headers).status_code == 200
    with store.engine.begin() as conn:
        conn.execute(keys.signing_keys_table.delete())
    # the key set is reloaded at most a minute later; force that minute to have passed
    app.state.authenticator._loaded_at = float("-inf")
    app.state.authenticator._missed.clear()
    refused = client.get(ALERTS, headers=headers)
    assert refused.status_code == 401
    assert "unknown key" in refused.json()["error"]["message"]


def test_the_cache_is_bounded(client: Any, app: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(auth, "VERIFIED_TOKENS", 3)
    for number in range(6):
        token = mint(
            app,
            user=f"u{number}@contoso.com",
            scopes=["SecurityAlert.Read.All"],
            directory_roles=["Security Reader"],
        )
        assert client.get(ALERTS, headers={"Authorization": f"Bearer {token}"}).status_code == 200
    assert len(app.state.authenticator._verified) == 3
