"""The permission matrix, generated from the entity set rows: who may read, write and act."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest

from alertgraph.errors import Forbidden
from alertgraph.identity.auth import (
    ROLE_TEMPLATE_IDS,
    Principal,
    authorize,
    default_dev_grants,
    requirement,
    role_template_id,
)
from alertgraph.schema.endpoints import BY_NAME, ENTITY_SETS, EntitySet

ALL_PERMISSIONS = sorted(
    {
        permission
        for entity_set in ENTITY_SETS
        for permission in (*entity_set.read_permissions, *entity_set.write_permissions)
    }
    | {
        permission
        for entity_set in ENTITY_SETS
        for needed in entity_set.access.values()
        for permission in needed.permissions
    }
)
OPERATIONS = [(entity_set, op) for entity_set in ENTITY_SETS for op in ("read", "write")] + [
    (entity_set, operation) for entity_set in ENTITY_SETS for operation in entity_set.access
]


def user(scopes=(), roles=()) -> Principal:
    return Principal(
        tenant="t1",
        object_id="u1",
        upn="alice@contoso.com",
        app_id="client",
        delegated=frozenset(scopes),
        application=frozenset(),
        directory_roles=frozenset(ROLE_TEMPLATE_IDS[name] for name in roles),
    )


def app(roles=()) -> Principal:
    return Principal(
        tenant="t1",
        object_id="sp1",
        upn=None,
        app_id="app-1",
        delegated=frozenset(),
        application=frozenset(roles),
        directory_roles=frozenset(),
    )


def case_id(entity_set: EntitySet, operation: str, *rest: str) -> str:
    return "-".join((entity_set.name, operation, *rest))


def granting_cases() -> Iterator[object]:
    """Every listed permission, least and higher privileged, for both kinds of caller."""
    for entity_set, operation in OPERATIONS:
        needed = requirement(entity_set, operation)
        for permission in needed.permissions:
            for kind in ("delegated", "application"):
                yield pytest.param(
                    entity_set, operation, kind, permission,
                    id=case_id(entity_set, operation, kind, permission),
                )  # fmt: skip


def refusing_cases() -> Iterator[object]:
    """Every served permission that the operation does not list."""
    for entity_set, operation in OPERATIONS:
        needed = requirement(entity_set, operation)
        for permission in ALL_PERMISSIONS:
            if permission in needed.permissions:
                continue
            for kind in ("delegated", "application"):
                yield pytest.param(
                    entity_set, operation, kind, permission,
                    id=case_id(entity_set, operation, kind, permission),
                )  # fmt: skip


@pytest.mark.parametrize(("entity_set", "operation", "kind", "permission"), list(granting_cases()))
def test_listed_permission_is_enough(entity_set, operation, kind, permission) -> None:
    needed = requirement(entity_set, operation)
    if kind == "application":
        authorize(app([permission]), entity_set, operation, request_id="r")
    else:
        # the least privileged role the docs name for the operation (first in the row)
        roles = needed.roles[:1]
        authorize(user([permission], roles), entity_set, operation, request_id="r")


@pytest.mark.parametrize(("entity_set", "operation", "kind", "permission"), list(refusing_cases()))
def test_unlisted_permission_is_forbidden(entity_set, operation, kind, permission) -> None:
    needed = requirement(entity_set, operation)
    principal = (
        app([permission]) if kind == "application" else user([permission], ["Global Administrator"])
    )
    with pytest.raises(Forbidden) as caught:
        authorize(principal, entity_set, operation, request_id="r")
    error = caught.value
    assert error.status == 403
    expected = "Authorization_RequestDenied" if entity_set.name.startswith("pim") else "Forbidden"
    assert error.code == expected
    for listed in needed.permissions:
        assert listed in error.message
    assert f"has {permission}." in error.message
    claim = "roles" if kind == "application" else "scp"
    assert f"token's {claim} claim" in error.message


@pytest.mark.parametrize(
    ("entity_set", "operation"),
    [pytest.param(s, op, id=case_id(s, op)) for s, op in OPERATIONS],
)
def test_delegated_calls_need_a_listed_directory_role(entity_set, operation) -> None:
    needed = requirement(entity_set, operation)
    permission = needed.permissions[0]
    if not needed.roles:
        # partner alerts name no directory role: the scope alone suffices
        authorize(user([permission]), entity_set, operation, request_id="r")
        return
    with pytest.raises(Forbidden) as caught:
        authorize(user([permission]), entity_set, operation, request_id="r")
    message = caught.value.message
    for role in needed.roles:
        assert role in message
    assert "wids claim has none" in message
    for role in needed.roles:
        authorize(user([permission], [role]), entity_set, operation, request_id="r")
    # Global Administrator holds every permission of the named roles
    authorize(user([permission], ["Global Administrator"]), entity_set, operation, request_id="r")
    others = [
        name for name in ROLE_TEMPLATE_IDS if name not in (*needed.roles, "Global Administrator")
    ]
    for role in others:
        with pytest.raises(Forbidden, match=role):
            authorize(user([permission], [role]), entity_set, operation, request_id="r")


@pytest.mark.parametrize(
    ("entity_set", "operation"),
    [pytest.param(s, op, id=case_id(s, op)) for s, op in OPERATIONS],
)
def test_application_calls_need_no_directory_role(entity_set, operation) -> None:
    needed = requirement(entity_set, operation)
    authorize(app(needed.permissions[:1]), entity_set, operation, request_id="r")


def test_write_implies_read_where_graph_lists_it_higher_privileged() -> None:
    for entity_set in ENTITY_SETS:
        for permission in entity_set.write_permissions:
            authorize(app([permission]), entity_set, "read", request_id="r")


def test_read_permission_does_not_allow_writing() -> None:
    alerts = BY_NAME["alerts_v2"]
    with pytest.raises(Forbidden) as caught:
        authorize(app(["SecurityAlert.Read.All"]), alerts, "write", request_id="r")
    assert caught.value.message == (
        "Missing application roles. Changing /security/alerts_v2 requires one of the application "
        "permissions SecurityAlert.ReadWrite.All; the token's roles claim has "
        "SecurityAlert.Read.All."
    )


def test_special_operations_follow_the_spec() -> None:
    alerts, incidents = BY_NAME["alerts_v2"], BY_NAME["incidents"]
    operator = ["Security Operator"]
    authorize(user(["SecurityData.Manage.All"], operator), alerts, "moveAlerts", request_id="r")
    authorize(app(["SecurityAlert.ReadWrite.All"]), alerts, "moveAlerts", request_id="r")
    with pytest.raises(Forbidden):
        authorize(app(["SecurityAlert.Read.All"]), alerts, "moveAlerts", request_id="r")
    authorize(app(["SecurityData.Manage.All"]), incidents, "mergeIncidents", request_id="r")
    with pytest.raises(Forbidden, match=r"SecurityData\.Manage\.All"):
        authorize(
            app(["SecurityIncident.ReadWrite.All"]), incidents, "mergeIncidents", request_id="r"
        )
    authorize(app(["SecurityAlert.Create.All"]), alerts, "createAlert", request_id="r")
    # an incident's alerts are read with the incident permission alone
    authorize(user(["SecurityIncident.Read.All"], ["Security Reader"]), incidents, "alerts",
              request_id="r")  # fmt: skip
    # other actions (comments, refresh, remediate) need the write permission
    authorize(app(["SecurityAlert.ReadWrite.All"]), alerts, "comments", request_id="r")
    with pytest.raises(Forbidden):
        authorize(app(["SecurityAlert.Read.All"]), alerts, "comments", request_id="r")
    pim = BY_NAME["pim_alerts"]
    with pytest.raises(Forbidden, match="Privileged Role Administrator"):
        authorize(user(["RoleManagementAlert.ReadWrite.Directory"], ["Security Administrator"]),
                  pim, "refresh", request_id="r")  # fmt: skip


def test_pim_denials_read_like_entra() -> None:
    with pytest.raises(Forbidden) as caught:
        authorize(app(), BY_NAME["pim_definitions"], "read", request_id="r")
    assert caught.value.code == "Authorization_RequestDenied"
    assert caught.value.message.startswith("Insufficient privileges to complete the operation.")
    assert "has none." in caught.value.message


def test_decisions_are_logged(caplog) -> None:
    caplog.set_level(logging.INFO, logger="alertgraph.identity.auth")
    alerts = BY_NAME["alerts_v2"]
    authorize(app(["SecurityAlert.Read.All"]), alerts, "read", request_id="req-ok")
    with pytest.raises(Forbidden):
        authorize(app(["SecurityAlert.Read.All"]), alerts, "write", request_id="req-no")
    allowed, denied = (record.getMessage() for record in caplog.records[-2:])
    assert allowed.startswith("authorization allowed")
    assert "request_id=req-ok" in allowed
    assert "principal=app-1" in allowed
    assert "tenant=t1" in allowed
    assert denied.startswith("authorization denied")
    assert "needs=SecurityAlert.ReadWrite.All" in denied


def test_dev_grants_allow_everything_served() -> None:
    scopes, roles = default_dev_grants()
    principal = Principal("t1", "u", "dev@alertgraph.local", "c", frozenset(scopes),
                          frozenset(), frozenset(roles))  # fmt: skip
    for entity_set, operation in OPERATIONS:
        authorize(principal, entity_set, operation, request_id="r")
    # least privilege: the two roles that cover the served APIs, not Global Administrator
    assert ROLE_TEMPLATE_IDS["Global Administrator"] not in roles
    assert {role_template_id(role) for role in roles} == set(roles)


def test_principal_kind_and_name() -> None:
    assert user().kind == "delegated"
    assert app().kind == "application"
    assert app().display_name == "app-1"
