"""The official Graph SDKs, changed only in base URL and token provider, against `alertgraph serve`.

msgraph-beta-sdk drives all three families; msgraph-sdk (v1.0) drives alerts_v2. Runs on SQLite and
PostgreSQL. See docs/sdk.md for the same set-up in prose.
"""

from __future__ import annotations

import asyncio
import gc
from collections.abc import Iterator
from typing import Any

import pytest
from kiota_abstractions.api_error import APIError
from kiota_abstractions.authentication import (
    AccessTokenProvider,
    AllowedHostsValidator,
    BaseBearerTokenAuthenticationProvider,
)
from kiota_abstractions.base_request_configuration import RequestConfiguration

from tests.live import LiveServer, live_server

# The SDK's HTTP stack leaves sockets for the garbage collector even after its client is closed;
# collect them inside each test (see run()) so the warning stays in, and is ignored by, SDK tests.
pytestmark = [
    pytest.mark.sdk,
    pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning"),
    pytest.mark.filterwarnings("ignore::ResourceWarning"),
]

PIM_SCOPE = "scopeId eq '/' and scopeType eq 'DirectoryRole'"


class StaticToken(AccessTokenProvider):
    """Hands one token to requests for the allowed hosts only."""

    def __init__(self, token: str, hosts: list[str]) -> None:
        self._token = token
        self._hosts = AllowedHostsValidator(hosts)

    async def get_authorization_token(
        self, uri: str, additional_authentication_context=None
    ) -> str:
        return self._token if self._hosts.is_url_host_valid(uri) else ""

    def get_allowed_hosts_validator(self) -> AllowedHostsValidator:
        return self._hosts


def beta_client(server: LiveServer) -> Any:
    from msgraph_beta import GraphRequestAdapter, GraphServiceClient

    auth = BaseBearerTokenAuthenticationProvider(StaticToken(server.token(), ["127.0.0.1"]))
    adapter = GraphRequestAdapter(auth)
    adapter.base_url = f"{server.base}/beta"
    return GraphServiceClient(request_adapter=adapter), adapter


def v1_client(server: LiveServer) -> Any:
    from msgraph import GraphRequestAdapter, GraphServiceClient

    auth = BaseBearerTokenAuthenticationProvider(StaticToken(server.token(), ["127.0.0.1"]))
    adapter = GraphRequestAdapter(auth)
    adapter.base_url = f"{server.base}/v1.0"
    return GraphServiceClient(request_adapter=adapter), adapter


def run(adapter: Any, scenario: Any) -> None:
    """Run an async scenario, then close the SDK's HTTP client (the SDK never does)."""

    async def wrapped() -> None:
        try:
            await scenario()
        finally:
            await adapter._http_client.aclose()

    asyncio.run(wrapped())
    gc.collect()


@pytest.fixture
def server(db_url, tmp_path) -> Iterator[LiveServer]:
    with live_server(db_url, tmp_path, "--demo") as running:
        yield running


def test_alerts_v2_list_filter_select_page_get_patch_comment(server) -> None:
    from msgraph_beta.generated.models.security.alert import Alert
    from msgraph_beta.generated.models.security.alert_comment import AlertComment
    from msgraph_beta.generated.models.security.alert_status import AlertStatus
    from msgraph_beta.generated.security.alerts_v2.alerts_v2_request_builder import (
        Alerts_v2RequestBuilder,
    )
    from msgraph_core import PageIterator

    client, adapter = beta_client(server)

    async def scenario() -> None:
        params = Alerts_v2RequestBuilder.Alerts_v2RequestBuilderGetQueryParameters(
            filter="severity eq 'high'", select=["id", "title", "severity"], top=5, count=True
        )
        page = await client.security.alerts_v2.get(RequestConfiguration(query_parameters=params))
        assert page is not None
        assert 0 < len(page.value) <= 5
        assert all(a.severity.value == "high" for a in page.value)
        assert page.odata_count >= len(page.value)

        first = await client.security.alerts_v2.get()
        seen: list[str] = []

        def collect(item: Any) -> bool:
            seen.append(item.id)
            return True

        iterator = PageIterator(first, adapter)
        await iterator.iterate(collect)
        total = await client.security.alerts_v2.count.get()
        assert len(seen) == len(set(seen)) == total

        alert_id = seen[0]
        one = await client.security.alerts_v2.by_alert_id(alert_id).get()
        assert one.id == alert_id
        assert one.evidence is not None

        updated = await client.security.alerts_v2.by_alert_id(alert_id).patch(
            Alert(status=AlertStatus.InProgress, assigned_to="o'brien@contoso.com")
        )
        assert updated.status == AlertStatus.InProgress
        await client.security.alerts_v2.by_alert_id(alert_id).comments.post(
            [AlertComment(comment="Triage comment \u2013 O'Brien")]
        )
        again = await client.security.alerts_v2.by_alert_id(alert_id).get()
        assert again.assigned_to == "o'brien@contoso.com"
        assert again.comments[-1].comment == "Triage comment \u2013 O'Brien"

    run(adapter, scenario)


def test_errors_surface_as_odata_error(server) -> None:
    from msgraph_beta.generated.models.o_data_errors.o_data_error import ODataError

    client, adapter = beta_client(server)

    async def scenario() -> None:
        with pytest.raises(ODataError) as missing:
            await client.security.alerts_v2.by_alert_id("no-such-alert").get()
        assert missing.value.response_status_code == 404
        assert missing.value.error.code == "itemNotFound"
        with pytest.raises(APIError) as bad:
            await client.identity_governance.role_management_alerts.alerts.get()
        assert bad.value.response_status_code == 400

    run(adapter, scenario)


def test_partner_alerts_list_get_patch(server) -> None:
    from msgraph_beta.generated.models.partner.security.partner_security_alert import (
        PartnerSecurityAlert,
    )
    from msgraph_beta.generated.models.partner.security.security_alert_resolved_reason import (
        SecurityAlertResolvedReason,
    )
    from msgraph_beta.generated.models.partner.security.security_alert_status import (
        SecurityAlertStatus,
    )

    client, adapter = beta_client(server)

    async def scenario() -> None:
        alerts = await client.security.partner.security_alerts.get()
        assert alerts.value
        target = next(a for a in alerts.value if a.status != SecurityAlertStatus.Resolved)
        builder = client.security.partner.security_alerts.by_partner_security_alert_id(target.id)
        await builder.patch(
            PartnerSecurityAlert(
                status=SecurityAlertStatus.Resolved,
                resolved_reason=SecurityAlertResolvedReason.Fraud,
            )
        )
        after = await builder.get()
        assert after.status == SecurityAlertStatus.Resolved
        assert after.resolved_reason == SecurityAlertResolvedReason.Fraud
        assert after.activity_logs[-1].status_to == SecurityAlertStatus.Resolved
        assert after.resolved_by

    run(adapter, scenario)


def test_pim_expand_configuration_and_actions(server) -> None:
    from msgraph_beta.generated.identity_governance.role_management_alerts.alerts.alerts_request_builder import (  # noqa: E501
        AlertsRequestBuilder,
    )
    from msgraph_beta.generated.identity_governance.role_management_alerts.alerts.refresh.refresh_post_request_body import (  # noqa: E501
        RefreshPostRequestBody,
    )
    from msgraph_beta.generated.models.stale_sign_in_alert_configuration import (
        StaleSignInAlertConfiguration,
    )
    from msgraph_beta.generated.models.unified_role_management_alert import (
        UnifiedRoleManagementAlert,
    )

    client, adapter = beta_client(server)
    pim = client.identity_governance.role_management_alerts

    async def scenario() -> None:
        params = AlertsRequestBuilder.AlertsRequestBuilderGetQueryParameters(
            filter=PIM_SCOPE, expand=["alertDefinition", "alertConfiguration", "alertIncidents"]
        )
        alerts = await pim.alerts.get(RequestConfiguration(query_parameters=params))
        assert len(alerts.value) == 7
        stale = next(a for a in alerts.value if a.id.endswith("_StaleSignInAlert"))
        assert isinstance(stale.alert_configuration, StaleSignInAlertConfiguration)
        assert stale.alert_definition.display_name
        assert stale.incident_count == len(stale.alert_incidents)

        config_id = stale.alert_configuration.id
        await pim.alert_configurations.by_unified_role_management_alert_configuration_id(
            config_id
        ).patch(StaleSignInAlertConfiguration(is_enabled=False))
        config = await pim.alert_configurations.by_unified_role_management_alert_configuration_id(
            config_id
        ).get()
        assert config.is_enabled is False

        await pim.alerts.refresh.post(
            RefreshPostRequestBody(scope_id="/", scope_type="DirectoryRole")
        )
        await pim.alerts.by_unified_role_management_alert_id(stale.id).refresh.post()

        incident_id = stale.alert_incidents[0].id
        await (
            pim.alerts.by_unified_role_management_alert_id(stale.id)
            .alert_incidents.by_unified_role_management_alert_incident_id(incident_id)
            .remediate.post()
        )
        after = await pim.alerts.by_unified_role_management_alert_id(stale.id).get()
        assert after.incident_count == stale.incident_count - 1

        await pim.alerts.by_unified_role_management_alert_id(stale.id).patch(
            UnifiedRoleManagementAlert(is_active=False)
        )
        dismissed = await pim.alerts.by_unified_role_management_alert_id(stale.id).get()
        assert dismissed.is_active is False

    run(adapter, scenario)


def test_v1_sdk_reads_alerts_v2(server) -> None:
    from msgraph.generated.security.alerts_v2.alerts_v2_request_builder import (
        Alerts_v2RequestBuilder,
    )

    client, adapter = v1_client(server)

    async def scenario() -> None:
        params = Alerts_v2RequestBuilder.Alerts_v2RequestBuilderGetQueryParameters(
            filter="status eq 'new'", top=3
        )
        page = await client.security.alerts_v2.get(RequestConfiguration(query_parameters=params))
        assert page.value
        assert len(page.value) <= 3
        assert all(a.status.value == "new" for a in page.value)
        one = await client.security.alerts_v2.by_alert_id(page.value[0].id).get()
        assert one.id == page.value[0].id

    run(adapter, scenario)
