"""$expand, navigation filters, contained sets and $skip paging (PIM and incidents)."""

from __future__ import annotations

from urllib.parse import quote, urlsplit

import pytest

from alertgraph.errors import NotFound, ODataError
from alertgraph.odata import count_collection, get_entity, list_collection
from alertgraph.schema.endpoints import entity_set
from alertgraph.store.database import Store

from .helpers import ROOT, alert, context, insert

PIM = entity_set("pim_alerts")
PIM_INCIDENTS = entity_set("pim_incidents")
PIM_CONFIGS = entity_set("pim_configurations")
INCIDENTS = entity_set("incidents")
SCOPE = "scopeId eq '/' and scopeType eq 'DirectoryRole'"
PIM_ROOT = "identityGovernance/roleManagementAlerts"
ADMINS = "microsoft.graph.tooManyGlobalAdminsAssignedToTenantAlertIncident"


def q(**options: str) -> str:
    return "&".join(f"${name}={quote(value, safe=',()=;$')}" for name, value in options.items())


@pytest.fixture
def pim(store: Store) -> Store:
    definitions = []
    configurations = []
    alerts = []
    for index, name in enumerate(["StaleSignInAlert", "TooManyGlobalAdminsAlert"]):
        definitions.append(
            {
                "id": f"DirectoryRole_t1_{name}",
                "displayName": name,
                "scopeId": "/",
                "scopeType": "DirectoryRole",
                "severityLevel": "medium",
                "isConfigurable": True,
                "isRemediatable": True,
            }
        )
        configurations.append(
            {
                "@odata.type": "#microsoft.graph.staleSignInAlertConfiguration"
                if index == 0
                else "#microsoft.graph.tooManyGlobalAdminsAssignedToTenantAlertConfiguration",
                "id": f"DirectoryRole_t1_{name}",
                "alertDefinitionId": f"DirectoryRole_t1_{name}",
                "scopeId": "/",
                "scopeType": "DirectoryRole",
                "isEnabled": index == 0,
            }
        )
        alerts.append(
            {
                "id": f"DirectoryRole_t1_{name}",
                "alertDefinitionId": f"DirectoryRole_t1_{name}",
                "scopeId": "/",
                "scopeType": "DirectoryRole",
                "incidentCount": 3 * index,
                "isActive": True,
            }
        )
    insert(store, "pim_definitions", definitions)
    insert(store, "pim_configurations", configurations)
    insert(store, "pim_alerts", alerts)
    incidents = [
        {
            "@odata.type": "#microsoft.graph.tooManyGlobalAdminsAssignedToTenantAlertIncident",
            "id": f"user{i}",
            "assigneeDisplayName": f"User {i}",
            "assigneeId": f"user{i}",
            "assigneeUserPrincipalName": f"user{i}@contoso.com",
        }
        for i in range(7)
    ]
    insert(store, "pim_incidents", incidents, parent="DirectoryRole_t1_TooManyGlobalAdminsAlert")
    return store


def test_pim_expand_all_three(pim: Store) -> None:
    body = list_collection(
        context(pim),
        PIM,
        q(filter=SCOPE, expand="alertDefinition,alertConfiguration,alertIncidents"),
    )
    assert body["@odata.context"] == (
        f"{ROOT}/$metadata#{PIM_ROOT}/alerts(alertDefinition(),alertConfiguration(),"
        "alertIncidents())"
    )
    admins = next(a for a in body["value"] if a["id"].endswith("TooManyGlobalAdminsAlert"))
    assert admins["alertDefinition"]["displayName"] == "TooManyGlobalAdminsAlert"
    assert admins["alertConfiguration"]["@odata.type"] == (
        "#microsoft.graph.tooManyGlobalAdminsAssignedToTenantAlertConfiguration"
    )
    assert admins["alertIncidents@odata.context"] == (
        f"{ROOT}/$metadata#{PIM_ROOT}/alerts('DirectoryRole_t1_TooManyGlobalAdminsAlert')"
        "/alertIncidents"
    )
    assert len(admins["alertIncidents"]) == 7
    assert admins["alertIncidents"][0]["@odata.type"].endswith("AlertIncident")
    stale = next(a for a in body["value"] if a["id"].endswith("StaleSignInAlert"))
    assert stale["alertIncidents"] == []


def test_pim_expand_star_and_nested_options(pim: Store) -> None:
    body = list_collection(
        context(pim),
        PIM,
        q(filter=SCOPE, expand="alertIncidents($select=id;$top=2;$orderby=id desc),*"),
    )
    assert "alertIncidents(id)" in body["@odata.context"]
    admins = next(a for a in body["value"] if a["id"].endswith("TooManyGlobalAdminsAlert"))
    assert [i["id"] for i in admins["alertIncidents"]] == ["user6", "user5"]
    assert set(admins["alertIncidents"][0]) == {"@odata.type", "id"}
    assert "alertDefinition" in admins


def test_filter_through_single_navigation(pim: Store) -> None:
    body = list_collection(
        context(pim), PIM, q(filter=f"{SCOPE} and alertConfiguration/isEnabled eq false")
    )
    assert [a["id"] for a in body["value"]] == ["DirectoryRole_t1_TooManyGlobalAdminsAlert"]
    body = list_collection(
        context(pim),
        PIM,
        q(filter=f"{SCOPE} and alertDefinition/displayName eq 'StaleSignInAlert'"),
    )
    assert [a["id"] for a in body["value"]] == ["DirectoryRole_t1_StaleSignInAlert"]


@pytest.mark.parametrize(
    ("condition", "expected"),
    [
        (
            f"alertIncidents/any(i: i/{ADMINS}/assigneeId eq 'user3')",
            ["TooManyGlobalAdminsAlert"],
        ),
        ("alertIncidents/any()", ["TooManyGlobalAdminsAlert"]),
        ("not alertIncidents/any()", ["StaleSignInAlert"]),
        (
            f"alertIncidents/all(i: startswith(i/{ADMINS}/assigneeId, 'user'))",
            ["StaleSignInAlert", "TooManyGlobalAdminsAlert"],
        ),
        (
            f"alertIncidents/all(i: i/{ADMINS}/assigneeId eq 'user3')",
            ["StaleSignInAlert"],
        ),
        (
            f"alertIncidents/any(i: i/{ADMINS}/assigneeId eq $it/id)",
            [],
        ),
    ],
)
def test_lambda_over_related_entities(pim: Store, condition: str, expected: list[str]) -> None:
    body = list_collection(context(pim), PIM, q(filter=f"{SCOPE} and {condition}"))
    assert sorted(a["id"].rsplit("_", 1)[1] for a in body["value"]) == expected


def test_incidents_filter_on_their_alerts(store: Store) -> None:
    insert(store, "incidents", [{"id": "i1"}, {"id": "i2"}])
    insert(store, "alerts_v2", [alert(1, incidentId="i1"), alert(2, incidentId="i2")])
    insert(store, "alerts_v2", [alert(3, incidentId="i1", severity="high")], tenant="t2")
    body = list_collection(
        context(store), INCIDENTS, q(filter="alerts/any(a: a/severity eq 'high')")
    )
    assert [i["id"] for i in body["value"]] == ["i2"]


def test_pim_incidents_page_with_skip_links(pim: Store) -> None:
    parent = "DirectoryRole_t1_TooManyGlobalAdminsAlert"
    body = list_collection(context(pim), PIM_INCIDENTS, "$top=5", parent_key=parent)
    assert body["@odata.context"] == (
        f"{ROOT}/$metadata#{PIM_ROOT}/alerts('{parent}')/alertIncidents"
    )
    assert len(body["value"]) == 5
    assert body["@odata.nextLink"] == (
        f"{ROOT}/{PIM_ROOT}/alerts('{parent}')/alertIncidents?$top=5&$skip=5"
    )
    body = list_collection(
        context(pim), PIM_INCIDENTS, urlsplit(body["@odata.nextLink"]).query, parent_key=parent
    )
    assert [i["id"] for i in body["value"]] == ["user5", "user6"]
    assert "@odata.nextLink" not in body
    assert count_collection(context(pim), PIM_INCIDENTS, "", parent_key=parent) == 7


def test_contained_get_and_missing_parent(pim: Store) -> None:
    parent = "DirectoryRole_t1_TooManyGlobalAdminsAlert"
    body = get_entity(context(pim), PIM_INCIDENTS, "user3", "", parent_key=parent)
    assert body["@odata.context"] == (
        f"{ROOT}/$metadata#{PIM_ROOT}/alerts('{parent}')/alertIncidents/$entity"
    )
    with pytest.raises(NotFound):
        list_collection(context(pim), PIM_INCIDENTS, "", parent_key="nope")
    with pytest.raises(NotFound):
        get_entity(
            context(pim), PIM_INCIDENTS, "user3", "", parent_key="DirectoryRole_t1_StaleSignInAlert"
        )
    with pytest.raises(NotFound):
        list_collection(context(pim, tenant="t2"), PIM_INCIDENTS, "", parent_key=parent)


def test_get_with_expand(pim: Store) -> None:
    body = get_entity(
        context(pim),
        PIM,
        "DirectoryRole_t1_StaleSignInAlert",
        q(expand="alertDefinition", select="id"),
    )
    assert body["@odata.context"] == (
        f"{ROOT}/$metadata#{PIM_ROOT}/alerts(id,alertDefinition())/$entity"
    )
    assert set(body) == {"@odata.context", "id", "alertDefinition"}


def test_incidents_expand_alerts_one_query_per_navigation(store: Store) -> None:
    insert(
        store,
        "incidents",
        [
            {"id": "i1", "displayName": "one", "createdDateTime": "2024-05-01T00:00:00Z"},
            {"id": "i2", "displayName": "two", "createdDateTime": "2024-05-02T00:00:00Z"},
        ],
    )
    insert(
        store,
        "alerts_v2",
        [alert(1, incidentId="i1"), alert(2, incidentId="i1"), alert(3, incidentId="i2")],
    )
    statements: list[str] = []
    from sqlalchemy import event

    def record(conn, cursor, statement, *args):
        statements.append(statement)

    event.listen(store.engine, "before_cursor_execute", record)
    try:
        body = list_collection(
            context(store),
            INCIDENTS,
            q(expand="alerts($select=id,severity;$filter=severity ne 'medium')"),
        )
    finally:
        event.remove(store.engine, "before_cursor_execute", record)
    assert body["@odata.context"] == f"{ROOT}/$metadata#security/incidents(alerts(id,severity))"
    by_id = {i["id"]: i for i in body["value"]}
    assert [a["id"] for a in by_id["i1"]["alerts"]] == ["a002"]  # a001 is medium
    assert [a["id"] for a in by_id["i2"]["alerts"]] == ["a003"]
    # the incidents' page runs from its plan on the driver's cursor; the alerts of every
    # incident on it come in one statement
    selects = [s for s in statements if "FROM security_" in s]
    assert len(selects) == 1
    assert "FROM security_alerts" in selects[0]
    assert "IN (" in selects[0]


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("$expand=alertz", "Did you mean 'alerts'"),
        ("$expand=alerts($foo=1)", "not allowed inside $expand"),
        ("$expand=alerts($filter=severty eq 'low')", "Did you mean 'severity'"),
        (
            "$expand=alerts($select=id;$filter=severty eq 'low')",
            "Invalid $expand at position 26: in $filter of alerts: 'severty' is not a property",
        ),
        ("$expand=alerts($top=x)", "Invalid $expand at position 12: in $top of alerts:"),
        ("$top=51", "limit of '50'"),
        ("$top=x", "between 0 and 50"),
        ("$select=alerts", "use $expand=alerts"),
    ],
)
def test_incident_option_errors(store: Store, query: str, message: str) -> None:
    with pytest.raises(ODataError) as caught:
        list_collection(context(store), INCIDENTS, query)
    assert message in caught.value.message


def test_incidents_top_capped_at_50_and_pages(store: Store) -> None:
    insert(
        store,
        "incidents",
        [{"id": f"i{n:03d}", "createdDateTime": "2024-05-01T00:00:00Z"} for n in range(60)],
    )
    body = list_collection(context(store), INCIDENTS, "")
    assert len(body["value"]) == 50
    assert "@odata.nextLink" in body
    follow = list_collection(context(store), INCIDENTS, urlsplit(body["@odata.nextLink"]).query)
    assert len(follow["value"]) == 10
    assert {i["id"] for i in body["value"]}.isdisjoint({i["id"] for i in follow["value"]})
