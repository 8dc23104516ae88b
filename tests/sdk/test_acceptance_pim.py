"""Acceptance: /identityGovernance/roleManagementAlerts (R1-R14) through the official beta SDK.

The refresh actions answer 202 with the operation in ``Location`` and no body; the SDK drops both,
so the tests read them through the SDK's native response handler, then poll the operation with the
operations request builder until it has succeeded.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any
from urllib.parse import unquote, urlsplit

import pytest
from kiota_abstractions.base_request_configuration import RequestConfiguration

from tests.sdk.conftest import Sdk, native, unmapped

pytestmark = [
    pytest.mark.sdk,
    pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning"),
    pytest.mark.filterwarnings("ignore::ResourceWarning"),
]

SCOPE = "scopeId eq '/' and scopeType eq 'DirectoryRole'"
KINDS = {
    "InvalidLicenseAlert": ("InvalidLicense", False),
    "NoMfaOnRoleActivationAlert": ("NoMfaOnRoleActivation", True),
    "RedundantAssignmentAlert": ("RedundantAssignment", True),
    "RolesAssignedOutsidePimAlert": ("RolesAssignedOutsidePrivilegedIdentityManagement", True),
    "SequentialActivationRenewalsAlert": ("SequentialActivationRenewals", False),
    "StaleSignInAlert": ("StaleSignIn", True),
    "TooManyGlobalAdminsAssignedToTenantAlert": ("TooManyGlobalAdminsAssignedToTenant", True),
}


def kind(entity_id: str) -> str:
    return entity_id.rsplit("_", 1)[1]


def params(builder: Any, name: str, **options: Any) -> RequestConfiguration[Any]:
    return RequestConfiguration(query_parameters=getattr(builder, name)(**options))


def alerts_query(**options: Any) -> RequestConfiguration[Any]:
    from msgraph_beta.generated.identity_governance.role_management_alerts.alerts.alerts_request_builder import (  # noqa: E501
        AlertsRequestBuilder,
    )

    return params(AlertsRequestBuilder, "AlertsRequestBuilderGetQueryParameters", **options)


def test_alerts_with_scope_filter_and_expand(sdk: Sdk) -> None:
    from msgraph_beta.generated.models.stale_sign_in_alert_configuration import (
        StaleSignInAlertConfiguration,
    )

    client = sdk.beta()
    pim = client.identity_governance.role_management_alerts

    async def scenario() -> None:
        listed = await pim.alerts.get(
            alerts_query(
                filter=SCOPE, expand=["alertDefinition", "alertConfiguration", "alertIncidents"]
            )
        )
        assert {kind(a.id) for a in listed.value} == set(KINDS)
        for alert in listed.value:
            stem, _ = KINDS[kind(alert.id)]
            assert unmapped(alert) == [], alert.id
            assert alert.scope_id == "/"
            assert alert.scope_type == "DirectoryRole"
            assert alert.alert_definition_id == alert.id
            assert alert.last_scanned_date_time.tzinfo is not None
            assert type(alert.alert_configuration).__name__ == f"{stem}AlertConfiguration"
            assert alert.alert_definition.id == alert.id
            assert alert.alert_definition.display_name
            assert alert.incident_count == len(alert.alert_incidents)
            for incident in alert.alert_incidents:
                assert type(incident).__name__ == f"{stem}AlertIncident", incident.additional_data
                assert unmapped(incident) == []

        selected = await pim.alerts.get(
            alerts_query(filter=f"{SCOPE} and isActive eq true", select=["id", "isActive"])
        )
        assert selected.value
        assert all(a.is_active is True and a.incident_count is None for a in selected.value)
        one_id = next(a.id for a in listed.value if kind(a.id) == "StaleSignInAlert")
        item = pim.alerts.by_unified_role_management_alert_id(one_id)
        one = await item.get(
            params(
                item,
                "UnifiedRoleManagementAlertItemRequestBuilderGetQueryParameters",
                expand=["alertConfiguration"],
            )
        )
        assert isinstance(one.alert_configuration, StaleSignInAlertConfiguration)
        assert isinstance(one.alert_configuration.duration, timedelta)
        definition = await item.alert_definition.get()
        assert definition.id == one_id
        configuration = await item.alert_configuration.get()
        assert configuration.id == one_id

    sdk.run(scenario)


def test_definitions_and_configurations(sdk: Sdk) -> None:
    from msgraph_beta.generated.identity_governance.role_management_alerts.alert_configurations.alert_configurations_request_builder import (  # noqa: E501
        AlertConfigurationsRequestBuilder,
    )
    from msgraph_beta.generated.identity_governance.role_management_alerts.alert_definitions.alert_definitions_request_builder import (  # noqa: E501
        AlertDefinitionsRequestBuilder,
    )

    client = sdk.beta()
    pim = client.identity_governance.role_management_alerts

    async def scenario() -> None:
        definitions = await pim.alert_definitions.get(
            params(
                AlertDefinitionsRequestBuilder,
                "AlertDefinitionsRequestBuilderGetQueryParameters",
                filter=SCOPE,
            )
        )
        assert {kind(d.id) for d in definitions.value} == set(KINDS)
        for definition in definitions.value:
            assert unmapped(definition) == []
            assert definition.severity_level is not None
            assert definition.is_remediatable is KINDS[kind(definition.id)][1]
            one = await pim.alert_definitions.by_unified_role_management_alert_definition_id(
                definition.id
            ).get()
            assert one.display_name == definition.display_name

        configurations = await pim.alert_configurations.get(
            params(
                AlertConfigurationsRequestBuilder,
                "AlertConfigurationsRequestBuilderGetQueryParameters",
                filter=SCOPE,
                expand=["alertDefinition"],
            )
        )
        assert {kind(c.id) for c in configurations.value} == set(KINDS)
        for configuration in configurations.value:
            stem, _ = KINDS[kind(configuration.id)]
            assert type(configuration).__name__ == f"{stem}AlertConfiguration"
            assert (
                configuration.odata_type
                == f"#microsoft.graph.{stem[0].lower()}{stem[1:]}AlertConfiguration"
            )
            assert configuration.alert_definition.id == configuration.id
            assert unmapped(configuration) == []
        by_id = {kind(c.id): c for c in configurations.value}
        stale = by_id["StaleSignInAlert"]
        assert isinstance(stale.duration, timedelta)
        sequential = by_id["SequentialActivationRenewalsAlert"]
        assert isinstance(sequential.time_interval_between_activations, timedelta)
        assert isinstance(sequential.sequential_activation_counter_threshold, int)
        one = await pim.alert_configurations.by_unified_role_management_alert_configuration_id(
            stale.id
        ).get()
        assert one.duration == stale.duration

    sdk.run(scenario)


def test_patch_each_configuration_type(sdk: Sdk) -> None:
    client = sdk.beta()
    pim = client.identity_governance.role_management_alerts
    tenant_prefix: list[str] = []

    def config(name: str) -> Any:
        return pim.alert_configurations.by_unified_role_management_alert_configuration_id(
            f"{tenant_prefix[0]}_{name}"
        )

    async def scenario() -> None:
        listed = await pim.alerts.get(alerts_query(filter=SCOPE, select=["id"]))
        tenant_prefix.append(listed.value[0].id.rsplit("_", 1)[0])
        from msgraph_beta.generated.models.invalid_license_alert_configuration import (
            InvalidLicenseAlertConfiguration,
        )
        from msgraph_beta.generated.models.no_mfa_on_role_activation_alert_configuration import (
            NoMfaOnRoleActivationAlertConfiguration,
        )
        from msgraph_beta.generated.models.redundant_assignment_alert_configuration import (
            RedundantAssignmentAlertConfiguration,
        )
        from msgraph_beta.generated.models.roles_assigned_outside_privileged_identity_management_alert_configuration import (  # noqa: E501
            RolesAssignedOutsidePrivilegedIdentityManagementAlertConfiguration,
        )
        from msgraph_beta.generated.models.sequential_activation_renewals_alert_configuration import (  # noqa: E501
            SequentialActivationRenewalsAlertConfiguration,
        )
        from msgraph_beta.generated.models.stale_sign_in_alert_configuration import (
            StaleSignInAlertConfiguration,
        )
        from msgraph_beta.generated.models.too_many_global_admins_assigned_to_tenant_alert_configuration import (  # noqa: E501
            TooManyGlobalAdminsAssignedToTenantAlertConfiguration,
        )

        changes: list[tuple[str, Any, dict[str, Any]]] = [
            ("InvalidLicenseAlert", InvalidLicenseAlertConfiguration(is_enabled=False), {}),
            (
                "NoMfaOnRoleActivationAlert",
                NoMfaOnRoleActivationAlertConfiguration(is_enabled=True),
                {},
            ),
            (
                "RolesAssignedOutsidePimAlert",
                RolesAssignedOutsidePrivilegedIdentityManagementAlertConfiguration(
                    is_enabled=False
                ),
                {},
            ),
            (
                "RedundantAssignmentAlert",
                RedundantAssignmentAlertConfiguration(duration=timedelta(days=45)),
                {"duration": timedelta(days=45)},
            ),
            (
                "StaleSignInAlert",
                StaleSignInAlertConfiguration(
                    duration=timedelta(days=60, hours=12), is_enabled=True
                ),
                {"duration": timedelta(days=60, hours=12)},
            ),
            (
                "SequentialActivationRenewalsAlert",
                SequentialActivationRenewalsAlertConfiguration(
                    sequential_activation_counter_threshold=4,
                    time_interval_between_activations=timedelta(hours=2, minutes=30),
                ),
                {
                    "sequential_activation_counter_threshold": 4,
                    "time_interval_between_activations": timedelta(hours=2, minutes=30),
                },
            ),
            (
                "TooManyGlobalAdminsAssignedToTenantAlert",
                TooManyGlobalAdminsAssignedToTenantAlertConfiguration(
                    global_admin_count_threshold=3,
                    percentage_of_global_admins_out_of_roles_threshold=25,
                ),
                {
                    "global_admin_count_threshold": 3,
                    "percentage_of_global_admins_out_of_roles_threshold": 25,
                },
            ),
        ]
        for name, body, expected in changes:
            item = config(name)
            response = await item.patch(body, native())
            assert response.status_code == 204, (name, response.text)
            assert response.content == b""
            after = await item.get()
            assert type(after) is type(body)
            if body.is_enabled is not None:
                assert after.is_enabled is body.is_enabled
            for field, value in expected.items():
                assert getattr(after, field) == value, (name, field)

    sdk.run(scenario)


def test_alert_incidents_paging_and_get(sdk: Sdk) -> None:
    from msgraph_beta.generated.identity_governance.role_management_alerts.alerts.item.alert_incidents.alert_incidents_request_builder import (  # noqa: E501
        AlertIncidentsRequestBuilder,
    )
    from msgraph_core import PageIterator

    client = sdk.beta()
    pim = client.identity_governance.role_management_alerts

    async def scenario() -> None:
        listed = await pim.alerts.get(alerts_query(filter=SCOPE, select=["id", "incidentCount"]))
        alert = next(
            a for a in listed.value if kind(a.id) == "TooManyGlobalAdminsAssignedToTenantAlert"
        )
        assert alert.incident_count > 2
        incidents = pim.alerts.by_unified_role_management_alert_id(alert.id).alert_incidents
        first = await incidents.get(
            params(
                AlertIncidentsRequestBuilder,
                "AlertIncidentsRequestBuilderGetQueryParameters",
                top=2,
            )
        )
        assert len(first.value) == 2
        assert "$skip=2" in unquote(first.odata_next_link)
        assert urlsplit(first.odata_next_link).netloc == urlsplit(sdk.server.base).netloc
        seen: list[Any] = []
        await PageIterator(first, client.request_adapter).iterate(lambda i: seen.append(i) or True)
        assert len(seen) == len({i.id for i in seen}) == alert.incident_count
        assert all(
            type(i).__name__ == "TooManyGlobalAdminsAssignedToTenantAlertIncident" for i in seen
        )
        assert all(i.assignee_user_principal_name for i in seen)
        one = await incidents.by_unified_role_management_alert_incident_id(seen[-1].id).get()
        assert one.id == seen[-1].id
        assert one.assignee_display_name == seen[-1].assignee_display_name
        filtered = await incidents.get(
            params(
                AlertIncidentsRequestBuilder,
                "AlertIncidentsRequestBuilderGetQueryParameters",
                filter=f"id eq '{seen[0].id}'",
            )
        )
        assert [i.id for i in filtered.value] == [seen[0].id]

    sdk.run(scenario)


async def wait_for(operations: Any, location: str) -> Any:
    operation_id = unquote(urlsplit(location).path.rsplit("/", 1)[1])
    item = operations.by_long_running_operation_id(operation_id)
    for _ in range(100):
        operation = await item.get()
        assert operation.id == operation_id
        if operation.status.value != "running":
            return operation
        await asyncio.sleep(0.05)
    raise AssertionError(f"operation {operation_id} still running")


def test_refresh_collection_and_item_then_read_the_operation(sdk: Sdk) -> None:
    from msgraph_beta.generated.identity_governance.role_management_alerts.alerts.refresh.refresh_post_request_body import (  # noqa: E501
        RefreshPostRequestBody,
    )
    from msgraph_beta.generated.models.long_running_operation_status import (
        LongRunningOperationStatus,
    )

    client = sdk.beta()
    pim = client.identity_governance.role_management_alerts

    async def scenario() -> None:
        listed = await pim.alerts.get(alerts_query(filter=SCOPE))
        before = {a.id: a for a in listed.value}

        response = await pim.alerts.refresh.post(
            RefreshPostRequestBody(scope_id="/", scope_type="DirectoryRole"), native()
        )
        assert response.status_code == 202, response.text
        assert response.content == b""
        location = response.headers["location"]
        assert location.startswith(
            f"{sdk.server.base}/beta/identityGovernance/roleManagementAlerts/operations/"
        )
        done = await wait_for(pim.operations, location)
        assert done.status == LongRunningOperationStatus.Succeeded
        assert done.created_date_time.tzinfo is not None
        assert done.last_action_date_time >= done.created_date_time
        assert done.resource_location.startswith(sdk.server.base)
        after = await pim.alerts.get(alerts_query(filter=SCOPE))
        for alert in after.value:
            assert alert.last_scanned_date_time >= before[alert.id].last_scanned_date_time
            # refresh reactivates a dismissed alert whose condition still holds (it has
            # incidents) and never dismisses an active one (how-to-pim-alerts)
            expected = before[alert.id].is_active or bool(alert.incident_count)
            assert alert.is_active == expected, alert.id

        stale_id = next(a for a in before if kind(a) == "StaleSignInAlert")
        item = pim.alerts.by_unified_role_management_alert_id(stale_id)
        response = await item.refresh.post(native())
        assert response.status_code == 202, response.text
        done = await wait_for(pim.operations, response.headers["location"])
        assert done.status == LongRunningOperationStatus.Succeeded
        assert unquote(done.resource_location).endswith(f"/alerts/{stale_id}")
        # the plain SDK call (which ignores the 202's Location) also works
        await item.refresh.post()

    sdk.run(scenario)


def test_dismiss_and_remediate(sdk: Sdk) -> None:
    from msgraph_beta.generated.models.unified_role_management_alert import (
        UnifiedRoleManagementAlert,
    )

    client = sdk.beta()
    pim = client.identity_governance.role_management_alerts

    async def scenario() -> None:
        listed = await pim.alerts.get(alerts_query(filter=SCOPE, expand=["alertIncidents"]))
        by_kind = {kind(a.id): a for a in listed.value}
        roles = by_kind["RolesAssignedOutsidePimAlert"]
        item = pim.alerts.by_unified_role_management_alert_id(roles.id)
        incident = roles.alert_incidents[0]
        response = await item.alert_incidents.by_unified_role_management_alert_incident_id(
            incident.id
        ).remediate.post(native())
        assert response.status_code == 200, response.text
        assert response.content == b""
        after = await item.get()
        assert after.incident_count == roles.incident_count - 1
        assert after.last_modified_date_time >= roles.last_modified_date_time
        remaining = await item.alert_incidents.get()
        assert incident.id not in {i.id for i in remaining.value}

        response = await item.patch(UnifiedRoleManagementAlert(is_active=False), native())
        assert response.status_code == 204, response.text
        assert (await item.get()).is_active is False
        await item.patch(UnifiedRoleManagementAlert(is_active=True))
        assert (await item.get()).is_active is True

    sdk.run(scenario)


def test_errors(sdk: Sdk) -> None:
    from msgraph_beta.generated.identity_governance.role_management_alerts.alert_definitions.alert_definitions_request_builder import (  # noqa: E501
        AlertDefinitionsRequestBuilder,
    )
    from msgraph_beta.generated.identity_governance.role_management_alerts.alerts.refresh.refresh_post_request_body import (  # noqa: E501
        RefreshPostRequestBody,
    )
    from msgraph_beta.generated.models.o_data_errors.o_data_error import ODataError
    from msgraph_beta.generated.models.redundant_assignment_alert_configuration import (
        RedundantAssignmentAlertConfiguration,
    )
    from msgraph_beta.generated.models.stale_sign_in_alert_configuration import (
        StaleSignInAlertConfiguration,
    )
    from msgraph_beta.generated.models.unified_role_management_alert import (
        UnifiedRoleManagementAlert,
    )
    from msgraph_beta.generated.models.unified_role_management_alert_definition import (
        UnifiedRoleManagementAlertDefinition,
    )

    client = sdk.beta()
    reader = sdk.beta(
        sdk.server.token(
            "--app-id",
            "11111111-2222-3333-4444-555555555555",
            "--role",
            "RoleManagementAlert.Read.Directory",
        )
    )
    delegated = ("--user", "pim.admin@contoso.com", "--scope")
    write_scope = "RoleManagementAlert.ReadWrite.Directory"
    security_reader = sdk.beta(
        sdk.server.token(*delegated, write_scope, "--directory-role", "Security Reader")
    )
    privileged = sdk.beta(
        sdk.server.token(
            *delegated, write_scope, "--directory-role", "Privileged Role Administrator"
        )
    )
    pim = client.identity_governance.role_management_alerts

    async def scenario() -> None:
        with pytest.raises(ODataError) as unscoped:
            await pim.alerts.get()
        assert unscoped.value.response_status_code == 400
        assert "scopeId" in unscoped.value.error.message
        with pytest.raises(ODataError) as wrong_scope:
            await pim.alert_definitions.get(
                params(
                    AlertDefinitionsRequestBuilder,
                    "AlertDefinitionsRequestBuilderGetQueryParameters",
                    filter="scopeId eq '/x' and scopeType eq 'DirectoryRole'",
                )
            )
        assert wrong_scope.value.response_status_code == 400
        with pytest.raises(ODataError) as missing:
            await pim.alerts.by_unified_role_management_alert_id("DirectoryRole_x_Nope").get()
        assert missing.value.response_status_code == 404
        assert missing.value.error.code == "itemNotFound"

        listed = await pim.alerts.get(alerts_query(filter=SCOPE, expand=["alertIncidents"]))
        by_kind = {kind(a.id): a for a in listed.value}
        license_alert = by_kind["InvalidLicenseAlert"]
        with pytest.raises(ODataError) as not_remediatable:
            await (
                pim.alerts.by_unified_role_management_alert_id(license_alert.id)
                .alert_incidents.by_unified_role_management_alert_incident_id(
                    license_alert.alert_incidents[0].id
                )
                .remediate.post()
            )
        assert not_remediatable.value.response_status_code == 400
        redundant_id = by_kind["RedundantAssignmentAlert"].id
        configuration = pim.alert_configurations.by_unified_role_management_alert_configuration_id(
            redundant_id
        )
        with pytest.raises(ODataError) as wrong_type:
            await configuration.patch(StaleSignInAlertConfiguration(is_enabled=False))
        assert wrong_type.value.response_status_code == 400
        with pytest.raises(ODataError) as negative:
            await configuration.patch(
                RedundantAssignmentAlertConfiguration(duration=timedelta(days=-1))
            )
        assert negative.value.response_status_code == 400
        with pytest.raises(ODataError) as bad_scope:
            await pim.alerts.refresh.post(
                RefreshPostRequestBody(scope_id="/x", scope_type="DirectoryRole")
            )
        assert bad_scope.value.response_status_code == 400
        with pytest.raises(ODataError) as read_only:
            await pim.alert_definitions.by_unified_role_management_alert_definition_id(
                redundant_id
            ).patch(UnifiedRoleManagementAlertDefinition(display_name="x"))
        assert read_only.value.response_status_code == 405

        rpim = reader.identity_governance.role_management_alerts
        assert (await rpim.alerts.by_unified_role_management_alert_id(redundant_id).get()).id
        with pytest.raises(ODataError) as forbidden:
            await rpim.alerts.by_unified_role_management_alert_id(redundant_id).patch(
                UnifiedRoleManagementAlert(is_active=False)
            )
        assert forbidden.value.response_status_code == 403
        assert forbidden.value.error.code == "Authorization_RequestDenied"  # Entra's code
        with pytest.raises(ODataError) as forbidden_refresh:
            await rpim.alerts.by_unified_role_management_alert_id(redundant_id).refresh.post()
        assert forbidden_refresh.value.response_status_code == 403

        # delegated writes need the write scope and the Privileged Role Administrator role
        dismiss = UnifiedRoleManagementAlert(is_active=True)
        with pytest.raises(ODataError) as wrong_role:
            await security_reader.identity_governance.role_management_alerts.alerts.by_unified_role_management_alert_id(  # noqa: E501
                redundant_id
            ).patch(dismiss)
        assert wrong_role.value.response_status_code == 403
        assert "Privileged Role Administrator" in wrong_role.value.error.message
        await privileged.identity_governance.role_management_alerts.alerts.by_unified_role_management_alert_id(  # noqa: E501
            redundant_id
        ).patch(dismiss)

    sdk.run(scenario)
