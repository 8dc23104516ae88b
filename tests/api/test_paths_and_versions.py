"""Path spelling, the singleton containers and /v1.0's shape, over HTTP on both databases.

Graph matches path segments case-insensitively (its alerts_v2 page prints
``/security/alerts_V2``) but keys exactly; /v1.0 serves the v1.0 model, where incidents have no
``recommendedActions`` and alerts have no ``manualAlert`` subtype.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from alertgraph.schema import versions
from alertgraph.schema.edm import load_model
from tests.api.conftest import TENANT_A, alert, insert, mint
from tests.api.test_workflow_actions import manual_alert
from tests.api.test_workflow_alerts import incident

PIM = "identityGovernance/roleManagementAlerts"
PIM_KEY = f"DirectoryRole_{TENANT_A}_StaleSignInAlert"
SCOPE = {"scopeId": "/", "scopeType": "DirectoryRole"}


@pytest.fixture
def data(store: Any) -> Any:
    insert(store, "alerts_v2", [alert("Case-Key-1", incidentId="7"), alert("a2")])
    insert(
        store,
        "incidents",
        [
            incident(
                "7",
                recommendedActions="Isolate the device.",
                recommendedHuntingQueries=[{"kqlText": "DeviceEvents | take 1"}],
            )
        ],
    )
    insert(store, "pim_alerts", [{"id": PIM_KEY, "isActive": True, "incidentCount": 0, **SCOPE}])
    return store


# (canonical path, the segments that may be spelled in any case, query)
CANONICAL = [
    ("/beta/security/alerts_v2", ""),
    ("/beta/security/alerts_v2/$count", ""),
    ("/beta/security/alerts_v2/Case-Key-1", ""),
    ("/beta/security/alerts_v2('Case-Key-1')", ""),
    ("/beta/security/incidents/7/alerts", ""),
    ("/beta/security/incidents/7/alerts/$count", ""),
    ("/beta/security/incidents/7/alerts/Case-Key-1", ""),
    ("/v1.0/security/incidents", ""),
    ("/beta/security/alerts_v2/Case-Key-1/comments", ""),
    (f"/beta/{PIM}/alerts", "$filter=scopeId eq '/' and scopeType eq 'DirectoryRole'"),
    ("/beta/security/partner", ""),
    (f"/beta/{PIM}", ""),
]
KEYS = {"Case-Key-1", "'Case-Key-1'", "7"}


def _spell(path: str, flips: list[bool]) -> str:
    """Flip the case of every letter outside keys, as ``flips`` says (cycled)."""
    out: list[str] = []
    index = 0
    for token in re.split(r"(/|\(|\))", path):
        if token in KEYS:
            out.append(token)
            continue
        for char in token:
            flip = flips[index % len(flips)] if flips else False
            index += 1
            out.append(char.swapcase() if flip and char.isalpha() else char)
    return "".join(out)


def test_any_spelling_answers_as_the_canonical_path(client, data, headers) -> None:
    for path, query in CANONICAL:
        canonical = client.get(path, params=query or None, headers=headers)
        assert canonical.status_code == 200, (path, canonical.text)
        upper = _spell(path, [True])
        response = client.get(upper, params=query or None, headers=headers)
        assert response.status_code == 200, (upper, response.text)
        if response.headers["content-type"].startswith("application/json"):
            # context URLs keep Graph's canonical spelling whatever the request's
            assert response.json().get("@odata.context") == canonical.json().get("@odata.context")
            assert response.json().get("value") == canonical.json().get("value")
        else:
            assert response.text == canonical.text


@settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    index=st.integers(0, len(CANONICAL) - 1), flips=st.lists(st.booleans(), min_size=1, max_size=9)
)
def test_case_of_segments_never_matters(client, data, headers, index, flips) -> None:
    path, query = CANONICAL[index]
    spelled = _spell(path, flips)
    response = client.get(spelled, params=query or None, headers=headers)
    assert response.status_code == 200, (spelled, response.text)


def test_graph_docs_alerts_V2_request(client, data, headers) -> None:
    """Verbatim from the alerts_v2 list page: GET /security/alerts_V2?$top=100&$skip=200."""
    response = client.get("/v1.0/security/alerts_V2?$top=100&$skip=200", headers=headers)
    assert response.status_code == 200, response.text
    assert response.json()["value"] == []
    response = client.get("/v1.0/security/alerts_V2?$top=1", headers=headers)
    assert len(response.json()["value"]) == 1


def test_keys_stay_case_sensitive(client, data, headers) -> None:
    assert client.get("/beta/security/alerts_v2/Case-Key-1", headers=headers).status_code == 200
    for other in ("case-key-1", "CASE-KEY-1"):
        response = client.get(f"/beta/security/alerts_v2/{other}", headers=headers)
        assert response.status_code == 404, response.text
        assert other in response.json()["error"]["message"]


def test_metadata_and_actions_in_any_case(client, data, headers) -> None:
    for path in ("/BETA/$METADATA", "/beta/$Metadata"):
        response = client.get(path)  # anonymous, as on Graph
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("application/xml")
    for action in ("REFRESH", "Microsoft.Graph.Refresh", "microsoft.graph.refresh"):
        response = client.post(
            f"/beta/IdentityGovernance/RoleManagementAlerts/Alerts/{PIM_KEY}/{action}",
            headers=headers,
        )
        assert response.status_code == 202, (action, response.text)
    moved = client.post(
        "/beta/Security/Alerts_V2/MICROSOFT.GRAPH.SECURITY.MOVEALERTS", json={}, headers=headers
    )
    # the action is found (its body is then validated), not a 404
    assert moved.status_code == 400, moved.text
    assert moved.json()["error"]["code"] != "NotFound"


def test_unknown_segments_still_404(client, data, headers) -> None:
    for path in (
        "/beta/security/alerts_v3",
        "/BETA/security/partner/x",
        "/v2.0/security/alerts_v2",
    ):
        assert client.get(path, headers=headers).status_code == 404, path


def test_a_tenant_spelled_like_a_version_still_reaches_its_identity_routes(client) -> None:
    """Graph paths skip the router, except the identity routes under a tenant named 'beta'."""
    document = client.get("/beta/v2.0/.well-known/openid-configuration")
    assert document.status_code == 200
    assert document.json()["token_endpoint"].endswith("/beta/oauth2/v2.0/token")
    keys = client.get("/V1.0/discovery/v2.0/keys")
    assert keys.status_code == 200
    assert "keys" in keys.json()
    # and a Graph path right beside them is Graph's: 401 without a token, in Graph's envelope
    graph = client.get("/beta/security/alerts_v2")
    assert graph.status_code == 401
    assert graph.json()["error"]["code"] == "InvalidAuthenticationToken"
    assert graph.headers["request-id"]


# ---- singleton containers --------------------------------------------------------------------


@pytest.mark.parametrize("path", ["security/partner", PIM])
def test_container_answers_its_entity(client, headers, path) -> None:
    response = client.get(f"/beta/{path}", headers=headers)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/json")
    assert response.json() == {
        "@odata.context": f"http://testserver/beta/$metadata#{path}/$entity",
        "id": TENANT_A,
    }
    assert client.get(f"/beta/{path}").status_code == 401
    # beta-only families: v1.0 has neither container
    assert client.get(f"/v1.0/{path}", headers=headers).status_code == 404
    assert client.patch(f"/beta/{path}", json={}, headers=headers).status_code == 405


def test_container_needs_the_permission_of_its_collections(client, app) -> None:
    alerts_only = {
        "Authorization": "Bearer "
        + mint(app, app_id="11111111-0000-4000-8000-000000000001", roles=["SecurityAlert.Read.All"])
    }
    for path in ("security/partner", PIM):
        response = client.get(f"/beta/{path}", headers=alerts_only)
        assert response.status_code == 403, response.text
    partner = {
        "Authorization": "Bearer "
        + mint(
            app, app_id="11111111-0000-4000-8000-000000000001", roles=["PartnerSecurity.Read.All"]
        )
    }
    assert client.get("/beta/security/partner", headers=partner).status_code == 200


# ---- /v1.0 in v1.0's shape --------------------------------------------------------------------


def test_v1_metadata_is_the_v1_schema(client) -> None:
    v1 = client.get("/v1.0/$metadata")
    beta = client.get("/beta/$metadata")
    assert v1.status_code == beta.status_code == 200
    assert v1.content == versions.metadata_xml("v1.0")
    assert b'Name="manualAlert"' in beta.content
    assert b'Name="manualAlert"' not in v1.content
    assert b'Name="recommendedHuntingQueries"' not in v1.content
    assert b"roleManagementAlert" not in v1.content


def test_v1_drops_beta_only_properties(client, data, headers) -> None:
    beta = client.get("/beta/security/incidents/7", headers=headers).json()
    assert beta["recommendedActions"] == "Isolate the device."
    assert beta["recommendedHuntingQueries"] == [{"kqlText": "DeviceEvents | take 1"}]
    v1 = client.get("/v1.0/security/incidents/7", headers=headers).json()
    assert "recommendedActions" not in v1
    assert "recommendedHuntingQueries" not in v1
    assert v1["@odata.context"] == "http://testserver/v1.0/$metadata#security/incidents/$entity"
    # everything else is the same
    trimmed = {k: v for k, v in beta.items() if not k.startswith("recommended")}
    assert {k: v for k, v in v1.items() if k != "@odata.context"} == {
        k: v for k, v in trimmed.items() if k != "@odata.context"
    }
    listed = client.get("/V1.0/security/incidents?$expand=alerts", headers=headers).json()
    assert listed["value"][0]["id"] == "7"
    assert "recommendedActions" not in listed["value"][0]
    assert [a["id"] for a in listed["value"][0]["alerts"]] == ["Case-Key-1"]


@pytest.mark.parametrize(
    "query",
    [
        "$select=id,recommendedActions",
        "$filter=recommendedActions eq 'x'",
        "$orderby=recommendedActions",
        "$filter=recommendedHuntingQueries/any(q: q/kqlText eq 'x')",
    ],
)
def test_v1_refuses_beta_only_properties_in_options(client, data, headers, query) -> None:
    response = client.get(f"/v1.0/security/incidents?{query}", headers=headers)
    assert response.status_code == 400, response.text
    message = response.json()["error"]["message"]
    assert "beta-only" in message
    assert "microsoft.graph.security.incident" in message
    assert client.get(f"/beta/security/incidents?{query}", headers=headers).status_code == 200


def test_v1_accepts_the_name_inside_a_string(client, data, headers) -> None:
    query = "$filter=displayName eq 'recommendedActions'"
    response = client.get(f"/v1.0/security/incidents?{query}", headers=headers)
    assert response.status_code == 200, response.text


def test_v1_has_no_manual_alerts(client, data, headers) -> None:
    refused = client.post("/v1.0/security/alerts_v2", json=manual_alert(), headers=headers)
    assert refused.status_code == 400, refused.text
    assert "/beta/security/alerts_v2" in refused.json()["error"]["message"]
    for method in ("POST", "GET", "PUT", "PATCH", "DELETE"):
        # the segment does not exist on v1.0, whatever the method (a 405 would say it does)
        create = client.request(
            method, "/v1.0/security/alerts_v2/createAlert", json={}, headers=headers
        )
        assert create.status_code == 404, (method, create.text)
        assert "beta action" in create.json()["error"]["message"]
    created = client.post("/beta/security/alerts_v2", json=manual_alert(), headers=headers)
    assert created.status_code == 201, created.text
    key = created.json()["id"]
    beta = client.get(f"/beta/security/alerts_v2/{key}", headers=headers).json()
    v1 = client.get(f"/v1.0/security/alerts_v2/{key}", headers=headers).json()
    # what beta stored from the manual alert reads on v1.0 as a plain alert of v1.0's type
    assert v1["@odata.type"] == "#microsoft.graph.security.alert"
    assert set(v1) - {"@odata.context", "@odata.type"} <= versions.member_names(
        "v1.0", "microsoft.graph.security.alert"
    )
    assert {k: v for k, v in v1.items() if k != "@odata.context"} == {
        k: v for k, v in beta.items() if k != "@odata.context"
    }


def test_v1_enum_members_equal_betas() -> None:
    """The shipped v1.0 model declares the same members for every enum it shares with beta, so
    /v1.0 needs no enum mapping; a regenerated CSDL that changes this fails here."""
    beta = load_model()
    for name in versions.load_v1_model().enums:
        assert versions.v1_enum_members(name) == frozenset(beta.enums[name].members), name
