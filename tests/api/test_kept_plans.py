"""Kept read plans (odata/plans.py) never carry one request's tenant, instant or rows into another.

Every request here is asked at least twice, so the second answer comes from a kept plan.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Any

from tests.api.conftest import TENANT_A, TENANT_B, alert, insert, mint

ALERTS = "/beta/security/alerts_v2"


def test_each_tenant_reads_its_own_rows_through_the_same_plan_shape(
    app: Any, client: Any, store: Any
) -> None:
    insert(store, "alerts_v2", [alert("same", title="A's"), alert("a-only")], tenant=TENANT_A)
    insert(store, "alerts_v2", [alert("same", title="B's")], tenant=TENANT_B)
    as_a = {"Authorization": f"Bearer {mint(app, TENANT_A)}"}
    as_b = {"Authorization": f"Bearer {mint(app, TENANT_B)}"}
    url = f"{ALERTS}?$orderby=id&$count=true"
    for _ in range(2):
        listed_a = client.get(url, headers=as_a).json()
        listed_b = client.get(url, headers=as_b).json()
        assert [a["id"] for a in listed_a["value"]] == ["a-only", "same"]
        assert listed_a["@odata.count"] == 2
        assert [(a["id"], a["title"]) for a in listed_b["value"]] == [("same", "B's")]
        assert listed_b["@odata.count"] == 1
        assert client.get(f"{ALERTS}/same", headers=as_a).json()["title"] == "A's"
        assert client.get(f"{ALERTS}/same", headers=as_b).json()["title"] == "B's"
        missing = client.get(f"{ALERTS}/a-only", headers=as_b)
        assert missing.status_code == 404
        assert missing.json()["error"]["code"] == "itemNotFound"


def test_a_filter_on_now_is_evaluated_at_each_request(
    client: Any, store: Any, headers: dict[str, str]
) -> None:
    soon = datetime.now(UTC) + timedelta(seconds=1.5)
    insert(
        store,
        "alerts_v2",
        [
            alert("past", createdDateTime="2024-05-01T12:00:00Z"),
            alert("soon", createdDateTime=soon.strftime("%Y-%m-%dT%H:%M:%S.%fZ")),
        ],
    )
    url = f"{ALERTS}?$filter=createdDateTime le now()&$orderby=id"
    before = client.get(url, headers=headers).json()
    assert [a["id"] for a in before["value"]] == ["past"]
    time.sleep(max(0.0, (soon - datetime.now(UTC)).total_seconds()) + 0.2)
    after = client.get(url, headers=headers).json()
    assert [a["id"] for a in after["value"]] == ["past", "soon"]


def test_writes_show_in_the_next_answer_of_a_kept_plan(
    client: Any, store: Any, headers: dict[str, str]
) -> None:
    insert(store, "alerts_v2", [alert(f"w{n}") for n in range(3)])
    url = f"{ALERTS}?$filter=status eq 'new'&$orderby=id&$top=2&$count=true"
    first = client.get(url, headers=headers).json()
    assert ([a["id"] for a in first["value"]], first["@odata.count"]) == (["w0", "w1"], 3)
    changed = client.patch(f"{ALERTS}/w0", json={"status": "resolved"}, headers=headers)
    assert changed.status_code == 200, changed.text
    second = client.get(url, headers=headers).json()
    assert ([a["id"] for a in second["value"]], second["@odata.count"]) == (["w1", "w2"], 2)
    assert "@odata.nextLink" not in second
    # the next link of the first answer still continues after its last row
    follow = client.get(first["@odata.nextLink"], headers=headers).json()
    assert [a["id"] for a in follow["value"]] == ["w2"]
