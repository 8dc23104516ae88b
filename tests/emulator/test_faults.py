"""Fault injection through HTTP: deterministic under a seed, Graph's envelope, nothing written."""

from __future__ import annotations

import time

import pytest

from alertgraph.emulator.spec import parse_faults_option
from tests.api.conftest import TENANT_A, TENANT_B, alert, insert
from tests.emulator.conftest import Factory, admin_headers, bearer

ALERTS = "/beta/security/alerts_v2"


def _statuses(client, headers, count=40, path=ALERTS):
    return [client.get(path, headers=headers).status_code for _ in range(count)]


def test_same_seed_same_failures_in_a_replayed_run(serve: Factory, tmp_path) -> None:
    client, app = serve(faults="rate=0.3,status=503,seed=42")
    headers = bearer(app)
    first = _statuses(client, headers)
    assert set(first) == {200, 503}
    # replay: the tenant's numbering starts again (as on a fresh database)
    from alertgraph.emulator.snapshots import reset

    reset(app.state.store, TENANT_A)
    assert _statuses(client, headers) == first
    # another seed fails other requests
    other, other_app = serve(faults="rate=0.3,status=503,seed=43")
    reset(other_app.state.store, TENANT_A)
    assert _statuses(other, headers) != first


def test_the_order_of_one_tenant_is_not_disturbed_by_another(serve: Factory) -> None:
    client, app = serve(faults="rate=0.5,status=500,seed=7")
    alone = _statuses(client, bearer(app, TENANT_A), 20)
    from alertgraph.emulator.snapshots import reset

    reset(app.state.store, TENANT_A)
    mixed = []
    for _ in range(20):
        client.get(ALERTS, headers=bearer(app, TENANT_B))
        mixed.append(client.get(ALERTS, headers=bearer(app, TENANT_A)).status_code)
    assert mixed == alone


@pytest.mark.parametrize(
    ("status", "code", "retry"),
    [
        (429, "TooManyRequests", True),
        (500, "generalException", False),
        (502, "generalException", False),
        (503, "serviceNotAvailable", True),
        (504, "generalException", False),
    ],
)
def test_injected_errors_carry_graphs_envelope(
    serve: Factory, status: int, code: str, retry: bool
) -> None:
    client, app = serve(faults=f"rate=1,status={status},seed=1")
    answer = client.get(ALERTS, headers={**bearer(app), "client-request-id": "abc"})
    assert answer.status_code == status
    error = answer.json()["error"]
    assert error["code"] == code
    assert error["innerError"]["client-request-id"] == "abc"
    assert answer.headers["request-id"] == error["innerError"]["request-id"]
    assert ("Retry-After" in answer.headers) is retry
    if retry:
        assert answer.headers["Retry-After"] == "1"


def test_a_faulted_write_changes_nothing(serve: Factory) -> None:
    client, app = serve(faults="rate=1,status=503,seed=1,method=PATCH")
    insert(app.state.store, "alerts_v2", [alert("a1")])
    headers = bearer(app)
    answer = client.patch(f"{ALERTS}/a1", headers=headers, json={"status": "resolved"})
    assert answer.status_code == 503
    assert client.get(f"{ALERTS}/a1", headers=headers).json()["status"] == "new"


def test_faults_scoped_to_a_path_and_method(serve: Factory) -> None:
    client, app = serve(faults="rate=1,status=502,seed=1,path=/security/incidents*,method=GET")
    headers = bearer(app)
    assert client.get("/beta/security/incidents", headers=headers).status_code == 502
    assert client.get(ALERTS, headers=headers).status_code == 200


def test_added_latency(serve: Factory) -> None:
    client, app = serve(faults="latency=300,seed=1")
    headers = bearer(app)
    started = time.monotonic()
    assert client.get(ALERTS, headers=headers).status_code == 200
    assert time.monotonic() - started >= 0.3


def test_partial_answer_is_206_with_graphs_warning_and_a_subset(serve: Factory) -> None:
    plain, app = serve()
    client, _ = serve(faults="partial=1,seed=1")
    insert(app.state.store, "alerts_v2", [alert(f"a{n}") for n in range(6)])
    headers = bearer(app)
    whole = plain.get(f"{ALERTS}?$top=4", headers=headers).json()
    answer = client.get(f"{ALERTS}?$top=4", headers=headers)
    assert answer.status_code == 206
    assert (
        answer.headers["Warning"] == '199 - "Microsoft/Microsoft Defender for Endpoint/504/10000"'
    )
    body = answer.json()
    ids = [item["id"] for item in whole["value"]]
    assert [item["id"] for item in body["value"]] == ids[::2]
    assert "@odata.nextLink" not in body
    # a single alert and other collections are answered whole
    assert client.get(f"{ALERTS}/a1", headers=headers).status_code == 200
    assert client.get("/beta/security/incidents", headers=headers).status_code == 200


def test_unknown_enum_members_without_the_prefer_header(serve: Factory) -> None:
    plain, app = serve()
    insert(app.state.store, "alerts_v2", [alert("s1", serviceSource="microsoftSentinel")])
    headers = bearer(app)
    assert plain.get(f"{ALERTS}/s1", headers=headers).json()["serviceSource"] == (
        "unknownFutureValue"
    )
    faulty, _ = serve(faults="unknownEnums=true,seed=1")
    answer = faulty.get(f"{ALERTS}/s1", headers=headers)
    assert answer.json()["serviceSource"] == "microsoftSentinel"
    assert "Preference-Applied" not in answer.headers


def test_run_time_faults_per_tenant_through_the_admin_api(serve: Factory) -> None:
    client, app = serve()
    admin = admin_headers(app)
    changed = client.patch(
        "/_alertgraph/controls",
        headers=admin,
        json={"faults": {"rate": 1, "status": 504, "seed": 9, "path": "/security/alerts_v2*"}},
    )
    assert changed.status_code == 200
    assert changed.json()["faults"]["status"] == 504
    assert client.get(ALERTS, headers=bearer(app)).status_code == 504
    assert client.get("/beta/security/incidents", headers=bearer(app)).status_code == 200
    assert client.get(ALERTS, headers=bearer(app, TENANT_B)).status_code == 200  # other tenant
    assert (
        client.patch("/_alertgraph/controls", headers=admin, json={"faults": None}).json()["faults"]
        is None
    )
    assert client.get(ALERTS, headers=bearer(app)).status_code == 200


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("rate=2,status=503,seed=1", "rate=2 is not a share of requests between 0 and 1"),
        ("rate=0.1,status=404,seed=1", "status=404 is not one of 429, 500, 502, 503, 504"),
        ("rate=0.1,seed=x", "seed=x is not a whole number"),
        ("rate=0.1,colour=red", "unknown setting 'colour'"),
        ("rate", "'rate' is not key=value"),
        ("rate=0.1,rate=0.2", "'rate' is given twice"),
        ("", "give at least one of"),
    ],
)
def test_malformed_faults_are_named(text: str, problem: str) -> None:
    with pytest.raises(ValueError, match="faults: ") as caught:
        parse_faults_option(text)
    assert problem in str(caught.value)


def test_controls_set_by_another_replica_apply_to_the_next_key_lookup(serve: Factory) -> None:
    """A key lookup reads the tenant's controls in its own statement while they were quiet last
    time (http/app.py): controls changed meanwhile, here by another replica, still apply to
    the very next lookup, before its answer or its 404 is told."""
    from alertgraph.odata.plans import EntityPlan, plans_of

    client, app = serve()
    other, other_app = serve()  # a second replica on the same database
    insert(app.state.store, "alerts_v2", [alert("a1")])
    one, missing = f"{ALERTS}/a1", f"{ALERTS}/missing"
    headers, admin = bearer(app), admin_headers(other_app)
    for _ in range(3):  # the lookup's plan is kept, with the controls riding along
        assert client.get(one, headers=headers).status_code == 200
    assert client.get(missing, headers=headers).status_code == 404
    kept = [plan for plan in plans_of(app.state.store).kept() if isinstance(plan, EntityPlan)]
    assert any("_controls" in plan.row.sql for plan in kept)

    def control(**changes: object) -> None:
        assert other.patch("/_alertgraph/controls", headers=admin, json=changes).status_code == 200

    control(faults={"rate": 1, "status": 503, "seed": 1, "path": "/security/alerts_v2*"})
    assert client.get(one, headers=headers).status_code == 503
    assert client.get(missing, headers=headers).status_code == 503
    control(faults=None)
    assert client.get(one, headers=headers).status_code == 200
    assert client.get(missing, headers=headers).status_code == 404
    control(throttle="1/60")
    assert client.get(one, headers=headers).status_code == 200
    assert client.get(one, headers=headers).status_code == 429
    assert client.get(missing, headers=headers).status_code == 429
    control(throttle="off")
    for _ in range(2):
        assert client.get(one, headers=headers).json()["id"] == "a1"
