"""Acceptance: /security/partner/securityAlerts (P1-P3) through the official beta SDK."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from kiota_abstractions.base_request_configuration import RequestConfiguration

from tests.sdk.conftest import Sdk, native, unmapped

pytestmark = [
    pytest.mark.sdk,
    pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning"),
    pytest.mark.filterwarnings("ignore::ResourceWarning"),
]


def query(**options: Any) -> RequestConfiguration[Any]:
    from msgraph_beta.generated.security.partner.security_alerts.security_alerts_request_builder import (  # noqa: E501
        SecurityAlertsRequestBuilder,
    )

    params = SecurityAlertsRequestBuilder.SecurityAlertsRequestBuilderGetQueryParameters(**options)
    return RequestConfiguration(query_parameters=params)


async def active_alerts(client: Any) -> list[Any]:
    page = await client.security.partner.security_alerts.get(
        query(filter="status eq 'active'", orderby=["detectedDateTime asc", "id"])
    )
    return list(page.value)


def test_list_filter_select_count_and_get(sdk: Sdk) -> None:
    from msgraph_beta.generated.models.partner.security.security_alert_status import (
        SecurityAlertStatus,
    )
    from msgraph_core import PageIterator

    client = sdk.beta()
    alerts = client.security.partner.security_alerts

    async def scenario() -> None:
        first = await alerts.get(query(count=True))
        seen: list[Any] = []
        await PageIterator(first, client.request_adapter).iterate(lambda a: seen.append(a) or True)
        assert (
            first.odata_count == len(seen) == len({a.id for a in seen}) == await alerts.count.get()
        )
        for alert in seen:
            assert unmapped(alert) == [], alert.id
            assert alert.status is not None
            assert alert.severity is not None
            assert isinstance(alert.is_test, bool)
            assert alert.detected_date_time.tzinfo is not None
            assert alert.affected_resources
            assert all(log.status_to is not None for log in alert.activity_logs)

        resolved = await alerts.get(
            query(filter="status eq 'resolved'", select=["id", "status", "resolvedBy"], count=True)
        )
        assert resolved.value
        assert resolved.odata_count == len(resolved.value)
        assert all(a.status == SecurityAlertStatus.Resolved for a in resolved.value)
        assert all(a.display_name is None for a in resolved.value)

        one = await alerts.by_partner_security_alert_id(seen[0].id).get()
        assert one.id == seen[0].id
        assert one.display_name == seen[0].display_name
        assert one.additional_details.additional_data == seen[0].additional_details.additional_data
        assert one.additional_details.additional_data

    sdk.run(scenario)


def test_status_changes_grow_the_activity_log(sdk: Sdk) -> None:
    from msgraph_beta.generated.models.partner.security.partner_security_alert import (
        PartnerSecurityAlert,
    )
    from msgraph_beta.generated.models.partner.security.security_alert_resolved_reason import (
        SecurityAlertResolvedReason,
    )
    from msgraph_beta.generated.models.partner.security.security_alert_status import (
        SecurityAlertStatus,
    )

    client = sdk.beta()

    async def scenario() -> None:
        target = (await active_alerts(client))[0]
        item = client.security.partner.security_alerts.by_partner_security_alert_id(target.id)
        logs = len(target.activity_logs)
        started = datetime.now(UTC) - timedelta(seconds=5)

        response = await item.patch(
            PartnerSecurityAlert(status=SecurityAlertStatus.Investigating), native()
        )
        assert response.status_code == 200, response.text
        assert response.json()["status"] == "investigating"
        resolved = await item.patch(
            PartnerSecurityAlert(
                status=SecurityAlertStatus.Resolved,
                resolved_reason=SecurityAlertResolvedReason.Legitimate,
            )
        )
        assert resolved.resolved_reason == SecurityAlertResolvedReason.Legitimate
        assert resolved.resolved_by
        assert resolved.resolved_on_date_time >= started
        reopened = await item.patch(PartnerSecurityAlert(status=SecurityAlertStatus.Active))
        assert reopened.resolved_by is None
        assert reopened.resolved_reason is None

        after = await item.get()
        added = after.activity_logs[logs:]
        assert [(log.status_from, log.status_to) for log in added] == [
            (SecurityAlertStatus.Active, SecurityAlertStatus.Investigating),
            (SecurityAlertStatus.Investigating, SecurityAlertStatus.Resolved),
            (SecurityAlertStatus.Resolved, SecurityAlertStatus.Active),
        ]
        assert all(log.updated_by and log.updated_date_time >= started for log in added)

        # the same status again is not a change: no new log entry
        await item.patch(PartnerSecurityAlert(status=SecurityAlertStatus.Active))
        assert len((await item.get()).activity_logs) == logs + 3

    sdk.run(scenario)


def test_errors(sdk: Sdk) -> None:
    from msgraph_beta.generated.models.o_data_errors.o_data_error import ODataError
    from msgraph_beta.generated.models.partner.security.partner_security_alert import (
        PartnerSecurityAlert,
    )
    from msgraph_beta.generated.models.partner.security.security_alert_resolved_reason import (
        SecurityAlertResolvedReason,
    )
    from msgraph_beta.generated.models.partner.security.security_alert_status import (
        SecurityAlertStatus,
    )

    client = sdk.beta()
    reader = sdk.beta(
        sdk.server.token(
            "--app-id",
            "11111111-2222-3333-4444-555555555555",
            "--role",
            "PartnerSecurity.Read.All",
        )
    )
    alerts = client.security.partner.security_alerts

    async def scenario() -> None:
        with pytest.raises(ODataError) as missing:
            await alerts.by_partner_security_alert_id("no-such-alert").get()
        assert missing.value.response_status_code == 404
        assert missing.value.error.code == "itemNotFound"

        target = (await active_alerts(client))[1]
        item = alerts.by_partner_security_alert_id(target.id)
        with pytest.raises(ODataError) as no_status:
            await item.patch(
                PartnerSecurityAlert(resolved_reason=SecurityAlertResolvedReason.Fraud)
            )
        assert no_status.value.response_status_code == 400
        assert "status" in no_status.value.error.message
        with pytest.raises(ODataError) as read_only:
            await item.patch(
                PartnerSecurityAlert(status=SecurityAlertStatus.Resolved, display_name="x")
            )
        assert read_only.value.response_status_code == 400
        with pytest.raises(ODataError) as create:
            await alerts.post(PartnerSecurityAlert(status=SecurityAlertStatus.Active))
        assert create.value.response_status_code == 405

        assert (
            await reader.security.partner.security_alerts.by_partner_security_alert_id(
                target.id
            ).get()
        ).id == target.id
        with pytest.raises(ODataError) as forbidden:
            await reader.security.partner.security_alerts.by_partner_security_alert_id(
                target.id
            ).patch(PartnerSecurityAlert(status=SecurityAlertStatus.Resolved))
        assert forbidden.value.response_status_code == 403
        assert forbidden.value.error.code == "Forbidden"
        assert (await item.get()).status == SecurityAlertStatus.Active

    sdk.run(scenario)
