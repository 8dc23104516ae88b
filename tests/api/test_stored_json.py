"""Reads answered from each row's stored Graph JSON are byte for byte the answers shaped from the
columns, and every write keeps that JSON current (issue 16)."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import update

from alertgraph.store.database import STORED_JSON
from tests.api.conftest import alert, insert

ALERTS = "/beta/security/alerts_v2"

#: values whose JSON text depends on how it was stored: dictionary keys out of JSONB's order,
#: floats that JSONB reads back as integers, nested evidence with doubles
AWKWARD = alert(
    "awkward",
    additionalData={"zeta": 1, "a": {"long-key": 1e17, "k": [3.5, 1e-7]}, "mid": "x"},
    customDetails={"bb": True, "a": None},
    evidence=[
        {
            "@odata.type": "#microsoft.graph.security.kubernetesPodEvidence",
            "createdDateTime": "2024-05-01T12:00:00.5Z",
            "verdict": "suspicious",
            "remediationStatus": "none",
            "podIp": {
                "ipAddress": "10.0.0.1",
                "location": {"latitude": 47.6062, "longitude": -122.3321},
            },
        }
    ],
    severity="high",
    createdDateTime="2024-05-01T12:00:00.1234567Z",
)


def _forget_stored_json(store: Any, set_name: str) -> None:
    with store.engine.begin() as conn:
        conn.execute(update(store.tables[set_name]).values({STORED_JSON: None}))


@pytest.mark.parametrize(
    "url",
    [
        f"{ALERTS}",
        f"{ALERTS}?$top=2&$count=true",
        f"{ALERTS}?$filter=severity eq 'high'&$orderby=createdDateTime desc",
        f"{ALERTS}/awkward",
        f"{ALERTS}/a2",
        "/beta/security/incidents",
        "/beta/security/incidents/100/alerts",
        "/beta/security/partner/securityAlerts",
        "/beta/security/partner/securityAlerts/p1",
        # $select is projected from the stored JSON, or shaped from the columns without it
        f"{ALERTS}?$select=id,evidence,additionalData,customDetails&$orderby=id",
        f"{ALERTS}?$select=severity,createdDateTime&$top=1&$count=true",
        f"{ALERTS}/awkward?$select=evidence,customDetails,createdDateTime",
        "/beta/security/partner/securityAlerts?$select=additionalDetails,displayName",
    ],
)
def test_stored_json_answers_as_the_columns_do(
    client: Any, store: Any, headers: dict[str, str], url: str
) -> None:
    insert(store, "alerts_v2", [AWKWARD, alert("a2", incidentId="100"), alert("a3")])
    insert(
        store,
        "incidents",
        [{"id": "100", "displayName": "One", "createdDateTime": "2024-05-01T00:00:00Z"}],
    )
    insert(
        store,
        "partner_alerts",
        [
            {
                "id": "p1",
                "displayName": "Partner",
                "detectedDateTime": "2024-05-01T10:00:00Z",
                "additionalDetails": {"zz": 1, "a": 2.0},
            }
        ],
    )
    stored = client.get(url, headers=headers)
    assert stored.status_code == 200, stored.text
    for set_name in ("alerts_v2", "incidents", "partner_alerts"):
        _forget_stored_json(store, set_name)
    shaped = client.get(url, headers=headers)
    assert shaped.content == stored.content


def test_writes_keep_the_stored_json_current(
    client: Any, store: Any, headers: dict[str, str]
) -> None:
    insert(store, "alerts_v2", [AWKWARD])
    changed = client.patch(
        f"{ALERTS}/awkward",
        json={"status": "inProgress", "assignedTo": "bob@contoso.com"},
        headers=headers,
    )
    assert changed.status_code == 200, changed.text
    commented = client.post(
        f"{ALERTS}/awkward/comments",
        json=[{"@odata.type": "microsoft.graph.security.alertComment", "comment": "seen"}],
        headers=headers,
    )
    assert commented.status_code == 200, commented.text
    after = client.get(f"{ALERTS}/awkward", headers=headers)
    listed = client.get(ALERTS, headers=headers)
    body = after.json()
    assert (body["status"], body["assignedTo"]) == ("inProgress", "bob@contoso.com")
    assert [c["comment"] for c in body["comments"]] == ["seen"]
    _forget_stored_json(store, "alerts_v2")
    assert client.get(f"{ALERTS}/awkward", headers=headers).content == after.content
    assert client.get(ALERTS, headers=headers).content == listed.content


def test_the_evolvable_preference_and_select_reshape(
    client: Any, store: Any, headers: dict[str, str]
) -> None:
    # a member after unknownFutureValue: stored JSON says unknownFutureValue, the preference
    # asks for the member itself
    insert(store, "alerts_v2", [alert("x1", serviceSource="microsoftSentinel")])
    plain = client.get(f"{ALERTS}/x1", headers=headers).json()
    evolvable = client.get(
        f"{ALERTS}/x1", headers={**headers, "Prefer": "include-unknown-enum-members"}
    ).json()
    assert plain["serviceSource"] == "unknownFutureValue"
    assert evolvable["serviceSource"] == "microsoftSentinel"
    selected = client.get(f"{ALERTS}?$select=id,serviceSource", headers=headers).json()
    assert selected["value"] == [
        {
            "@odata.type": "#microsoft.graph.security.alert",
            "id": "x1",
            "serviceSource": "unknownFutureValue",
        }
    ]


def test_rows_without_stored_json_mix_with_rows_that_have_it(
    client: Any, store: Any, headers: dict[str, str]
) -> None:
    # rows written before schema version 2 have no stored JSON until they are written again
    insert(store, "alerts_v2", [AWKWARD, *(alert(f"m{n}") for n in range(5))])
    whole = client.get(f"{ALERTS}?$orderby=id", headers=headers)
    table = store.tables["alerts_v2"]
    with store.engine.begin() as conn:
        conn.execute(
            update(table).where(table.c.id.in_(["m1", "m3", "awkward"])).values({STORED_JSON: None})
        )
    assert client.get(f"{ALERTS}?$orderby=id", headers=headers).content == whole.content
    selected = f"{ALERTS}?$orderby=id&$select=id,additionalData,evidence"
    projected = client.get(selected, headers=headers)
    assert projected.status_code == 200, projected.text
    assert [entity["id"] for entity in projected.json()["value"]] == [
        "awkward",
        *(f"m{n}" for n in range(5)),
    ]
    _forget_stored_json(store, "alerts_v2")
    assert client.get(selected, headers=headers).content == projected.content


@pytest.mark.parametrize("version", ["beta", "v1.0"])
@pytest.mark.parametrize("prefer", [None, "include-unknown-enum-members"])
def test_a_patch_answers_what_a_read_then_gives(
    client: Any, store: Any, headers: dict[str, str], version: str, prefer: str | None
) -> None:
    """A PATCH answers with the row as its transaction stored it (not read back): the same
    bytes a GET gives right after, awkward JSON values, /v1.0 and enum preferences included."""
    insert(store, "alerts_v2", [AWKWARD, alert("old", serviceSource="microsoftSentinel")])
    insert(
        store,
        "incidents",
        [{"id": "100", "displayName": "One", "createdDateTime": "2024-05-01T00:00:00Z"}],
    )
    table = store.tables["alerts_v2"]
    with store.engine.begin() as conn:  # a row written before stored JSON existed
        conn.execute(update(table).where(table.c.id == "old").values({STORED_JSON: None}))
    sent = {**headers, **({"Prefer": prefer} if prefer else {})}
    for path, body in [
        ("security/alerts_v2/awkward", {"status": "inProgress", "assignedTo": "bob@contoso.com"}),
        ("security/alerts_v2/old", {"classification": "truePositive"}),
        ("security/incidents/100", {"status": "active", "customTags": ["b", "a"]}),
    ]:
        url = f"/{version}/{path}"
        patched = client.patch(url, json=body, headers=sent)
        assert patched.status_code == 200, patched.text
        assert client.get(url, headers=sent).content == patched.content
