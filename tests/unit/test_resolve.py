import pytest

from alertgraph.errors import BadRequest, NotFound
from alertgraph.http.routing import resolve


@pytest.mark.parametrize(
    ("path", "kind", "set_name", "key", "parent"),
    [
        ("/beta/security/alerts_v2", "collection", "alerts_v2", None, None),
        ("/v1.0/security/alerts_v2/", "collection", "alerts_v2", None, None),
        ("/beta/security/alerts_v2/$count", "count", "alerts_v2", None, None),
        ("/beta/security/alerts_v2/da1", "entity", "alerts_v2", "da1", None),
        ("/beta/security/alerts_v2('o''b')", "entity", "alerts_v2", "o'b", None),
        (
            "/beta/security/alerts_v2/a%20b%2Fc%27d%2Be%25f_%C3%BC",
            "entity",
            "alerts_v2",
            "a b/c'd+e%f_ü",
            None,
        ),
        ("/beta/security/alerts_v2/da1/comments", "comments", "alerts_v2", "da1", None),
        ("/beta/security/incidents/7/comments", "comments", "incidents", "7", None),
        ("/beta/security/incidents/7/alerts", "navigation", "incidents", "7", None),
        ("/beta/security/partner/securityAlerts/p1", "entity", "partner_alerts", "p1", None),
        (
            "/beta/identityGovernance/roleManagementAlerts/alerts",
            "collection",
            "pim_alerts",
            None,
            None,
        ),
        (
            "/beta/identityGovernance/roleManagementAlerts/alerts/A/alertIncidents",
            "collection",
            "pim_incidents",
            None,
            "A",
        ),
        (
            "/beta/identityGovernance/roleManagementAlerts/alerts('A')/alertIncidents/I",
            "entity",
            "pim_incidents",
            "I",
            "A",
        ),
        (
            "/beta/identityGovernance/roleManagementAlerts/alerts/A/alertDefinition",
            "navigation",
            "pim_alerts",
            "A",
            None,
        ),
        (
            "/beta/identityGovernance/roleManagementAlerts/operations/refresh:x",
            "entity",
            "pim_operations",
            "refresh:x",
            None,
        ),
    ],
)
def test_paths_resolve(path, kind, set_name, key, parent) -> None:
    target = resolve(path)
    assert target.kind == kind
    assert target.entity_set is not None
    assert target.entity_set.name == set_name
    assert target.key == key
    assert target.parent_key == parent


@pytest.mark.parametrize(
    ("path", "action", "key", "parent"),
    [
        ("/beta/security/alerts_v2/moveAlerts", "moveAlerts", None, None),
        ("/beta/security/alerts_v2/microsoft.graph.security.moveAlerts", "moveAlerts", None, None),
        ("/beta/security/alerts_v2/createAlert", "createAlert", None, None),
        ("/beta/security/incidents/mergeIncidents", "mergeIncidents", None, None),
        ("/beta/identityGovernance/roleManagementAlerts/alerts/refresh", "refresh", None, None),
        (
            "/beta/identityGovernance/roleManagementAlerts/alerts/A/microsoft.graph.refresh",
            "refresh",
            "A",
            None,
        ),
        (
            "/beta/identityGovernance/roleManagementAlerts/alerts/A/alertIncidents/I/remediate",
            "remediate",
            "I",
            "A",
        ),
    ],
)
def test_actions_resolve(path, action, key, parent) -> None:
    target = resolve(path)
    assert (target.kind, target.action, target.key, target.parent_key) == (
        "action",
        action,
        key,
        parent,
    )


def test_metadata_and_unknown_paths() -> None:
    assert resolve("/beta/$metadata").kind == "metadata"
    assert resolve("/v1.0/$metadata").kind == "metadata"
    with pytest.raises(NotFound, match=r"Paths start with /beta or /v1\.0"):
        resolve("/v2/security/alerts_v2")
    with pytest.raises(NotFound, match="segment 'nothing'"):
        resolve("/beta/security/nothing")
    with pytest.raises(NotFound):  # partner alerts are beta only
        resolve("/v1.0/security/partner/securityAlerts")
    with pytest.raises(BadRequest):
        resolve("/beta/identityGovernance/roleManagementAlerts/alerts/A/alertDefinition/x")


def test_one_alert_through_the_incident_navigation() -> None:
    target = resolve("/beta/security/incidents/7/alerts/da1")
    assert (target.kind, target.key, target.navigation, target.nav_key) == (
        "navigation",
        "7",
        "alerts",
        "da1",
    )
    assert resolve("/beta/security/incidents('7')/alerts('da1')").nav_key == "da1"
