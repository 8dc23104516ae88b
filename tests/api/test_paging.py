"""Paging through HTTP: $top is the page size on every family, next links keep it, clients may
edit $top on a next link, $top=0 is an empty page (issues 11 and 12)."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest

from tests.api.conftest import alert, insert

PIM_SCOPE = "scopeId eq '/' and scopeType eq 'DirectoryRole'"


def _options(link: str) -> dict[str, str]:
    return dict(parse_qsl(urlsplit(link).query))


def _walk(client: Any, headers: dict[str, str], url: str) -> list[dict[str, Any]]:
    """Every page body, following next links as given."""
    pages = [client.get(url, headers=headers).json()]
    while "@odata.nextLink" in pages[-1]:
        assert len(pages) < 50
        pages.append(client.get(pages[-1]["@odata.nextLink"], headers=headers).json())
    return pages


def _incidents(count: int) -> list[dict[str, Any]]:
    return [
        {
            "id": f"i{n:03d}",
            "displayName": f"Incident {n}",
            "status": "active",
            "severity": "high",
            "createdDateTime": f"2024-05-01T{n // 60:02d}:{n % 60:02d}:00Z",
            "lastUpdateDateTime": "2024-05-02T00:00:00Z",
        }
        for n in range(count)
    ]


@pytest.mark.parametrize(
    ("set_name", "path", "records", "key"),
    [
        (
            "alerts_v2",
            "/beta/security/alerts_v2",
            [alert(f"a{n:02d}", createdDateTime=f"2024-05-01T10:{n:02d}:00Z") for n in range(23)],
            "id",
        ),
        ("incidents", "/v1.0/security/incidents", _incidents(23), "id"),
        (
            "partner_alerts",
            "/beta/security/partner/securityAlerts",
            [
                {
                    "id": f"p{n:02d}",
                    "displayName": f"Partner {n}",
                    "detectedDateTime": f"2024-05-01T10:{n:02d}:00Z",
                }
                for n in range(23)
            ],
            "id",
        ),
    ],
)
def test_top_is_the_page_size_on_every_family(
    client: Any,
    store: Any,
    headers: dict[str, str],
    set_name: str,
    path: str,
    records: list[dict[str, Any]],
    key: str,
) -> None:
    insert(store, set_name, records)
    pages = _walk(client, headers, f"{path}?$top=5&$count=true")
    assert [len(page["value"]) for page in pages] == [5, 5, 5, 5, 3]
    seen = [item[key] for page in pages for item in page["value"]]
    assert sorted(seen) == sorted(record["id"] for record in records)
    assert len(set(seen)) == len(seen)
    for page in pages[:-1]:
        assert page["@odata.count"] == 23
        assert _options(page["@odata.nextLink"])["$top"] == "5"
        assert page["@odata.nextLink"].startswith(f"http://testserver{path}?")


def test_pim_incidents_top_is_the_page_size_with_skip(
    client: Any, store: Any, headers: dict[str, str]
) -> None:
    insert(
        store,
        "pim_alerts",
        [
            {
                "id": "DirectoryRole_aaa_TooManyGlobalAdmins",
                "alertDefinitionId": "DirectoryRole_aaa_TooManyGlobalAdmins",
                "scopeId": "/",
                "scopeType": "DirectoryRole",
                "isActive": True,
            }
        ],
    )
    insert(
        store,
        "pim_incidents",
        [
            {
                "@odata.type": "#microsoft.graph.tooManyGlobalAdminsAssignedToTenantAlertIncident",
                "id": f"u{n}",
            }
            for n in range(7)
        ],
        parent="DirectoryRole_aaa_TooManyGlobalAdmins",
    )
    url = (
        "/beta/identityGovernance/roleManagementAlerts/alerts/"
        "DirectoryRole_aaa_TooManyGlobalAdmins/alertIncidents?$top=3"
    )
    pages = _walk(client, headers, url)
    assert [len(page["value"]) for page in pages] == [3, 3, 1]
    assert _options(pages[0]["@odata.nextLink"]) == {"$top": "3", "$skip": "3"}


def test_incidents_keep_the_cap_of_50(client: Any, store: Any, headers: dict[str, str]) -> None:
    insert(store, "incidents", _incidents(60))
    first = client.get("/beta/security/incidents?$top=50", headers=headers).json()
    assert len(first["value"]) == 50
    assert _options(first["@odata.nextLink"])["$top"] == "50"
    second = client.get(first["@odata.nextLink"], headers=headers).json()
    assert len(second["value"]) == 10
    assert "@odata.nextLink" not in second
    refused = client.get("/beta/security/incidents?$top=51", headers=headers)
    assert refused.status_code == 400
    assert refused.json()["error"]["code"] == "BadRequest"
    assert "limit of '50'" in refused.json()["error"]["message"]


def test_xsoar_appends_top_to_an_incidents_next_link(
    client: Any, store: Any, headers: dict[str, str]
) -> None:
    # XSOAR lists incidents with a page size, then appends &$top=<remaining> to the next link
    insert(store, "incidents", _incidents(30))
    every = [
        i["id"] for i in client.get("/beta/security/incidents", headers=headers).json()["value"]
    ]
    first = client.get("/beta/security/incidents?$top=10", headers=headers).json()
    appended = client.get(first["@odata.nextLink"] + "&$top=15", headers=headers)
    assert appended.status_code == 200, appended.text
    second = appended.json()
    assert [i["id"] for i in second["value"]] == every[10:25]
    assert _options(second["@odata.nextLink"])["$top"] == "15"
    third = client.get(second["@odata.nextLink"], headers=headers).json()
    assert [i["id"] for i in third["value"]] == every[25:]
    assert "@odata.nextLink" not in third

    # a next link without $top (the default page size) with $top added
    default = client.get("/beta/security/incidents?$orderby=id", headers=headers).json()
    ordered = sorted(every)
    assert len(default["value"]) == 30
    small = client.get("/beta/security/incidents?$orderby=id&$top=4", headers=headers).json()
    link = small["@odata.nextLink"]
    edited = link.replace("$top=4", "$top=20")
    assert edited != link
    changed = client.get(edited, headers=headers).json()
    assert [i["id"] for i in changed["value"]] == ordered[4:24]


def test_a_next_link_without_top_takes_an_added_top(
    client: Any, store: Any, headers: dict[str, str]
) -> None:
    insert(store, "alerts_v2", [alert(f"a{n:03d}") for n in range(130)])
    first = client.get("/beta/security/alerts_v2?$orderby=id", headers=headers).json()
    assert len(first["value"]) == 100
    assert "$top" not in _options(first["@odata.nextLink"])
    second = client.get(first["@odata.nextLink"] + "&$top=7", headers=headers).json()
    assert [a["id"] for a in second["value"]] == [f"a{n:03d}" for n in range(100, 107)]
    assert _options(second["@odata.nextLink"])["$top"] == "7"


def test_other_edited_options_are_refused(client: Any, store: Any, headers: dict[str, str]) -> None:
    insert(store, "alerts_v2", [alert(f"a{n:03d}", severity="high") for n in range(12)])
    first = client.get(
        "/beta/security/alerts_v2?$filter=severity eq 'high'&$top=5", headers=headers
    ).json()
    link = first["@odata.nextLink"]
    edited = link.replace("high", "low")
    assert edited != link
    response = client.get(edited, headers=headers)
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "BadRequest"
    assert "follow @odata.nextLink exactly as returned" in error["message"]
    # a $top given twice in a first request is still an error
    twice = client.get("/beta/security/alerts_v2?$top=5&$top=6", headers=headers)
    assert twice.status_code == 400
    assert "more than once" in twice.json()["error"]["message"]


def test_top_zero_is_an_empty_page(client: Any, store: Any, headers: dict[str, str]) -> None:
    insert(store, "alerts_v2", [alert(f"a{n}") for n in range(4)])
    insert(store, "incidents", _incidents(3))
    body = client.get("/beta/security/alerts_v2?$top=0", headers=headers).json()
    assert body == {
        "@odata.context": "http://testserver/beta/$metadata#security/alerts_v2",
        "value": [],
    }
    counted = client.get("/v1.0/security/incidents?$top=0&$count=true", headers=headers).json()
    assert counted == {
        "@odata.context": "http://testserver/v1.0/$metadata#security/incidents",
        "@odata.count": 3,
        "value": [],
    }
    pim = client.get(
        f"/beta/identityGovernance/roleManagementAlerts/alerts?$filter={PIM_SCOPE}&$top=0",
        headers=headers,
    )
    assert pim.status_code == 200
    assert pim.json()["value"] == []
    negative = client.get("/beta/security/alerts_v2?$top=-1", headers=headers)
    assert negative.status_code == 400
    assert "between 0 and 2000" in negative.json()["error"]["message"]
