"""Throttling through HTTP: Graph's 429, Retry-After that works, limits per app per tenant."""

from __future__ import annotations

import math
import time

from hypothesis import given
from hypothesis import strategies as st

from alertgraph.emulator.spec import Limit, parse_throttle
from alertgraph.emulator.throttle import _retry_after, check, estimate, limits_for
from alertgraph.identity.auth import DEV_CLIENT_ID
from tests.api.conftest import TENANT_A, TENANT_B, alert, insert
from tests.emulator.conftest import Factory, bearer

ALERTS = "/beta/security/alerts_v2"


def test_over_the_limit_is_graphs_429_and_does_nothing(serve: Factory) -> None:
    client, app = serve(throttle="3/60")
    insert(app.state.store, "alerts_v2", [alert("a1")])
    headers = bearer(app)
    for _ in range(3):
        assert client.get(ALERTS, headers=headers).status_code == 200
    refused = client.patch(
        f"{ALERTS}/a1",
        headers={**headers, "client-request-id": "cr-1"},
        json={"status": "resolved"},
    )
    assert refused.status_code == 429
    retry_after = refused.headers["Retry-After"]
    assert retry_after.isdigit()
    assert 1 <= int(retry_after) <= 120
    error = refused.json()["error"]
    assert error["code"] == "TooManyRequests"
    assert "3 requests per 60 s per app per tenant" in error["message"]
    assert refused.headers["request-id"] == error["innerError"]["request-id"]
    assert refused.headers["client-request-id"] == "cr-1"
    # the refused PATCH changed nothing
    other = serve()[0]
    row = other.get(f"{ALERTS}/a1", headers=headers).json()
    assert row["status"] == "new"


def test_a_client_honouring_retry_after_completes(serve: Factory) -> None:
    client, app = serve(throttle="2/1")
    headers = bearer(app)
    done = 0
    started = time.monotonic()
    while done < 5:
        answer = client.get(ALERTS, headers=headers)
        if answer.status_code == 429:
            time.sleep(int(answer.headers["Retry-After"]))
            continue
        assert answer.status_code == 200
        done += 1
    assert time.monotonic() - started < 10


def test_a_client_that_hammers_stays_refused(serve: Factory) -> None:
    client, app = serve(throttle="2/2")
    headers = bearer(app)
    assert [client.get(ALERTS, headers=headers).status_code for _ in range(2)] == [200, 200]
    deadline = time.monotonic() + 4.5  # longer than two windows
    statuses = []
    while time.monotonic() < deadline:
        statuses.append(client.get(ALERTS, headers=headers).status_code)
        time.sleep(0.02)
    assert set(statuses) == {429}


def test_limits_are_per_app_and_per_tenant(serve: Factory) -> None:
    client, app = serve(throttle="1/60")
    first_app = bearer(app, app_id="app-one", roles=["SecurityAlert.Read.All"])
    second_app = bearer(app, app_id="app-two", roles=["SecurityAlert.Read.All"])
    other_tenant = bearer(app, TENANT_B, app_id="app-one", roles=["SecurityAlert.Read.All"])
    assert client.get(ALERTS, headers=first_app).status_code == 200
    assert client.get(ALERTS, headers=first_app).status_code == 429
    assert client.get(ALERTS, headers=second_app).status_code == 200
    assert client.get(ALERTS, headers=other_tenant).status_code == 200


def test_two_apps_on_one_database_share_the_count(serve: Factory) -> None:
    """Two app instances (as two replicas would) on one database: the limit is not doubled."""
    first, app = serve(throttle="4/60")
    second, _ = serve(throttle="4/60")
    headers = bearer(app)
    statuses = [
        (first if n % 2 else second).get(ALERTS, headers=headers).status_code for n in range(8)
    ]
    assert statuses == [200] * 4 + [429] * 4


def test_graph_mode_applies_150_per_minute_to_security_only(serve: Factory) -> None:
    client, app = serve(throttle="graph")
    headers = bearer(app)
    # 145 requests counted by the throttle itself (fast, so no minute boundary falls inside)
    graph = parse_throttle("graph")
    for _ in range(145):
        assert (
            check(app.state.store, graph, tenant=TENANT_A, app_id=DEV_CLIENT_ID, path="/security/x")
            is None
        )
    for _ in range(5):
        assert client.get(f"{ALERTS}?$top=1", headers=headers).status_code == 200
    refused = client.get(f"{ALERTS}?$top=1", headers=headers)
    assert refused.status_code == 429
    assert "150 requests per 60 s" in refused.json()["error"]["message"]
    assert client.get("/beta/security/incidents", headers=headers).status_code == 429
    pim = "/beta/identityGovernance/roleManagementAlerts/alerts?$filter=scopeId eq '/'"
    assert client.get(pim + " and scopeType eq 'DirectoryRole'", headers=headers).status_code == 200


def test_graph_limits_table() -> None:
    graph = parse_throttle("graph")
    assert [(name, limit) for name, limit, _ in limits_for(graph, "/security/alerts_v2")] == [
        ("security", Limit(150, 60.0)),
        ("global", Limit(130_000, 10.0)),
    ]
    assert [name for name, _, _ in limits_for(graph, "/security/partner/securityAlerts")] == [
        "security",
        "global",
    ]
    assert [name for name, _, _ in limits_for(graph, "/identityGovernance/x")] == ["global"]
    assert limits_for(parse_throttle("off"), "/security/alerts_v2") == []


@given(
    requests=st.integers(1, 200),
    seconds=st.sampled_from([1.0, 2.0, 5.0, 10.0, 60.0]),
    previous=st.integers(0, 400),
    extra=st.integers(1, 400),
    into=st.floats(0, 0.999),
)
def test_retry_after_is_exactly_when_a_request_gets_in(
    requests: int, seconds: float, previous: int, extra: int, into: float
) -> None:
    limit = Limit(requests, seconds)
    window = 1000
    now = (window + into) * seconds
    # the counter after a request that was refused (no room left for it)
    current = max(1, math.ceil(requests - previous * (1 - into)) + extra - 1)
    if estimate(previous, current - 1, limit, window, now) + 1 <= requests:
        return
    wait = _retry_after(previous, current, limit, window, now)
    assert wait >= 1
    # a request after Retry-After fits; one a second earlier would not have
    assert estimate(previous, current, limit, window, now + wait) + 1 <= requests + 1e-6
    if wait >= 2:
        assert estimate(previous, current, limit, window, now + wait - 1) + 1 > requests - 1e-6


def test_tenants_do_not_share_a_limit(serve: Factory) -> None:
    client, app = serve(throttle="1/60")
    assert client.get(ALERTS, headers=bearer(app, TENANT_A)).status_code == 200
    assert client.get(ALERTS, headers=bearer(app, TENANT_B)).status_code == 200


def test_a_batch_counts_as_its_sub_requests(serve: Factory) -> None:
    """Graph throttles each item of a $batch on its own: the batch answers 200, items over the
    limit answer 429 inside it, and the batch envelope itself costs nothing."""
    client, app = serve(throttle="3/60")
    insert(app.state.store, "alerts_v2", [alert("a1")])
    headers = bearer(app)
    requests = [{"id": str(i), "method": "GET", "url": "/security/alerts_v2/a1"} for i in range(5)]
    answer = client.post("/beta/$batch", headers=headers, json={"requests": requests})
    assert answer.status_code == 200
    statuses = sorted(item["status"] for item in answer.json()["responses"])
    assert statuses == [200, 200, 200, 429, 429]
    # the three allowed items used the whole budget: the next plain request is refused too
    assert client.get(ALERTS, headers=headers).status_code == 429
