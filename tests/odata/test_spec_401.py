"""OData 4.01 additions over HTTP (SQLite and PostgreSQL), answers worked out by hand from the URL
Conventions: ``$count`` of a collection in $filter and $orderby (4.8), type-cast segments on
collection paths (4.11), parameter aliases (5.1.1.13), the JSON-array form of ``in``
(5.1.1.1.12, 5.1.1.14.2) and the precedence of ``not`` (5.1.1.17); and ``$format``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.api.conftest import TENANT_B, alert

from .spec_support import Api, Expected, cases, device_evidence, open_api, user_evidence

BASE = "/beta/security/alerts_v2?$filter="
FILE = "microsoft.graph.security.fileEvidence"
#: default order: newest createdDateTime first
ORDER = ["b1", "b2", "b3", "b4"]


def ids(*wanted: str) -> list[str]:
    return [i for i in ORDER if i in wanted]


def file_evidence(size: int) -> dict[str, Any]:
    return {
        "@odata.type": f"#{FILE}",
        "createdDateTime": "2024-05-01T12:00:00Z",
        "remediationStatus": "none",
        "verdict": "suspicious",
        "roles": [],
        "fileDetails": {"fileName": f"f{size}.exe", "fileSize": size},
    }


def comment(text: str) -> dict[str, Any]:
    return {
        "comment": text,
        "createdByDisplayName": "bob",
        "createdDateTime": "2024-05-01T12:00:00Z",
    }


ALERTS = [
    alert(
        "b1",
        severity="high",
        createdDateTime="2024-05-04T00:00:00Z",
        mitreTechniques=["T1566", "T1566"],  # duplicates count
        comments=[comment("a"), comment("a"), comment("b")],
        evidence=[file_evidence(2_000_000), file_evidence(500), user_evidence("al@contoso.com")],
    ),
    alert(
        "b2",
        severity="low",
        assignedTo="alice@contoso.com",
        createdDateTime="2024-05-03T00:00:00Z",
        mitreTechniques=[],
        comments=[],
        evidence=[],
    ),
    alert(
        "b3",
        severity="medium",
        createdDateTime="2024-05-02T00:00:00Z",
        mitreTechniques=["T1059"],
        comments=[comment("c")],
        evidence=[file_evidence(5_000_000), device_evidence("pc.contoso.com")],
    ),
    alert(
        "b4",
        severity="informational",
        assignedTo="bob@contoso.com",
        createdDateTime="2024-05-01T00:00:00Z",
        mitreTechniques=["T1", "T2", "T3"],
        comments=[comment("d"), comment("e")],
        evidence=[file_evidence(5_000_000), file_evidence(3_000_000)],
    ),
]


@pytest.fixture
def api(db_url: str) -> Iterator[Api]:
    with open_api(db_url) as opened:
        opened.load("alerts_v2", ALERTS)
        yield opened


# 4.8 and 5.1.1: the number of items of a collection, in $filter
COUNTS: list[tuple[str, Expected]] = [
    ("mitreTechniques/$count eq 0", ids("b2")),
    ("mitreTechniques/$count eq 2", ids("b1")),  # a duplicate is an item
    ("comments/$count ge 2", ids("b1", "b4")),
    ("evidence/$count gt 2", ids("b1")),
    ("mitreTechniques/$count add comments/$count eq 5", ids("b1", "b4")),
    ("not (mitreTechniques/$count gt 0)", ids("b2")),
    ("mitreTechniques/$count eq length(mitreTechniques)", ids("b1", "b2", "b3", "b4")),
    ("evidence/any(e: e/roles/$count ge 0)", ids("b1", "b3", "b4")),
    ("title/$count eq 1", (400, "$count needs a collection; 'title' is Edm.String")),
    ("$count eq 1", (400, "$count must follow a collection")),
    ("mitreTechniques/$count eq 'x'", (400, "cannot compare Edm.Int64 with Edm.String")),
]

# 4.11: a type-cast segment keeps the elements of that derived type
CASTS: list[tuple[str, Expected]] = [
    (f"evidence/{FILE}/$count ge 2", ids("b1", "b4")),
    (f"evidence/{FILE}/$count eq 0", ids("b2")),
    (f"evidence/{FILE}/any(f: f/fileDetails/fileSize gt 1000000)", ids("b1", "b3", "b4")),
    (f"evidence/{FILE}/any(f: f/fileDetails/fileSize lt 1000)", ids("b1")),
    # all() over the file evidence only: b2 has none (vacuously true), b1 has a small file
    (f"evidence/{FILE}/all(f: f/fileDetails/fileSize gt 1000000)", ids("b2", "b3", "b4")),
    (f"evidence/{FILE}/any()", ids("b1", "b3", "b4")),
    (f"not evidence/{FILE}/any()", ids("b2")),
    (
        "evidence/microsoft.graph.security.userEvidence/any(u: "
        "u/userAccount/userPrincipalName eq 'al@contoso.com')",
        ids("b1"),
    ),
    (
        f"mitreTechniques/{FILE}/any()",
        (400, "only collections of complex values can be cast to a derived type"),
    ),
    (
        "evidence/microsoft.graph.security.alert/$count eq 1",
        (400, "'microsoft.graph.security.alert' is not microsoft.graph.security.alertEvidence"),
    ),
    (
        f"evidence/{FILE}/any(f: f/deviceDnsName eq 'x')",
        (400, "'deviceDnsName' is not a property of microsoft.graph.security.fileEvidence"),
    ),
]

# 5.1.1.1.12 and 5.1.1.14.2: the list after "in" as a JSON array
ARRAYS: list[tuple[str, Expected]] = [
    ('severity in ["high","medium"]', ids("b1", "b3")),
    ('severity in [ "low" ]', ids("b2")),
    ("severity in []", []),
    ("assignedTo in [\"bob@contoso.com\", 'alice@contoso.com']", ids("b2", "b4")),
    ('assignedTo in ["b\\u006fb@contoso.com", null]', ids("b1", "b3", "b4")),
    ('createdDateTime in ["2024-05-02T00:00:00Z", "2024-05-04T00:00:00Z"]', ids("b1", "b3")),
    ('createdDateTime in ["yesterday"]', (400, "'yesterday' is not an ISO 8601 date and time")),
    ('severity in ["nope"]', (400, "'nope' is not a member of microsoft.graph.security")),
    ('title eq "x"', (400, "a double-quoted JSON string is allowed only inside a JSON array")),
    ('severity in ["high" "low"]', (400, "expected ']' to close the list after 'in'")),
    ('length(["a"]) eq 1', (400, "a JSON array is allowed only as the list after 'in'")),
]

# 5.1.1.17: not is unary and binds tighter than eq
PRECEDENCE: list[tuple[str, Expected]] = [
    ("not (severity eq 'high')", ids("b2", "b3", "b4")),
    ("not severity eq 'high'", (400, "'not' needs a Boolean operand, but 'severity' is")),
    ("not mitreTechniques/$count eq 0", (400, "but 'mitreTechniques/$count' is Edm.Int64")),
    ("not contains(title, 'b1')", ids("b2", "b3", "b4")),
    ("not (severity eq 'high') and not (severity eq 'low')", ids("b3", "b4")),
]

TABLES = {"counts": COUNTS, "casts": CASTS, "arrays": ARRAYS, "precedence": PRECEDENCE}


@pytest.mark.parametrize(("query", "expected"), cases(TABLES))
def test_filter(api: Api, query: str, expected: Expected) -> None:
    api.expect(BASE + query, expected)


# 5.1.1.13: parameter aliases stand for a value given as its own query parameter
ALIASES: list[tuple[str, Expected]] = [
    ("assignedTo eq @who&@who='bob@contoso.com'", ids("b4")),
    ("@who eq assignedTo&@who='bob@contoso.com'", ids("b4")),
    ("mitreTechniques/$count ge @n and comments/$count ge @n&@n=2", ids("b1", "b4")),
    ('severity in @levels&@levels=["high","low"]', ids("b1", "b2")),
    ("severity in @levels&@levels=('medium')", ids("b3")),
    ("evidence/any(e: @cond)&@cond=e/verdict eq 'malicious'", ids("b3")),
    ("assignedTo eq @who&@who=@other&@other='alice@contoso.com'", ids("b2")),
    ("assignedTo eq @who&@who=%27bob%40contoso.com%27", ids("b4")),
    ("assignedTo eq @who", (400, "the parameter alias '@who' has no value")),
    ("assignedTo eq @Who&@who='bob@contoso.com'", (400, "the parameter alias '@Who' has no value")),
    ("assignedTo eq @a&@a=@a", (400, "the parameter alias '@a' refers to itself")),
    ("assignedTo eq @n&@n=5", (400, "cannot compare Edm.String with Edm.Int64")),
    ("assignedTo eq @a&@a='x", (400, "Invalid @a at position 0: unterminated string literal")),
    ("assignedTo eq @a&@a=", (400, "Invalid @a at position 0: the value is empty")),
    ("assignedTo eq @a&@a='x'&@a='y'", (400, "Parameter alias '@a' is given more than once")),
]


@pytest.mark.parametrize(("query", "expected"), cases({"aliases": ALIASES}))
def test_parameter_aliases(api: Api, query: str, expected: Expected) -> None:
    api.expect(BASE + query, expected)


def test_alias_error_points_at_the_alias(api: Api) -> None:
    message = api.error(BASE + "title eq 'x' or assignedTo eq @n&@n=5")
    assert message.startswith("Invalid $filter at position 30: "), message


def test_aliases_in_orderby_and_next_links(api: Api) -> None:
    url = "/beta/security/alerts_v2?$orderby=@key desc&@key=mitreTechniques/$count"
    assert api.ids(url) == ["b4", "b1", "b3", "b2"]
    api.load("alerts_v2", [alert(f"n{i:03}", assignedTo="x@contoso.com") for i in range(120)])
    first = api.body("/beta/security/alerts_v2?$filter=assignedTo eq @who&@who='x@contoso.com'")
    link = first["@odata.nextLink"]
    assert "@who=" in link, link  # the alias travels with the next link
    second = api.body(link.replace("http://testserver", ""))
    ids = [item["id"] for item in first["value"] + second["value"]]
    assert sorted(ids) == [f"n{i:03}" for i in range(120)]
    # the continuation is bound to the alias's value like to any other option
    edited = link.replace("http://testserver", "").replace("x%40contoso.com", "y%40contoso.com")
    edited = edited.replace("x@contoso.com", "y@contoso.com")
    assert "$skiptoken" in api.error(edited)


# 4.8: $count of a collection as an $orderby key
ORDERS: list[tuple[str, list[str]]] = [
    ("mitreTechniques/$count desc", ["b4", "b1", "b3", "b2"]),
    ("mitreTechniques/$count", ["b2", "b3", "b1", "b4"]),
    ("comments/$count desc,severity", ["b1", "b4", "b3", "b2"]),
    (f"evidence/{FILE}/$count desc,createdDateTime", ["b4", "b1", "b3", "b2"]),
]


@pytest.mark.parametrize(("orderby", "expected"), ORDERS)
def test_orderby_count(api: Api, orderby: str, expected: list[str]) -> None:
    assert api.ids(f"/beta/security/alerts_v2?$orderby={orderby}") == expected


def test_orderby_count_pages_with_skiptoken(api: Api) -> None:
    """Keyset paging seeks past a $count key like any other (two rows per page here)."""
    extra = [
        alert(f"p{i}", mitreTechniques=["T"] * (i % 3), createdDateTime="2024-04-01T00:00:00Z")
        for i in range(150)
    ]
    api.load("alerts_v2", extra)
    url = "/beta/security/alerts_v2?$orderby=mitreTechniques/$count desc&$select=id"
    seen: list[str] = []
    while url:
        body = api.body(url)
        seen += [item["id"] for item in body["value"]]
        url = body.get("@odata.nextLink", "").replace("http://testserver", "")
    assert len(seen) == len(set(seen)) == 154
    first_page = api.body("/beta/security/alerts_v2?$orderby=mitreTechniques/$count desc")
    assert first_page["value"][0]["id"] == "b4"


# $format: JSON is what Graph answers and what alertgraph writes (issue: Sekoia sends it always)
@pytest.mark.parametrize(
    "path",
    [
        "/beta/security/alerts_v2",
        "/beta/security/alerts_v2/b1",
        "/v1.0/security/alerts_v2",
        "/beta/security/incidents",
        "/beta/security/partner/securityAlerts",
        "/beta/identityGovernance/roleManagementAlerts/alertDefinitions"
        "?$filter=scopeId eq '/' and scopeType eq 'DirectoryRole'",
    ],
)
@pytest.mark.parametrize("value", ["json", "application/json", "JSON", "application%2Fjson"])
def test_format_json_is_accepted_everywhere(api: Api, path: str, value: str) -> None:
    joiner = "&" if "?" in path else "?"
    plain = api.body(path)
    formatted = api.get(f"{path}{joiner}$format={value}")
    assert formatted.status_code == 200, formatted.text
    assert formatted.headers["content-type"].startswith("application/json")
    assert (
        formatted.json()["value" if "value" in plain else "id"]
        == plain["value" if "value" in plain else "id"]
    )


def test_format_json_on_the_count_segment(api: Api) -> None:
    response = api.get("/beta/security/alerts_v2/$count?$format=json&$filter=severity eq 'high'")
    assert response.status_code == 200, response.text
    assert response.text == "1"


def test_format_other_values_are_refused(api: Api) -> None:
    for value in ("xml", "atom", "application/xml", ""):
        message = api.error(f"/beta/security/alerts_v2?$format={value}")
        assert message == (
            f"Invalid $format at position 0: '{value}' is not a supported format; $format takes "
            "json or application/json (responses are always JSON)"
        ), message
    message = api.error("/beta/security/alerts_v2/b1?$format=xml")
    assert "$format takes json or application/json" in message


def test_format_is_kept_in_next_links(api: Api) -> None:
    api.load("alerts_v2", [alert(f"n{i}") for i in range(120)])
    body = api.body("/beta/security/alerts_v2?$format=json")
    assert "$format=json" in body["@odata.nextLink"]
    follow = api.body(body["@odata.nextLink"].replace("http://testserver", ""))
    assert len(follow["value"]) == 24


def test_count_of_a_navigation_collection(api: Api) -> None:
    """``alerts/$count`` on incidents counts the related alerts of the caller's tenant only."""
    api.load("incidents", [{"id": "100"}, {"id": "200"}, {"id": "300"}])
    api.load("alerts_v2", [alert("c1", incidentId="300")])
    # another tenant's alerts of incident 200 are not counted
    api.load("alerts_v2", [alert(f"x{i}", incidentId="200") for i in range(3)], tenant=TENANT_B)
    base = "/beta/security/incidents?$select=id&$filter="
    assert sorted(api.ids(base + "alerts/$count ge 2")) == ["100"]
    assert sorted(api.ids(base + "alerts/$count eq 1")) == ["300"]
    assert sorted(api.ids(base + "alerts/$count eq 0")) == ["200"]
    # collections of the related alerts, inside a lambda over them
    assert api.ids(base + "alerts/any(a: a/mitreTechniques/$count ge 3)") == ["100"]
    assert api.ids(base + "alerts/any(a: a/comments/any(c: c/comment eq 'e'))") == ["100"]
    assert sorted(api.ids(base + "alerts/all(a: a/mitreTechniques/$count lt 3)")) == [
        "200",
        "300",
    ]
    ordered = api.ids("/beta/security/incidents?$orderby=alerts/$count desc")
    assert ordered == ["100", "300", "200"]
    message = api.error(base + "alerts/microsoft.graph.security.alert/$count eq 0")
    assert "a type cast after the navigation property 'alerts' is not supported" in message
