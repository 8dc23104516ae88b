"""PIM and partner writes over HTTP: PATCH codes, refresh operations, remediate (both engines)."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from alertgraph.store.database import audit_table
from tests.factories import TENANT_A, TENANT_B, insert, mint

PIM = "/beta/identityGovernance/roleManagementAlerts"
ROOT = "http://testserver/beta"
PARTNER = "/beta/security/partner/securityAlerts"


def pim_id(name: str) -> str:
    return f"DirectoryRole_{TENANT_A}_{name}"


KINDS = {
    # alert name: (configuration type, incident type, remediatable, configuration extras)
    "StaleSignInAlert": (
        "staleSignInAlertConfiguration",
        "staleSignInAlertIncident",
        True,
        {"duration": "P30D"},
    ),
    "InvalidLicenseAlert": (
        "invalidLicenseAlertConfiguration",
        "invalidLicenseAlertIncident",
        False,
        {},
    ),
    "TooManyGlobalAdminsAssignedToTenantAlert": (
        "tooManyGlobalAdminsAssignedToTenantAlertConfiguration",
        "tooManyGlobalAdminsAssignedToTenantAlertIncident",
        True,
        {"globalAdminCountThreshold": 5, "percentageOfGlobalAdminsOutOfRolesThreshold": 10},
    ),
}
SCOPE = {"scopeId": "/", "scopeType": "DirectoryRole"}


@pytest.fixture
def pim(store):
    for name, (config_type, incident_type, remediatable, extras) in KINDS.items():
        key = pim_id(name)
        insert(
            store,
            "pim_definitions",
            [{"id": key, "displayName": name, **SCOPE, "isRemediatable": remediatable}],
        )
        insert(
            store,
            "pim_configurations",
            [
                {
                    "@odata.type": f"#microsoft.graph.{config_type}",
                    "id": key,
                    "alertDefinitionId": key,
                    "isEnabled": True,
                    **SCOPE,
                    **extras,
                }
            ],
        )
        insert(
            store,
            "pim_alerts",
            [
                {
                    "id": key,
                    "alertDefinitionId": key,
                    "isActive": True,
                    "incidentCount": 1,
                    **SCOPE,
                    "lastModifiedDateTime": "2024-05-01T00:00:00Z",
                    "lastScannedDateTime": "2024-05-01T00:00:00Z",
                }
            ],
        )
        insert(
            store,
            "pim_incidents",
            [
                {"@odata.type": f"#microsoft.graph.{incident_type}", "id": f"{name}-1"},
                {"@odata.type": f"#microsoft.graph.{incident_type}", "id": f"{name}-2"},
            ],
            parent=key,
        )
    return store


def test_dismiss_alert_is_204(client, pim, headers) -> None:
    key = pim_id("StaleSignInAlert")
    response = client.patch(f"{PIM}/alerts/{key}", json={"isActive": False}, headers=headers)
    assert response.status_code == 204, response.text
    assert response.content == b""
    assert "content-type" not in response.headers
    after = client.get(f"{PIM}/alerts/{key}", headers=headers).json()
    assert after["isActive"] is False
    assert after["lastModifiedDateTime"] > "2024-05-01T00:00:00Z"


@pytest.mark.parametrize(
    "body",
    [{}, {"isActive": "false"}, {"incidentCount": 0, "isActive": False}, {"isactive": False}],
)
def test_dismiss_alert_body_problems(client, pim, headers, body) -> None:
    response = client.patch(
        f"{PIM}/alerts/{pim_id('StaleSignInAlert')}", json=body, headers=headers
    )
    assert response.status_code == 400, response.text
    assert response.json()["error"]["message"].endswith("Updatable properties: isActive.")


def test_dismiss_alert_refuses_null(client, pim, headers) -> None:
    url = f"{PIM}/alerts/{pim_id('StaleSignInAlert')}"
    response = client.patch(url, json={"isActive": None}, headers=headers)
    assert response.status_code == 400, response.text
    assert "isActive: can't be null" in response.json()["error"]["message"]
    assert client.get(url, headers=headers).json()["isActive"] is True


@pytest.mark.parametrize(
    ("body", "target"),
    [
        ({"duration": "P99999999D"}, "duration"),
        ({"duration": "999999999 days, 0:00:00"}, "duration"),
        ({"duration": "PT99999999999999999999S"}, "duration"),
        ({"duration": None}, "duration"),
        ({"isEnabled": None}, "isEnabled"),
    ],
)
def test_configuration_patch_refuses_nulls_and_endless_durations(
    client, pim, headers, body, target
) -> None:
    url = f"{PIM}/alertConfigurations/{pim_id('StaleSignInAlert')}"
    before = client.get(url, headers=headers).json()
    kind = {"@odata.type": "#microsoft.graph.staleSignInAlertConfiguration"}
    response = client.patch(url, json={**kind, **body}, headers=headers)
    assert response.status_code == 400, response.text
    assert f"{target}:" in response.json()["error"]["message"]
    assert client.get(url, headers=headers).json() == before


def test_configuration_patch_needs_its_derived_type(client, pim, headers) -> None:
    key = pim_id("StaleSignInAlert")
    url = f"{PIM}/alertConfigurations/{key}"
    body = {
        "@odata.type": "#microsoft.graph.staleSignInAlertConfiguration",
        "isEnabled": False,
        "duration": "14 days, 0:00:00",
    }
    response = client.patch(url, json=body, headers=headers)
    assert response.status_code == 204, response.text
    after = client.get(url, headers=headers).json()
    assert (after["isEnabled"], after["duration"]) == (False, "P14D")
    iso = client.patch(url, json={**body, "duration": "PT36H"}, headers=headers)
    assert iso.status_code == 204
    assert client.get(url, headers=headers).json()["duration"] == "P1DT12H"

    missing = client.patch(url, json={"isEnabled": True}, headers=headers)
    assert missing.status_code == 400
    assert "@odata.type: is required" in missing.json()["error"]["message"]
    wrong = client.patch(
        url,
        json={
            "@odata.type": "#microsoft.graph.invalidLicenseAlertConfiguration",
            "isEnabled": True,
        },
        headers=headers,
    )
    assert wrong.status_code == 400
    assert "staleSignInAlertConfiguration" in wrong.json()["error"]["message"]


def test_configuration_updatable_properties_follow_the_derived_type(client, pim, headers) -> None:
    url = f"{PIM}/alertConfigurations/{pim_id('InvalidLicenseAlert')}"
    body = {"@odata.type": "#microsoft.graph.invalidLicenseAlertConfiguration", "duration": "P1D"}
    response = client.patch(url, json=body, headers=headers)
    assert response.status_code == 400
    assert response.json()["error"]["message"].endswith("Updatable properties: isEnabled.")

    admins = f"{PIM}/alertConfigurations/{pim_id('TooManyGlobalAdminsAssignedToTenantAlert')}"
    kind = "#microsoft.graph.tooManyGlobalAdminsAssignedToTenantAlertConfiguration"
    ok = client.patch(
        admins, json={"@odata.type": kind, "globalAdminCountThreshold": 3}, headers=headers
    )
    assert ok.status_code == 204
    assert client.get(admins, headers=headers).json()["globalAdminCountThreshold"] == 3
    too_much = client.patch(
        admins,
        json={
            "@odata.type": kind,
            "percentageOfGlobalAdminsOutOfRolesThreshold": 150,
            "globalAdminCountThreshold": -1,
        },
        headers=headers,
    )
    assert too_much.status_code == 400
    assert "2 problems" in too_much.json()["error"]["message"]


def test_refresh_scope_is_202_and_finishes_after_the_response(client, pim, headers, store) -> None:
    response = client.post(f"{PIM}/alerts/refresh", json=SCOPE, headers=headers)
    assert response.status_code == 202, response.text
    assert response.content == b""
    location = response.headers["location"]
    assert location.startswith(f"{ROOT}/identityGovernance/roleManagementAlerts/operations/")
    operation_id = location.rsplit("/", 1)[1]
    with store.engine.connect() as conn:
        created = conn.execute(
            select(audit_table.c.changes)
            .where(audit_table.c.entity_set == "pim_operations", audit_table.c.action == "refresh")
            .order_by(audit_table.c.at)
        ).first()
    assert created is not None
    assert created[0]["fields"]["status"]["after"] == "running"  # as the response left it
    operation = client.get(location.removeprefix("http://testserver"), headers=headers).json()
    assert operation["id"] == operation_id
    assert operation["status"] == "succeeded"
    assert operation["resourceLocation"].startswith(
        f"{ROOT}/identityGovernance/roleManagementAlerts/alerts"
    )
    for name in KINDS:
        alert = client.get(f"{PIM}/alerts/{pim_id(name)}", headers=headers).json()
        assert alert["lastScannedDateTime"] > "2024-05-01T00:00:00Z"
        assert alert["incidentCount"] == 2  # recounted from the stored incidents


@pytest.mark.parametrize(
    "body",
    [
        None,
        {"scopeId": "/"},
        {"scopeId": "/x", "scopeType": "DirectoryRole"},
        {**SCOPE, "extra": 1},
    ],
)
def test_refresh_scope_must_be_the_tenant(client, pim, headers, body) -> None:
    response = client.post(f"{PIM}/alerts/refresh", json=body, headers=headers)
    assert response.status_code == 400, response.text


def test_refresh_scope_messages_show_json(client, pim, headers) -> None:
    body = {"scopeId": None, "scopeType": "DirectoryRole"}
    response = client.post(f"{PIM}/alerts/refresh", json=body, headers=headers)
    assert response.status_code == 400, response.text
    assert "scopeId: null is not supported" in response.json()["error"]["message"]
    listed = client.post(f"{PIM}/alerts/refresh", json=[], headers=headers)
    assert listed.status_code == 400
    assert listed.json()["error"]["message"].startswith("The request body must be an object")


def test_refresh_one_alert(client, pim, headers) -> None:
    key = pim_id("StaleSignInAlert")
    response = client.post(f"{PIM}/alerts/{key}/refresh", headers=headers)
    assert response.status_code == 202, response.text
    location = response.headers["location"]
    assert location == f"{ROOT}/identityGovernance/roleManagementAlerts/operations/refresh:{key}"
    operation = client.get(location.removeprefix("http://testserver"), headers=headers).json()
    assert operation["status"] == "succeeded"
    assert operation["resourceLocation"] == (
        f"{ROOT}/identityGovernance/roleManagementAlerts/alerts/{key}"
    )
    again = client.post(f"{PIM}/alerts/{key}/refresh", headers=headers)
    assert again.headers["location"] == location
    assert client.post(f"{PIM}/alerts/nope/refresh", headers=headers).status_code == 404


@pytest.mark.parametrize("scope", ["alert", "tenant"])
def test_refresh_reactivates_a_dismissed_alert_whose_condition_holds(
    client, pim, headers, scope
) -> None:
    """how-to-pim-alerts: refresh "reactivates dismissed alerts (updates isActive to true)"."""
    holds, cleared = pim_id("StaleSignInAlert"), pim_id("InvalidLicenseAlert")
    for key in (holds, cleared):
        dismissed = client.patch(f"{PIM}/alerts/{key}", json={"isActive": False}, headers=headers)
        assert dismissed.status_code == 204
    # InvalidLicenseAlert's condition no longer holds: its incidents are gone
    for incident in ("InvalidLicenseAlert-1", "InvalidLicenseAlert-2"):
        table = pim.tables["pim_incidents"]
        with pim.engine.begin() as conn:
            conn.execute(table.delete().where(table.c.id == incident))
    if scope == "alert":
        for key in (holds, cleared):
            response = client.post(f"{PIM}/alerts/{key}/refresh", headers=headers)
            assert response.status_code == 202, response.text
    else:
        response = client.post(f"{PIM}/alerts/refresh", json=SCOPE, headers=headers)
        assert response.status_code == 202, response.text
    operation = client.get(
        response.headers["location"].removeprefix("http://testserver"), headers=headers
    ).json()
    assert operation["status"] == "succeeded"
    reactivated = client.get(f"{PIM}/alerts/{holds}", headers=headers).json()
    assert reactivated["isActive"] is True
    assert reactivated["incidentCount"] == 2
    still = client.get(f"{PIM}/alerts/{cleared}", headers=headers).json()
    assert still["isActive"] is False
    assert still["incidentCount"] == 0


def test_remediate_removes_the_incident(client, pim, headers) -> None:
    key = pim_id("StaleSignInAlert")
    url = f"{PIM}/alerts/{key}/alertIncidents/StaleSignInAlert-1/remediate"
    response = client.post(url, headers=headers)
    assert response.status_code == 200, response.text
    assert response.content == b""
    alert = client.get(f"{PIM}/alerts/{key}", headers=headers).json()
    assert alert["incidentCount"] == 1
    gone = client.get(f"{PIM}/alerts/{key}/alertIncidents/StaleSignInAlert-1", headers=headers)
    assert gone.status_code == 404
    assert client.post(url, headers=headers).status_code == 404


def test_remediate_refuses_what_is_not_remediatable(client, pim, headers) -> None:
    key = pim_id("InvalidLicenseAlert")
    response = client.post(
        f"{PIM}/alerts/{key}/alertIncidents/InvalidLicenseAlert-1/remediate", headers=headers
    )
    assert response.status_code == 400
    assert "isRemediatable false" in response.json()["error"]["message"]
    assert client.get(f"{PIM}/alerts/{key}", headers=headers).json()["incidentCount"] == 1


def test_pim_writes_need_the_write_permission(client, pim, app) -> None:
    token = mint(
        app,
        user="reader@contoso.com",
        scopes=["RoleManagementAlert.Read.Directory"],
        directory_roles=["Global Reader"],
    )
    auth = {"Authorization": f"Bearer {token}"}
    key = pim_id("StaleSignInAlert")
    assert (
        client.patch(f"{PIM}/alerts/{key}", json={"isActive": False}, headers=auth).status_code
        == 403
    )
    assert client.post(f"{PIM}/alerts/refresh", json=SCOPE, headers=auth).status_code == 403
    other = {"Authorization": f"Bearer {mint(app, TENANT_B)}"}
    assert (
        client.patch(f"{PIM}/alerts/{key}", json={"isActive": False}, headers=other).status_code
        == 404
    )


def test_definitions_are_read_only(client, pim, headers) -> None:
    response = client.patch(
        f"{PIM}/alertDefinitions/{pim_id('StaleSignInAlert')}",
        json={"displayName": "x"},
        headers=headers,
    )
    assert response.status_code == 405


# ---- partner security alerts --------------------------------------------------------------------


def partner_alert(alert_id: str, **overrides):
    record = {
        "id": alert_id,
        "alertType": "networkConnectionsToCryptoMiningPools",
        "confidenceLevel": "high",
        "customerTenantId": TENANT_B,
        "detectedDateTime": "2024-05-01T00:00:00Z",
        "displayName": "Crypto mining",
        "severity": "high",
        "status": "active",
        "subscriptionId": "sub-1",
        "activityLogs": [],
    }
    record.update(overrides)
    return record


def test_partner_status_changes_are_logged(client, store, headers) -> None:
    insert(store, "partner_alerts", [partner_alert("p1")])
    body = {
        "@odata.type": "#microsoft.graph.partner.security.partnerSecurityAlert",
        "status": "resolved",
        "resolvedReason": "fraud",
    }
    response = client.patch(f"{PARTNER}/p1", json=body, headers=headers)
    assert response.status_code == 200, response.text
    resolved = response.json()
    assert resolved["@odata.context"] == f"{ROOT}/$metadata#security/partner/securityAlerts/$entity"
    assert (resolved["status"], resolved["resolvedReason"]) == ("resolved", "fraud")
    assert resolved["resolvedBy"] == "analyst@contoso.com"
    log = resolved["activityLogs"]
    assert [(entry["statusFrom"], entry["statusTo"]) for entry in log] == [("active", "resolved")]
    assert log[0]["updatedBy"] == "analyst@contoso.com"
    assert log[0]["updatedDateTime"] == resolved["resolvedOnDateTime"]

    same = client.patch(f"{PARTNER}/p1", json={"status": "resolved"}, headers=headers).json()
    assert len(same["activityLogs"]) == 1
    reopened = client.patch(f"{PARTNER}/p1", json={"status": "investigating"}, headers=headers)
    body = reopened.json()
    assert [entry["statusTo"] for entry in body["activityLogs"]] == ["resolved", "investigating"]
    assert (body["resolvedBy"], body["resolvedOnDateTime"], body["resolvedReason"]) == (
        None,
        None,
        None,
    )


@pytest.mark.parametrize(
    "body",
    [{"resolvedReason": "fraud"}, {"status": "closed"}, {"status": "resolved", "severity": "low"}],
)
def test_partner_patch_problems(client, store, headers, body) -> None:
    insert(store, "partner_alerts", [partner_alert("p1")])
    response = client.patch(f"{PARTNER}/p1", json=body, headers=headers)
    assert response.status_code == 400, response.text
    assert response.json()["error"]["message"].endswith(
        "Updatable properties: status, resolvedReason."
    )
