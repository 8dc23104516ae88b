"""Body validation tables for patch.py (no database: validation reads only the EDM)."""

from __future__ import annotations

import pytest
from sqlalchemy import create_engine

from alertgraph.errors import BadRequest
from alertgraph.rules.validate import (
    enum_problem,
    require_object,
    validate_parameters,
    validate_patch,
)
from alertgraph.schema.endpoints import entity_set
from alertgraph.store.database import Store

STORE = Store(create_engine("sqlite://"))
ALERTS = entity_set("alerts_v2")
INCIDENTS = entity_set("incidents")
CONFIGS = entity_set("pim_configurations")


def enum(name: str):
    return STORE.model.enums[name]


@pytest.mark.parametrize(
    ("enum_name", "text", "evolvable", "expected"),
    [
        ("microsoft.graph.security.alertStatus", "resolved", False, None),
        ("microsoft.graph.security.alertStatus", "resolve", False, "Did you mean 'resolved'?"),
        ("microsoft.graph.security.alertStatus", "Resolved", False, "Did you mean 'resolved'?"),
        ("microsoft.graph.security.incidentStatus", "awaitingAction", True, None),
        ("microsoft.graph.security.incidentStatus", "awaitingAction", False, "Prefer:"),
        ("microsoft.graph.security.alertDetermination", "clean", False, "'notMalicious'"),
        ("microsoft.graph.security.alertClassification", "benignPositive", False, "retired"),
        # a retired name whose replacement belongs to another enum is simply not a member
        ("microsoft.graph.security.alertStatus", "clean", False, "is not a member"),
        ("microsoft.graph.security.correlationReason", "sameAsset, temporalProximity", False, None),
        ("microsoft.graph.security.correlationReason", "sameAsset, nearby", False, "'nearby'"),
        ("microsoft.graph.security.alertSeverity", "unknownFutureValue", False, "placeholder"),
    ],
)
def test_enum_problem(enum_name, text, evolvable, expected) -> None:
    problem = enum_problem(enum(enum_name), text, evolvable=evolvable)
    if expected is None:
        assert problem is None
    else:
        assert problem is not None
        assert expected in problem


def test_allowed_members_hide_evolvable_ones_unless_asked() -> None:
    status = enum("microsoft.graph.security.incidentStatus")
    plain = enum_problem(status, "closed", evolvable=False)
    assert plain is not None
    assert "awaitingAction" not in plain
    assert "unknownFutureValue" not in plain
    assert "awaitingAction" in (enum_problem(status, "closed", evolvable=True) or "")


def test_patch_values_come_back_normalized() -> None:
    changes = validate_patch(
        STORE,
        INCIDENTS,
        {
            "customTags": ["x"],
            "assignedTo": None,
            "status@odata.type": "#x",
            "status": "inProgress",
        },
        evolvable=False,
    )
    assert changes == {"customTags": ["x"], "assignedTo": None, "status": "inProgress"}


def test_patch_typed_by_the_runtime_type() -> None:
    kind = "microsoft.graph.redundantAssignmentAlertConfiguration"
    changes = validate_patch(
        STORE,
        CONFIGS,
        {"@odata.type": kind, "duration": "30 days, 0:00:00"},
        evolvable=False,
        type_name=kind,
        require_type=True,
    )
    assert changes == {"duration": "P30D"}
    with pytest.raises(BadRequest) as caught:
        validate_patch(
            STORE,
            CONFIGS,
            {"@odata.type": kind, "duration": "soon"},
            evolvable=False,
            type_name=kind,
            require_type=True,
        )
    assert "soon" in caught.value.message
    assert caught.value.message.endswith("Updatable properties: isEnabled, duration.")


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        ([{"status": "new"}], "got an array"),
        ("resolved", "got a JSON str"),
        (None, "A request body is required"),
    ],
)
def test_require_object(body, fragment) -> None:
    with pytest.raises(BadRequest) as caught:
        require_object(body, "the properties to change")
    assert fragment in caught.value.message


def test_action_parameters_are_typed_by_the_csdl() -> None:
    values = validate_parameters(
        STORE,
        "microsoft.graph.security.moveAlerts",
        {"alertIds": ["a", "b"], "newCorrelationReasons": "sameActor,sameCampaign"},
        evolvable=False,
        required=("alertIds",),
    )
    assert values == {"alertIds": ["a", "b"], "newCorrelationReasons": "sameActor, sameCampaign"}
    with pytest.raises(BadRequest) as caught:
        validate_parameters(
            STORE,
            "microsoft.graph.security.moveAlerts",
            {"alertId": ["a"], "incidentId": 5},
            evolvable=False,
            required=("alertIds",),
        )
    message = caught.value.message
    assert "3 problems" in message
    assert "Did you mean 'alertIds'?" in message
    assert "incidentId: expected a string" in message
    assert message.endswith(
        "Parameters: alertIds, incidentId, alertComment, newCorrelationReasons."
    )


def test_every_problem_is_a_detail_with_its_target() -> None:
    with pytest.raises(BadRequest) as caught:
        validate_patch(STORE, ALERTS, {"title": "x", "assignedTo": 3}, evolvable=False)
    assert [detail["target"] for detail in caught.value.details or []] == ["title", "assignedTo"]
