"""Graph's permission rules per endpoint, over HTTP: who gets a 403, what it says, and what order
401, 403 and 404 come in."""

from __future__ import annotations

from typing import Any

import pytest

from alertgraph.identity.auth import ROLE_TEMPLATE_IDS
from tests.factories import TENANT_A, mint
from tests.security.conftest import PIM_FILTER, PIM_KEY, bearer, claims_for, seed_tenant, sign

ALERTS = "/beta/security/alerts_v2"
INCIDENTS = "/beta/security/incidents"
PARTNER = "/beta/security/partner/securityAlerts"
PIM = "/beta/identityGovernance/roleManagementAlerts"

MANUAL = {
    "title": "Reported by the help desk",
    "description": "An MFA prompt the user did not start.",
    "category": "InitialAccess",
    "severity": "high",
    "entityDefinitions": [
        {
            "entityType": "user",
            "entityIdentifier": "userPrincipalName",
            "identifierValue": "alice@contoso.com",
            "role": "impacted",
        }
    ],
}

#: (name, method, path, body) for every served operation
OPERATIONS: list[tuple[str, str, str, Any]] = [
    ("list alerts", "GET", ALERTS, None),
    ("get alert", "GET", f"{ALERTS}/a1", None),
    ("count alerts", "GET", f"{ALERTS}/$count", None),
    ("patch alert", "PATCH", f"{ALERTS}/a1", {"status": "inProgress"}),
    ("comment alert", "POST", f"{ALERTS}/a1/comments", {"comment": "x"}),
    ("list alert comments", "GET", f"{ALERTS}/a1/comments", None),
    ("count alert comments", "GET", f"{ALERTS}/a1/comments/$count", None),
    ("list incident comments", "GET", f"{INCIDENTS}/100/comments", None),
    (
        "create alert",
        "POST",
        ALERTS,
        {"@odata.type": "#microsoft.graph.security.manualAlert", **MANUAL},
    ),
    ("createAlert", "POST", f"{ALERTS}/createAlert", {"createAlertInput": MANUAL}),
    ("moveAlerts", "POST", f"{ALERTS}/moveAlerts", {"alertIds": ["a1"], "incidentId": "100"}),
    ("list incidents", "GET", INCIDENTS, None),
    ("get incident", "GET", f"{INCIDENTS}/100", None),
    ("incident alerts", "GET", f"{INCIDENTS}/100/alerts", None),
    ("expand alerts", "GET", f"{INCIDENTS}/100?$expand=alerts", None),
    ("patch incident", "PATCH", f"{INCIDENTS}/100", {"status": "active"}),
    ("comment incident", "POST", f"{INCIDENTS}/100/comments", {"comment": "x"}),
    ("mergeIncidents", "POST", f"{INCIDENTS}/mergeIncidents", {"incidentIds": ["100", "A-inc"]}),
    ("list partner", "GET", PARTNER, None),
    ("get partner", "GET", f"{PARTNER}/p1", None),
    ("patch partner", "PATCH", f"{PARTNER}/p1", {"status": "investigating"}),
    ("list pim alerts", "GET", f"{PIM}/alerts?{PIM_FILTER}", None),
    ("get pim alert", "GET", f"{PIM}/alerts/{PIM_KEY}", None),
    ("pim incidents", "GET", f"{PIM}/alerts/{PIM_KEY}/alertIncidents", None),
    ("pim definition nav", "GET", f"{PIM}/alerts/{PIM_KEY}/alertDefinition", None),
    ("list pim definitions", "GET", f"{PIM}/alertDefinitions?{PIM_FILTER}", None),
    ("list pim configurations", "GET", f"{PIM}/alertConfigurations?{PIM_FILTER}", None),
    ("dismiss pim alert", "PATCH", f"{PIM}/alerts/{PIM_KEY}", {"isActive": False}),
    (
        "refresh all",
        "POST",
        f"{PIM}/alerts/refresh",
        {"scopeId": "/", "scopeType": "DirectoryRole"},
    ),
    ("refresh one", "POST", f"{PIM}/alerts/{PIM_KEY}/refresh", None),
    ("remediate", "POST", f"{PIM}/alerts/{PIM_KEY}/alertIncidents/i-1/remediate", None),
    (
        "patch pim configuration",
        "PATCH",
        f"{PIM}/alertConfigurations/{PIM_KEY}",
        {"@odata.type": "#microsoft.graph.staleSignInAlertConfiguration", "isEnabled": False},
    ),
]

#: which permissions (least privileged first) each operation accepts, and its directory roles
READ_ROLES = ["Security Reader", "Global Reader", "Security Operator", "Security Administrator"]
WRITE_ROLES = ["Security Operator", "Security Administrator"]
PIM_READ = [
    "Global Reader",
    "Security Reader",
    "Security Operator",
    "Security Administrator",
    "Privileged Role Administrator",
]
NEEDS: dict[str, tuple[list[str], list[str]]] = {
    "list alerts": (["SecurityAlert.Read.All", "SecurityAlert.ReadWrite.All"], READ_ROLES),
    "get alert": (["SecurityAlert.Read.All", "SecurityAlert.ReadWrite.All"], READ_ROLES),
    "count alerts": (["SecurityAlert.Read.All", "SecurityAlert.ReadWrite.All"], READ_ROLES),
    "patch alert": (["SecurityAlert.ReadWrite.All"], WRITE_ROLES),
    "comment alert": (["SecurityAlert.ReadWrite.All"], WRITE_ROLES),
    "list alert comments": (["SecurityAlert.Read.All", "SecurityAlert.ReadWrite.All"], READ_ROLES),
    "count alert comments": (["SecurityAlert.Read.All", "SecurityAlert.ReadWrite.All"], READ_ROLES),
    "list incident comments": (
        ["SecurityIncident.Read.All", "SecurityIncident.ReadWrite.All"],
        READ_ROLES,
    ),
    "create alert": (["SecurityAlert.ReadWrite.All"], WRITE_ROLES),
    "createAlert": (["SecurityAlert.Create.All", "SecurityAlert.ReadWrite.All"], WRITE_ROLES),
    "moveAlerts": (["SecurityData.Manage.All", "SecurityAlert.ReadWrite.All"], WRITE_ROLES),
    "list incidents": (["SecurityIncident.Read.All", "SecurityIncident.ReadWrite.All"], READ_ROLES),
    "get incident": (["SecurityIncident.Read.All", "SecurityIncident.ReadWrite.All"], READ_ROLES),
    "incident alerts": (
        ["SecurityIncident.Read.All", "SecurityIncident.ReadWrite.All"],
        READ_ROLES,
    ),
    "expand alerts": (["SecurityIncident.Read.All", "SecurityIncident.ReadWrite.All"], READ_ROLES),
    "patch incident": (["SecurityIncident.ReadWrite.All"], WRITE_ROLES),
    "comment incident": (["SecurityIncident.ReadWrite.All"], WRITE_ROLES),
    "mergeIncidents": (["SecurityData.Manage.All"], WRITE_ROLES),
    "list partner": (["PartnerSecurity.Read.All", "PartnerSecurity.ReadWrite.All"], []),
    "get partner": (["PartnerSecurity.Read.All", "PartnerSecurity.ReadWrite.All"], []),
    "patch partner": (["PartnerSecurity.ReadWrite.All"], []),
}
for _name in (
    "list pim alerts",
    "get pim alert",
    "pim incidents",
    "pim definition nav",
    "list pim definitions",
    "list pim configurations",
):
    NEEDS[_name] = (
        ["RoleManagementAlert.Read.Directory", "RoleManagementAlert.ReadWrite.Directory"],
        PIM_READ,
    )
for _name in (
    "dismiss pim alert",
    "refresh all",
    "refresh one",
    "remediate",
    "patch pim configuration",
):
    NEEDS[_name] = (["RoleManagementAlert.ReadWrite.Directory"], ["Privileged Role Administrator"])

#: the answer to an allowed call of each operation on the seeded data
ALLOWED: dict[str, int] = {name: 200 for name, *_ in OPERATIONS} | {
    "create alert": 201,
    "createAlert": 201,
    "dismiss pim alert": 204,
    "patch pim configuration": 204,
    "refresh all": 202,
    "refresh one": 202,
}
#: operations that use up their target: a repeated allowed call finds it merged away (400) or
#: already remediated (404)
AGAIN: dict[str, int] = {"mergeIncidents": 400, "remediate": 404}

ALL_PERMISSIONS = sorted({p for permissions, _ in NEEDS.values() for p in permissions})
ALL_ROLES = sorted(ROLE_TEMPLATE_IDS)


@pytest.fixture
def seeded(store):
    seed_tenant(store, TENANT_A, "A", own="555")
    return store


def call(client, token: str, operation: tuple[str, str, str, Any]):
    _, method, path, body = operation
    path = path.replace("A-inc", "555")
    kwargs: dict[str, Any] = {"headers": bearer(token)}
    if body is not None:
        kwargs["json"] = _fix(body)
    return client.request(method, path, **kwargs)


def assert_allowed(
    client, token: str, operation: tuple[str, str, str, Any], *, again: bool = False
) -> None:
    """The call passes the permission check and gets the operation's own answer."""
    name = operation[0]
    response = call(client, token, operation)
    expected = AGAIN.get(name, ALLOWED[name]) if again else ALLOWED[name]
    assert response.status_code == expected, (name, response.status_code, response.text)


def _fix(body: Any) -> Any:
    if isinstance(body, dict) and body.get("incidentIds") == ["100", "A-inc"]:
        return {"incidentIds": ["100", "555"]}
    return body


def delegated(app, scopes: list[str], roles: list[str]) -> str:
    return mint(app, user="user@contoso.com", scopes=scopes, directory_roles=roles)


def application(app, roles: list[str], wids: list[str] = ()) -> str:
    return mint(app, roles=roles, directory_roles=list(wids))


def test_operation_table_covers_every_operation() -> None:
    assert {name for name, *_ in OPERATIONS} == set(NEEDS)


@pytest.mark.parametrize("operation", OPERATIONS, ids=[op[0] for op in OPERATIONS])
def test_each_listed_permission_is_enough_and_nothing_else_is(app, client, seeded, operation):
    name = operation[0]
    permissions, roles = NEEDS[name]
    for index, permission in enumerate(permissions):
        assert_allowed(client, application(app, [permission]), operation, again=index > 0)
        role = roles[-1] if roles else "Security Reader"
        assert_allowed(client, delegated(app, [permission], [role]), operation, again=True)
    others = [p for p in ALL_PERMISSIONS if p not in permissions]
    token = application(app, others)
    response = call(client, token, operation)
    assert response.status_code == 403, (name, response.text)
    message = response.json()["error"]["message"]
    assert "Missing application roles" in message
    assert f"requires one of the application permissions {', '.join(permissions)}" in message
    assert "the token's roles claim has " in message
    assert token not in response.text
    for part in token.split("."):
        assert part not in message
    code = "Authorization_RequestDenied" if "/identityGovernance/" in operation[2] else "Forbidden"
    assert response.json()["error"]["code"] == code


@pytest.mark.parametrize("operation", OPERATIONS, ids=[op[0] for op in OPERATIONS])
def test_delegated_needs_a_named_directory_role(app, client, seeded, operation):
    name = operation[0]
    permissions, roles = NEEDS[name]
    if not roles:  # partner alerts name no role: the permission alone is enough
        assert_allowed(client, delegated(app, permissions, []), operation)
        return
    wrong = [role for role in ALL_ROLES if role not in roles and role != "Global Administrator"]
    token = delegated(app, permissions, wrong)
    response = call(client, token, operation)
    assert response.status_code == 403, (name, response.text)
    message = response.json()["error"]["message"]
    assert "directory roles" in message
    for role in roles:
        assert role in message
    assert "the token's wids claim has " in message
    # Global Administrator holds every permission of the named roles
    assert_allowed(client, delegated(app, permissions, ["Global Administrator"]), operation)


@pytest.mark.parametrize("operation", OPERATIONS, ids=[op[0] for op in OPERATIONS])
def test_application_tokens_ignore_wids(app, client, seeded, operation):
    permissions, _ = NEEDS[operation[0]]
    # every role, no permission: still forbidden
    token = application(app, [], wids=["Global Administrator", *ALL_ROLES])
    assert call(client, token, operation).status_code == 403
    # the permission, no role: allowed
    assert_allowed(client, application(app, [permissions[0]]), operation)


def test_delegated_tokens_ignore_roles_claim(app, client, seeded) -> None:
    """A user token's 'roles' (app roles assigned to the user) are not Graph permissions."""
    token = mint(
        app,
        user="user@contoso.com",
        scopes=["User.Read"],
        roles=["SecurityAlert.ReadWrite.All"],
        directory_roles=["Security Administrator"],
    )
    response = client.get(ALERTS, headers=bearer(token))
    assert response.status_code == 403
    assert "Missing scope permissions" in response.json()["error"]["message"]


def test_create_permission_creates_but_cannot_read_or_change(app, client, seeded) -> None:
    for token in (
        application(app, ["SecurityAlert.Create.All"]),
        delegated(app, ["SecurityAlert.Create.All"], ["Security Operator"]),
    ):
        created = client.post(
            f"{ALERTS}/createAlert", json={"createAlertInput": MANUAL}, headers=bearer(token)
        )
        assert created.status_code == 201, created.text
        new_id = created.json()["id"]
        assert client.get(f"{ALERTS}/{new_id}", headers=bearer(token)).status_code == 403
        assert client.get(ALERTS, headers=bearer(token)).status_code == 403
        patch = client.patch(
            f"{ALERTS}/{new_id}", json={"status": "resolved"}, headers=bearer(token)
        )
        assert patch.status_code == 403
        assert client.get(INCIDENTS, headers=bearer(token)).status_code == 403


def test_pim_write_needs_privileged_role_administrator(app, client, seeded) -> None:
    token = delegated(
        app,
        ["RoleManagementAlert.ReadWrite.Directory"],
        ["Security Administrator", "Security Operator", "Global Reader"],
    )
    assert client.get(f"{PIM}/alerts/{PIM_KEY}", headers=bearer(token)).status_code == 200
    response = client.patch(
        f"{PIM}/alerts/{PIM_KEY}", json={"isActive": False}, headers=bearer(token)
    )
    assert response.status_code == 403
    error = response.json()["error"]
    assert error["code"] == "Authorization_RequestDenied"
    assert error["message"].startswith("Insufficient privileges to complete the operation.")
    assert "Privileged Role Administrator" in error["message"]
    admin = delegated(
        app, ["RoleManagementAlert.ReadWrite.Directory"], ["Privileged Role Administrator"]
    )
    assert (
        client.patch(
            f"{PIM}/alerts/{PIM_KEY}", json={"isActive": False}, headers=bearer(admin)
        ).status_code
        == 204
    )


def test_incident_write_permission_does_not_move_or_merge(app, client, seeded) -> None:
    token = application(app, ["SecurityIncident.ReadWrite.All", "SecurityAlert.Read.All"])
    move = client.post(
        f"{ALERTS}/moveAlerts",
        json={"alertIds": ["a1"], "incidentId": "555"},
        headers=bearer(token),
    )
    assert move.status_code == 403
    merge = client.post(
        f"{INCIDENTS}/mergeIncidents", json={"incidentIds": ["100", "555"]}, headers=bearer(token)
    )
    assert merge.status_code == 403
    assert "SecurityData.Manage.All" in merge.json()["error"]["message"]
    # the alert write permission may move, but not merge
    writer = application(app, ["SecurityAlert.ReadWrite.All"])
    assert (
        client.post(
            f"{INCIDENTS}/mergeIncidents",
            json={"incidentIds": ["100", "555"]},
            headers=bearer(writer),
        ).status_code
        == 403
    )


@pytest.mark.parametrize(
    "scp",
    [
        "securityalert.read.all",
        "SECURITYALERT.READ.ALL",
        "SecurityAlert.Read.All,SecurityIncident.Read.All",
        "SecurityAlert.Read.All;SecurityIncident.Read.All",
        "SecurityAlert.Read.All+SecurityIncident.Read.All",
        "SecurityAlert.*",
        "*",
        "SecurityAlert.Read.All.",
        "https://graph.microsoft.com/SecurityAlert.Read.All",
        "https://graph.microsoft.com/.default",
    ],
)
def test_permission_names_are_exact(client, seeded, scp: str) -> None:
    """RFC 6749 3.3: scope values are case-sensitive, space-delimited strings; Entra writes
    Graph's names exactly as published, so any other spelling grants nothing."""
    token = sign(seeded, claims_for(scp=scp))
    response = client.get(ALERTS, headers=bearer(token))
    assert response.status_code == 403, response.text
    message = response.json()["error"]["message"]
    assert "SecurityAlert.Read.All, SecurityAlert.ReadWrite.All" in message


@pytest.mark.parametrize(
    "roles",
    [
        ["securityalert.read.all"],
        ["SecurityAlert.Read.All SecurityIncident.Read.All"],
        [" SecurityAlert.Read.All"],
        ["*"],
    ],
)
def test_application_role_names_are_exact(client, seeded, roles) -> None:
    token = sign(seeded, claims_for(scp=None, upn=None, wids=None, roles=roles))
    assert client.get(ALERTS, headers=bearer(token)).status_code == 403


def test_extra_spaces_between_scopes_are_harmless(client, seeded) -> None:
    token = sign(seeded, claims_for(scp="  User.Read   SecurityAlert.Read.All  "))
    assert client.get(ALERTS, headers=bearer(token)).status_code == 200


@pytest.mark.parametrize(
    "wids",
    [
        ["00000000-0000-0000-0000-000000000000"],
        ["Security Administrator"],  # a name, not a template id
        [ROLE_TEMPLATE_IDS["Security Administrator"].upper()],
        ["62e90394-69f5-4237-9190-012177145e10 "],
        [],
    ],
)
def test_unknown_wids_grant_nothing(client, seeded, wids) -> None:
    token = sign(seeded, claims_for(scp="SecurityAlert.Read.All", wids=wids))
    response = client.get(ALERTS, headers=bearer(token))
    assert response.status_code == 403
    message = response.json()["error"]["message"]
    assert "Security Reader" in message
    assert token not in response.text


def test_unknown_wids_next_to_a_real_role_do_no_harm(client, seeded) -> None:
    wids = ["00000000-0000-0000-0000-000000000000", ROLE_TEMPLATE_IDS["Security Reader"]]
    token = sign(seeded, claims_for(scp="SecurityAlert.Read.All", wids=wids))
    assert client.get(ALERTS, headers=bearer(token)).status_code == 200


# ---- ordering: 401, then 404/405, then 403 ---------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path", "status", "code"),
    [
        ("GET", "/beta/security/nothing", 404, "NotFound"),
        ("GET", "/beta/nothing/at/all", 404, "NotFound"),
        ("GET", "/v1.0/security/alerts_v2/a1/nope", 404, "NotFound"),
        ("DELETE", f"{ALERTS}/a1", 405, "Request_BadRequest"),
        ("PUT", f"{INCIDENTS}/100", 405, "Request_BadRequest"),
        ("POST", f"{ALERTS}/a1/unknownAction", 404, "NotFound"),
    ],
)
def test_bad_token_is_401_before_anything_about_the_path(
    client, seeded, method, path, status, code
) -> None:
    for headers in ({}, {"Authorization": "Bearer not-a-token"}, {"Authorization": "Basic x"}):
        response = client.request(method, path, headers=headers)
        assert response.status_code == 401, (method, path, headers, response.text)
        assert response.json()["error"]["code"] == "InvalidAuthenticationToken"
    # with a valid token the path's own answer comes through
    valid = client.request(method, path, headers=bearer(sign(seeded, claims_for())))
    assert valid.status_code == status, valid.text
    assert valid.json()["error"]["code"] == code, valid.text


def test_forbidden_comes_before_not_found(app, client, seeded) -> None:
    """Without the permission, not even whether an id exists is told."""
    token = application(app, ["SecurityIncident.Read.All"])
    assert client.get(f"{ALERTS}/a1", headers=bearer(token)).status_code == 403
    assert client.get(f"{ALERTS}/no-such-alert", headers=bearer(token)).status_code == 403
    assert (
        client.patch(f"{ALERTS}/no-such", json={"status": "new"}, headers=bearer(token)).status_code
        == 403
    )


def test_expired_token_on_a_forbidden_operation_is_401(app, client, seeded) -> None:
    import time

    token = sign(seeded, claims_for(scp="User.Read", exp=int(time.time()) - 60))
    assert (
        client.patch(f"{ALERTS}/a1", json={"status": "new"}, headers=bearer(token)).status_code
        == 401
    )


def test_metadata_is_anonymous(client, seeded) -> None:
    for headers in ({}, {"Authorization": "Bearer garbage"}):
        for version in ("beta", "v1.0"):
            response = client.get(f"/{version}/$metadata", headers=headers)
            assert response.status_code == 200
            assert response.headers["content-type"].startswith("application/xml")
    # the rest of the service root is not
    assert client.get("/beta/").status_code == 401
    assert client.get("/beta").status_code == 401


def test_discovery_and_keys_are_anonymous_and_hold_no_secrets(client, seeded) -> None:
    sign(seeded, claims_for())  # the first key is made on first use
    keys_doc = client.get("/discovery/v2.0/keys").json()
    assert keys_doc["keys"]
    for key in keys_doc["keys"]:
        assert set(key) <= {"kty", "use", "alg", "kid", "n", "e"}  # no private members (d, p, q)
    config = client.get(f"/{TENANT_A}/v2.0/.well-known/openid-configuration")
    assert config.status_code == 200


def test_head_follows_get(app, client, seeded) -> None:
    assert client.head(ALERTS).status_code == 401
    assert (
        client.head(
            ALERTS, headers=bearer(application(app, ["SecurityIncident.Read.All"]))
        ).status_code
        == 403
    )
    response = client.head(ALERTS, headers=bearer(application(app, ["SecurityAlert.Read.All"])))
    assert response.status_code == 200
    assert response.content == b""
