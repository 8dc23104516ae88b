"""Acceptance: /security/alerts_v2 (S1-S7) driven only through the official SDKs' request builders.

Written as a connector author would write it: no hand-made URLs or bodies, enums through the SDK's
enum classes, errors caught as the SDK's ODataError. Runs against ``alertgraph serve --demo`` on
SQLite and PostgreSQL (one server per database for the whole module).
"""

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

NON_NULL_ENUMS = ("severity", "status", "service_source")


def query(**options: Any) -> RequestConfiguration[Any]:
    from msgraph_beta.generated.security.alerts_v2.alerts_v2_request_builder import (
        Alerts_v2RequestBuilder,
    )

    params = Alerts_v2RequestBuilder.Alerts_v2RequestBuilderGetQueryParameters(**options)
    return RequestConfiguration(query_parameters=params)


async def all_alerts(client: Any, **options: Any) -> list[Any]:
    """Every alert of a listing, following nextLinks with the SDK's PageIterator."""
    from msgraph_core import PageIterator

    first = await client.security.alerts_v2.get(query(**options) if options else None)
    seen: list[Any] = []

    def collect(item: Any) -> bool:
        seen.append(item)
        return True

    await PageIterator(first, client.request_adapter).iterate(collect)
    return seen


def evidence_of(alert: Any, kind: type) -> list[Any]:
    return [item for item in alert.evidence or [] if isinstance(item, kind)]


def test_page_iterator_reads_every_alert_fully_typed(sdk: Sdk) -> None:
    from msgraph_beta.generated.models.security.alert_evidence import AlertEvidence

    client = sdk.beta()

    async def scenario() -> None:
        alerts = await all_alerts(client)
        total = await client.security.alerts_v2.count.get()
        assert total == len(alerts) == len({a.id for a in alerts}) > 100  # more than one page
        created = [a.created_date_time for a in alerts]
        assert created == sorted(created, reverse=True)  # newest first across pages
        for alert in alerts:
            # everything the server sends has a home in the SDK model, evidence trees included
            assert unmapped(alert) == [], alert.id
            assert alert.odata_type == "#microsoft.graph.security.alert"
            for name in NON_NULL_ENUMS:
                assert getattr(alert, name) is not None, (alert.id, name)
            assert alert.created_date_time.tzinfo is not None
            assert alert.incident_id
            assert alert.title
            assert alert.alert_web_url
            for item in alert.evidence:
                # derived evidence types are chosen from @odata.type, never left as the base
                assert type(item) is not AlertEvidence, (alert.id, item.additional_data)
                assert item.verdict is not None
                assert item.remediation_status is not None

        # evolvable enum members only for callers that ask for them (Graph's Prefer header)
        hidden = next(a for a in alerts if a.detection_source.value == "unknownFutureValue")
        config = RequestConfiguration()
        config.headers.add("Prefer", "include-unknown-enum-members")
        shown = await client.security.alerts_v2.by_alert_id(hidden.id).get(config)
        assert shown.detection_source not in (None, hidden.detection_source)

    sdk.run(scenario)


def test_list_with_every_query_option(sdk: Sdk) -> None:
    from msgraph_beta.generated.models.security.alert_severity import AlertSeverity
    from msgraph_beta.generated.models.security.device_evidence import DeviceEvidence
    from msgraph_beta.generated.models.security.user_evidence import UserEvidence

    client = sdk.beta()

    async def scenario() -> None:
        page = await client.security.alerts_v2.get(
            query(
                filter="severity eq 'high'", select=["id", "title", "severity"], top=5, count=True
            )
        )
        assert 0 < len(page.value) <= 5
        assert all(a.severity == AlertSeverity.High for a in page.value)
        assert all(a.description is None and a.evidence is None for a in page.value)
        high = await all_alerts(client, filter="severity eq 'high'", select=["id"])
        assert page.odata_count == len(high)

        ordered = await client.security.alerts_v2.get(
            query(
                orderby=["lastUpdateDateTime asc", "id"],
                top=10,
                select=["id", "lastUpdateDateTime"],
            )
        )
        stamps = [a.last_update_date_time for a in ordered.value]
        assert len(stamps) == 10
        assert stamps == sorted(stamps)
        shifted = await client.security.alerts_v2.get(
            query(orderby=["lastUpdateDateTime asc", "id"], top=5, skip=5, select=["id"])
        )
        assert [a.id for a in shifted.value] == [a.id for a in ordered.value[5:]]

        # evidence lambdas with a type cast, as Graph's migration guide writes them
        sample = await all_alerts(client, select=["id", "evidence"])
        users = {
            item.user_account.user_principal_name: alert.id
            for alert in sample
            for item in evidence_of(alert, UserEvidence)
            if item.user_account and item.user_account.user_principal_name
        }
        upn, some_alert = sorted(users.items())[0]
        by_user = await all_alerts(
            client,
            filter="evidence/any(e: e/microsoft.graph.security.userEvidence/userAccount/"
            f"userPrincipalName eq '{upn}')",
        )
        expected = {
            alert.id
            for alert in sample
            if any(
                i.user_account.user_principal_name == upn for i in evidence_of(alert, UserEvidence)
            )
        }
        assert some_alert in expected
        assert {a.id for a in by_user} == expected
        devices = {
            item.device_dns_name
            for alert in sample
            for item in evidence_of(alert, DeviceEvidence)
            if item.device_dns_name
        }
        device = sorted(devices)[0]
        by_device = await all_alerts(
            client,
            filter="evidence/any(e: e/microsoft.graph.security.deviceEvidence/deviceDnsName eq "
            f"'{device}')",
        )
        assert by_device
        assert all(
            any(i.device_dns_name == device for i in evidence_of(a, DeviceEvidence))
            for a in by_device
        )

        # documented filterable properties, a datetime literal and a doubled quote
        newest = await client.security.alerts_v2.get(query(top=10, select=["createdDateTime"]))
        cutoff = newest.value[-1].created_date_time.replace(microsecond=0)
        literal = cutoff.strftime("%Y-%m-%dT%H:%M:%SZ")
        recent = await all_alerts(client, filter=f"createdDateTime ge {literal}", select=["id"])
        assert len(recent) >= 10
        newer = await all_alerts(
            client,
            filter=f"createdDateTime ge {literal} and "
            "serviceSource eq 'microsoftDefenderForEndpoint' and status ne 'resolved'",
            select=["id", "createdDateTime", "serviceSource", "status"],
        )
        assert all(
            a.created_date_time >= cutoff
            and a.service_source.value == "microsoftDefenderForEndpoint"
            and a.status.value != "resolved"
            for a in newer
        )
        none = await client.security.alerts_v2.get(query(filter="assignedTo eq 'o''nobody@x.test'"))
        assert none.value == []

    sdk.run(scenario)


def test_get_and_patch_each_updatable_property(sdk: Sdk) -> None:
    from msgraph_beta.generated.models.security.alert import Alert
    from msgraph_beta.generated.models.security.alert_classification import AlertClassification
    from msgraph_beta.generated.models.security.alert_determination import AlertDetermination
    from msgraph_beta.generated.models.security.alert_status import AlertStatus

    client = sdk.beta()

    async def scenario() -> None:
        page = await client.security.alerts_v2.get(query(filter="status eq 'new'", top=1))
        alert_id = page.value[0].id
        item = client.security.alerts_v2.by_alert_id(alert_id)
        before = await item.get()
        assert before.id == alert_id
        assert before.status == AlertStatus.New

        started = datetime.now(UTC) - timedelta(seconds=5)
        updated = await item.patch(Alert(status=AlertStatus.InProgress))
        assert updated.status == AlertStatus.InProgress
        assert updated.last_update_date_time >= started
        assert updated.title == before.title  # a full entity comes back, not only the change
        updated = await item.patch(Alert(classification=AlertClassification.TruePositive))
        assert updated.classification == AlertClassification.TruePositive
        assert updated.status == AlertStatus.InProgress  # partial update keeps the rest
        updated = await item.patch(Alert(determination=AlertDetermination.Malware))
        assert updated.determination == AlertDetermination.Malware
        updated = await item.patch(Alert(assigned_to="o'brien@contoso.com"))
        assert updated.assigned_to == "o'brien@contoso.com"
        resolved = await item.patch(Alert(status=AlertStatus.Resolved))
        assert resolved.resolved_date_time is not None
        cleared = await item.patch(Alert(additional_data={"assignedTo": None}))
        assert cleared.assigned_to is None

        again = await item.get()
        assert (again.status, again.classification, again.determination, again.assigned_to) == (
            AlertStatus.Resolved,
            AlertClassification.TruePositive,
            AlertDetermination.Malware,
            None,
        )
        selected = await item.get(
            RequestConfiguration(
                query_parameters=item.AlertItemRequestBuilderGetQueryParameters(
                    select=["id", "status"]
                )
            )
        )
        assert selected.status == AlertStatus.Resolved
        assert selected.title is None

    sdk.run(scenario)


def test_comments_post_and_read_back(sdk: Sdk) -> None:
    from msgraph_beta.generated.models.security.alert_comment import AlertComment

    client = sdk.beta()

    async def scenario() -> None:
        page = await client.security.alerts_v2.get(query(filter="status eq 'inProgress'", top=1))
        item = client.security.alerts_v2.by_alert_id(page.value[0].id)
        before = await item.get()
        await item.comments.post([AlertComment(comment="First look \u2013 O'Brien")])
        await item.comments.post([AlertComment(comment="Escalated")])
        after = await item.get()
        added = after.comments[len(before.comments) :]
        assert [c.comment for c in added] == ["First look \u2013 O'Brien", "Escalated"]
        assert all(c.created_by_display_name and c.created_date_time.tzinfo for c in added)
        assert after.last_update_date_time >= before.last_update_date_time

    sdk.run(scenario)


def entities() -> list[Any]:
    from msgraph_beta.generated.models.security.entity_definition_input import (
        EntityDefinitionInput,
    )
    from msgraph_beta.generated.models.security.entity_definition_input_role import (
        EntityDefinitionInputRole,
    )
    from msgraph_beta.generated.models.security.manual_alert_entity_type import (
        ManualAlertEntityType,
    )

    return [
        EntityDefinitionInput(
            entity_type=ManualAlertEntityType.User,
            entity_identifier="userPrincipalName",
            identifier_value="megan.bowen@contoso.com",
            role=EntityDefinitionInputRole.Impacted,
        ),
        EntityDefinitionInput(
            entity_type=ManualAlertEntityType.Ip,
            entity_identifier="address",
            identifier_value="203.0.113.7",
            role=EntityDefinitionInputRole.Related,
        ),
    ]


def test_manual_alert_create_and_link(sdk: Sdk) -> None:
    from msgraph_beta.generated.models.security.alert_determination import AlertDetermination
    from msgraph_beta.generated.models.security.alert_severity import AlertSeverity
    from msgraph_beta.generated.models.security.alert_status import AlertStatus
    from msgraph_beta.generated.models.security.ip_evidence import IpEvidence
    from msgraph_beta.generated.models.security.manual_alert import ManualAlert
    from msgraph_beta.generated.models.security.user_evidence import UserEvidence

    client = sdk.beta()

    async def scenario() -> None:
        created = await client.security.alerts_v2.post(
            ManualAlert(
                odata_type="#microsoft.graph.security.manualAlert",
                title="Suspicious sign-in reported by the helpdesk",
                description="User reported an MFA prompt they did not start.",
                category="InitialAccess",
                severity=AlertSeverity.Medium,
                mitre_techniques=["T1078"],
                entity_definitions=entities(),
            )
        )
        assert created.id.endswith("_aml")
        assert created.provider_alert_id.startswith("manual_")
        assert created.odata_type == "#microsoft.graph.security.alert"
        assert (created.status, created.determination) == (
            AlertStatus.New,
            AlertDetermination.Unknown,
        )
        assert created.detection_source.value == "manual"
        assert created.service_source.value == "microsoft365Defender"
        assert created.created_date_time == created.last_update_date_time
        assert created.mitre_techniques == ["T1078"]
        assert len(evidence_of(created, UserEvidence)) == len(evidence_of(created, IpEvidence)) == 1
        incident = await client.security.incidents.by_incident_id(created.incident_id).get()
        assert incident.severity.value == "medium"

        linked = await client.security.alerts_v2.post(
            ManualAlert(
                odata_type="#microsoft.graph.security.manualAlert",
                title="Follow-up",
                description="Same user, second report.",
                category="InitialAccess",
                severity=AlertSeverity.High,
                link_to_incident=int(created.incident_id),
                entity_definitions=entities()[:1],
            )
        )
        assert linked.incident_id == created.incident_id
        fetched = await client.security.alerts_v2.by_alert_id(linked.id).get()
        assert fetched.title == "Follow-up"

    sdk.run(scenario)


def test_create_alert_action(sdk: Sdk) -> None:
    from msgraph_beta.generated.models.security.alert_severity import AlertSeverity
    from msgraph_beta.generated.models.security.create_alert_input import CreateAlertInput
    from msgraph_beta.generated.models.security.entity_definition import EntityDefinition
    from msgraph_beta.generated.models.security.entity_definition_input_role import (
        EntityDefinitionInputRole,
    )
    from msgraph_beta.generated.models.security.manual_alert_entity_type import (
        ManualAlertEntityType,
    )
    from msgraph_beta.generated.security.alerts_v2.microsoft_graph_security_create_alert.create_alert_post_request_body import (  # noqa: E501
        CreateAlertPostRequestBody,
    )

    client = sdk.beta()

    async def scenario() -> None:
        body = CreateAlertPostRequestBody(
            create_alert_input=CreateAlertInput(
                title="Phishing mail reported",
                description="Reported through the phish button.",
                category="InitialAccess",
                severity=AlertSeverity.Low,
                recommended_actions="Purge the message.",
                entity_definitions=[
                    EntityDefinition(
                        entity_type=ManualAlertEntityType.Device,
                        entity_identifier="deviceName",
                        identifier_value="wks-042.contoso.com",
                        role=EntityDefinitionInputRole.Impacted,
                    )
                ],
            )
        )
        response = await client.security.alerts_v2.microsoft_graph_security_create_alert.post(
            body, native()
        )
        assert response.status_code == 201, response.text
        created = await client.security.alerts_v2.microsoft_graph_security_create_alert.post(body)
        assert created.title == "Phishing mail reported"
        assert created.recommended_actions == "Purge the message."
        assert created.evidence[0].device_dns_name == "wks-042.contoso.com"
        assert (await client.security.alerts_v2.by_alert_id(created.id).get()).id == created.id

    sdk.run(scenario)


def test_move_alerts(sdk: Sdk) -> None:
    from msgraph_beta.generated.models.security.correlation_reason import CorrelationReason
    from msgraph_beta.generated.security.alerts_v2.microsoft_graph_security_move_alerts.move_alerts_post_request_body import (  # noqa: E501
        MoveAlertsPostRequestBody,
    )

    client = sdk.beta()

    async def scenario() -> None:
        page = await client.security.alerts_v2.get(
            query(
                filter="status eq 'new'",
                orderby=["createdDateTime asc"],
                top=30,
                select=["id", "incidentId"],
            )
        )
        by_incident: dict[str, list[str]] = {}
        for alert in page.value:
            by_incident.setdefault(alert.incident_id, []).append(alert.id)
        source, target = sorted(by_incident)[:2]
        moving = by_incident[source][0]
        move = client.security.alerts_v2.microsoft_graph_security_move_alerts
        result = await move.post(
            MoveAlertsPostRequestBody(
                alert_ids=[moving],
                incident_id=target,
                alert_comment="Same campaign",
                new_correlation_reasons=CorrelationReason.SameCampaign,
            )
        )
        assert result.target_incident_id == target
        moved = await client.security.alerts_v2.by_alert_id(moving).get()
        assert moved.incident_id == target
        assert moved.comments[-1].comment == "Same campaign"
        members = await client.security.incidents.by_incident_id(target).alerts.get()
        assert moving in {a.id for a in members.value}

        fresh = await move.post(MoveAlertsPostRequestBody(alert_ids=[moving]))
        assert fresh.target_incident_id not in (source, target)
        assert (await client.security.alerts_v2.by_alert_id(moving).get()).incident_id == (
            fresh.target_incident_id
        )

    sdk.run(scenario)


def test_errors_arrive_as_odata_errors(sdk: Sdk) -> None:
    from msgraph_beta.generated.models.o_data_errors.o_data_error import ODataError
    from msgraph_beta.generated.models.security.alert import Alert
    from msgraph_beta.generated.models.security.alert_severity import AlertSeverity
    from msgraph_beta.generated.models.security.alert_status import AlertStatus
    from msgraph_beta.generated.models.security.create_alert_input import CreateAlertInput
    from msgraph_beta.generated.models.security.entity_definition import EntityDefinition
    from msgraph_beta.generated.models.security.entity_definition_input_role import (
        EntityDefinitionInputRole,
    )
    from msgraph_beta.generated.models.security.manual_alert import ManualAlert
    from msgraph_beta.generated.models.security.manual_alert_entity_type import (
        ManualAlertEntityType,
    )
    from msgraph_beta.generated.security.alerts_v2.microsoft_graph_security_create_alert.create_alert_post_request_body import (  # noqa: E501
        CreateAlertPostRequestBody,
    )
    from msgraph_beta.generated.security.alerts_v2.microsoft_graph_security_move_alerts.move_alerts_post_request_body import (  # noqa: E501
        MoveAlertsPostRequestBody,
    )

    client = sdk.beta()
    app = ("--app-id", "11111111-2222-3333-4444-555555555555", "--role")
    reader = sdk.beta(sdk.server.token(*app, "SecurityAlert.Read.All"))
    creator = sdk.beta(sdk.server.token(*app, "SecurityAlert.Create.All"))

    async def scenario() -> None:
        with pytest.raises(ODataError) as missing:
            await client.security.alerts_v2.by_alert_id("no-such-alert").get()
        assert (missing.value.response_status_code, missing.value.error.code) == (
            404,
            "itemNotFound",
        )
        with pytest.raises(ODataError) as patch_missing:
            await client.security.alerts_v2.by_alert_id("no-such-alert").patch(
                Alert(status=AlertStatus.Resolved)
            )
        assert patch_missing.value.response_status_code == 404

        with pytest.raises(ODataError) as bad_filter:
            await client.security.alerts_v2.get(query(filter="severity eq 'hgih'"))
        assert bad_filter.value.response_status_code == 400
        assert bad_filter.value.error.code
        assert bad_filter.value.error.message
        with pytest.raises(ODataError) as search:
            await client.security.alerts_v2.get(query(search='"mimikatz"'))
        assert search.value.response_status_code == 400
        with pytest.raises(ODataError) as top:
            await client.security.alerts_v2.get(query(top=2001))
        assert top.value.response_status_code == 400

        page = await client.security.alerts_v2.get(query(top=1, select=["id"]))
        item = client.security.alerts_v2.by_alert_id(page.value[0].id)
        with pytest.raises(ODataError) as future:
            await item.patch(Alert(status=AlertStatus.UnknownFutureValue))
        assert future.value.response_status_code == 400
        with pytest.raises(ODataError) as read_only:
            await item.patch(Alert(title="renamed"))
        assert read_only.value.response_status_code == 400
        assert "title" in read_only.value.error.message
        with pytest.raises(ODataError) as untyped:
            await client.security.alerts_v2.post(
                ManualAlert(title="x", description="y", category="Execution")
            )
        assert untyped.value.response_status_code == 400
        assert "manualAlert" in untyped.value.error.message

        listed = await reader.security.alerts_v2.get(query(top=1, select=["id"]))
        assert listed.value
        with pytest.raises(ODataError) as forbidden:
            await reader.security.alerts_v2.by_alert_id(page.value[0].id).patch(
                Alert(status=AlertStatus.InProgress)
            )
        assert forbidden.value.response_status_code == 403
        assert forbidden.value.error.code == "Forbidden"
        with pytest.raises(ODataError) as forbidden_move:
            await reader.security.alerts_v2.microsoft_graph_security_move_alerts.post(
                MoveAlertsPostRequestBody(alert_ids=[page.value[0].id])
            )
        assert forbidden_move.value.response_status_code == 403

        # SecurityAlert.Create.All (createAlert's least privilege) creates but can't update
        created = await creator.security.alerts_v2.microsoft_graph_security_create_alert.post(
            CreateAlertPostRequestBody(
                create_alert_input=CreateAlertInput(
                    title="Created with the narrow permission",
                    description="d",
                    category="Execution",
                    severity=AlertSeverity.Informational,
                    entity_definitions=[
                        EntityDefinition(
                            entity_type=ManualAlertEntityType.Url,
                            entity_identifier="url",
                            identifier_value="https://contoso.example/x",
                            role=EntityDefinitionInputRole.Related,
                        )
                    ],
                )
            )
        )
        assert created.title == "Created with the narrow permission"
        with pytest.raises(ODataError) as creator_patch:
            await creator.security.alerts_v2.by_alert_id(created.id).patch(
                Alert(status=AlertStatus.Resolved)
            )
        assert creator_patch.value.response_status_code == 403

    sdk.run(scenario)


def test_v1_sdk_lists_gets_patches_and_comments(sdk: Sdk) -> None:
    from msgraph.generated.models.security.alert import Alert
    from msgraph.generated.models.security.alert_comment import AlertComment
    from msgraph.generated.models.security.alert_status import AlertStatus
    from msgraph.generated.security.alerts_v2.alerts_v2_request_builder import (
        Alerts_v2RequestBuilder,
    )
    from msgraph_core import PageIterator

    client = sdk.v1()

    async def scenario() -> None:
        params = Alerts_v2RequestBuilder.Alerts_v2RequestBuilderGetQueryParameters(
            filter="status eq 'new' and severity ne 'informational'",
            count=True,
            select=["id", "status", "severity"],
        )
        first = await client.security.alerts_v2.get(RequestConfiguration(query_parameters=params))
        seen: list[Any] = []
        await PageIterator(first, client.request_adapter).iterate(lambda a: seen.append(a) or True)
        assert len(seen) == first.odata_count
        paged = Alerts_v2RequestBuilder.Alerts_v2RequestBuilderGetQueryParameters(top=3, count=True)
        three = await client.security.alerts_v2.get(RequestConfiguration(query_parameters=paged))
        assert len(three.value) == 3
        # $top is the page size: the SDK's iterator follows pages of three to the end
        assert "$top=3" in three.odata_next_link
        every: list[Any] = []
        await PageIterator(three, client.request_adapter).iterate(
            lambda a: every.append(a.id) or True
        )
        assert len(every) == len(set(every)) == three.odata_count
        assert all(a.status == AlertStatus.New for a in seen)

        item = client.security.alerts_v2.by_alert_id(seen[-1].id)
        one = await item.get()
        assert unmapped(one) == []
        assert one.evidence is not None
        patched = await item.patch(
            Alert(status=AlertStatus.InProgress, assigned_to="v1@contoso.com")
        )
        assert patched.status == AlertStatus.InProgress
        await item.comments.post([AlertComment(comment="from v1.0")])
        again = await item.get()
        assert again.comments[-1].comment == "from v1.0"
        assert again.assigned_to == "v1@contoso.com"

    sdk.run(scenario)
