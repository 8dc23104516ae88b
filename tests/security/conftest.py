"""Security suite helpers: a token forger and two tenants' data (the app and client are the shared
fixtures of tests/conftest.py).

The forger signs whatever header and payload bytes it is given, so tests can build tokens no
well-behaved library would (duplicate members, odd types), with this server's key or another one.
"""

from __future__ import annotations

import base64
import json
import time
from typing import Any

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from alertgraph.identity import keys
from alertgraph.identity.auth import DEFAULT_ISSUER_BASE, ROLE_TEMPLATE_IDS, default_dev_grants
from alertgraph.store.database import Store
from tests.factories import TENANT_A, alert, bearer, incident, insert

__all__ = ["bearer"]


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def claims_for(tenant: str = TENANT_A, **overrides: Any) -> dict[str, Any]:
    """Delegated claims with every permission and the admin roles; None drops a claim."""
    now = int(time.time())
    scopes, roles = default_dev_grants()
    claims: dict[str, Any] = {
        "aud": "https://graph.microsoft.com",
        "iss": f"{DEFAULT_ISSUER_BASE}/{tenant}/v2.0",
        "iat": now,
        "nbf": now,
        "exp": now + 600,
        "ver": "2.0",
        "tid": tenant,
        "oid": "0f0f0f0f-0000-4000-8000-000000000001",
        "upn": "mallory@contoso.com",
        "azp": "9c1f6a2e-4f3b-4c8e-9a51-6d7e2b0c4a11",
        "scp": " ".join(scopes),
        "wids": roles,
    }
    claims.update(overrides)
    return {name: value for name, value in claims.items() if value is not None}


def app_claims(
    tenant: str = TENANT_A, roles: list[str] | None = None, **overrides: Any
) -> dict[str, Any]:
    """Application (client-credentials) claims: roles, no user."""
    return claims_for(
        tenant, upn=None, scp=None, wids=None, idtyp="app", roles=roles or [], **overrides
    )


def sign(
    store: Store,
    payload: dict[str, Any] | bytes,
    *,
    header: dict[str, Any] | bytes | None = None,
    key: rsa.RSAPrivateKey | None = None,
    kid: str | None = None,
) -> str:
    """An RS256 compact JWS over exactly these bytes (dicts are JSON-encoded).

    Without ``key`` the server's current signing key signs and names itself in ``kid``.
    """
    signing = keys.current_key(store)
    private = key or signing.private_key()
    if header is None:
        header = {"alg": "RS256", "typ": "JWT", "kid": kid or signing.kid}
    head = header if isinstance(header, bytes) else json.dumps(header).encode()
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    signing_input = f"{b64(head)}.{b64(body)}".encode()
    signature = private.sign(signing_input, padding.PKCS1v15(), hashes.SHA256())
    return f"{signing_input.decode()}.{b64(signature)}"


ROLE = ROLE_TEMPLATE_IDS


# ---- data: every entity set, with the same ids in each tenant ---------------------------------

PIM_KEY = "DirectoryRole_shared_StaleSignInAlert"
PIM_SCOPE = {"scopeId": "/", "scopeType": "DirectoryRole"}
PIM_FILTER = "$filter=scopeId eq '/' and scopeType eq 'DirectoryRole'"


def incident_record(incident_id: str, tag: str, **overrides: Any) -> dict[str, Any]:
    return incident(
        incident_id, displayName=f"{tag} incident {incident_id}", customTags=[tag], **overrides
    )


def partner_record(alert_id: str, tag: str) -> dict[str, Any]:
    return {
        "id": alert_id,
        "alertType": "usageAnomalyDetection",
        "confidenceLevel": "high",
        "customerTenantId": "c1",
        "detectedDateTime": "2024-05-01T00:00:00Z",
        "displayName": f"{tag} partner alert",
        "severity": "high",
        "status": "active",
        "subscriptionId": "s1",
        "isTest": False,
        "activityLogs": [],
    }


def seed_tenant(store: Store, tenant: str, tag: str, *, own: str) -> None:
    """Shared ids (alerts a1, a2 in incident 100; incident 100; partner p1; the PIM alert
    PIM_KEY with incidents i-1, i-2) plus ids only this tenant has (alert ``own``-alert in
    incident ``own``-incident, which is a number)."""
    insert(
        store,
        "incidents",
        [incident_record("100", tag), incident_record(own, tag)],
        tenant=tenant,
    )
    insert(
        store,
        "alerts_v2",
        [
            alert("a1", incidentId="100", title=f"{tag} a1"),
            alert("a2", incidentId="100", title=f"{tag} a2"),
            alert(f"{tag}-only", incidentId=own, title=f"{tag} only"),
        ],
        tenant=tenant,
    )
    insert(
        store,
        "partner_alerts",
        [partner_record("p1", tag), partner_record(f"{tag}-p", tag)],
        tenant=tenant,
    )
    insert(
        store,
        "pim_definitions",
        [{"id": PIM_KEY, "displayName": f"{tag} def", **PIM_SCOPE, "isRemediatable": True}],
        tenant=tenant,
    )
    insert(
        store,
        "pim_configurations",
        [
            {
                "@odata.type": "#microsoft.graph.staleSignInAlertConfiguration",
                "id": PIM_KEY,
                "alertDefinitionId": PIM_KEY,
                "isEnabled": True,
                "duration": "P30D",
                **PIM_SCOPE,
            }
        ],
        tenant=tenant,
    )
    own_pim = f"DirectoryRole_{tag}_StaleSignInAlert"
    insert(
        store,
        "pim_alerts",
        [
            {
                "id": key,
                "alertDefinitionId": PIM_KEY,
                "isActive": True,
                "incidentCount": 2,
                **PIM_SCOPE,
                "lastModifiedDateTime": "2024-05-01T00:00:00Z",
                "lastScannedDateTime": "2024-05-01T00:00:00Z",
            }
            for key in (PIM_KEY, own_pim)
        ],
        tenant=tenant,
    )
    for key in (PIM_KEY, own_pim):
        insert(
            store,
            "pim_incidents",
            [
                {"@odata.type": "#microsoft.graph.staleSignInAlertIncident", "id": name}
                for name in ("i-1", "i-2", f"{tag}-i")
            ],
            tenant=tenant,
            parent=key,
        )
