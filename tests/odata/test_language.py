"""The $filter/$orderby language end to end on both engines (functions, lambdas, casts)."""

from __future__ import annotations

from urllib.parse import quote

import pytest

from alertgraph.errors import ODataError
from alertgraph.odata import list_collection
from alertgraph.schema.endpoints import entity_set
from alertgraph.store.database import Store
from tests.factories import device_evidence, user_evidence

from .helpers import alert, context, insert

ALERTS = entity_set("alerts_v2")
PARTNER = entity_set("partner_alerts")


RECORDS = [
    alert(
        1,
        title="Suspicious 100% _match_ O'Brien",
        assignedTo="alice@contoso.com",
        mitreTechniques=["T1059", "T1566"],
        systemTags=["Red"],
        evidence=[user_evidence("alice@contoso.com"), device_evidence("pc1.contoso.com")],
        createdDateTime="2024-05-01T10:30:15.1234567Z",
        comments=[
            {
                "comment": "first",
                "createdByDisplayName": "x",
                "createdDateTime": "2024-05-01T00:00:00Z",
            }
        ],
    ),
    alert(
        2,
        title="Phishing mail",
        assignedTo=None,
        mitreTechniques=["T1566"],
        systemTags=[],
        evidence=[device_evidence("pc2.contoso.com")],
        createdDateTime="2023-12-31T23:59:59Z",
    ),
    alert(
        3,
        title="phishing MAIL",
        assignedTo="bob@contoso.com",
        mitreTechniques=[],
        evidence=[],
        createdDateTime="2024-02-29T00:00:00+02:00",
    ),
    alert(4, title="Lateral movement", assignedTo="Bob", createdDateTime="2024-06-15T08:00:00Z"),
]


@pytest.fixture
def alerts(store: Store) -> Store:
    insert(store, "alerts_v2", RECORDS)
    return store


def run(store: Store, filter_text: str, **extra: str) -> list[str]:
    query = "$filter=" + quote(filter_text)
    for name, value in extra.items():
        query += f"&${name}={quote(value, safe=',')}"
    body = list_collection(context(store), ALERTS, query)
    return [item["id"] for item in body["value"]]


CASES = [
    ("contains(title, '100%')", ["a001"]),
    ("contains(title, '_match_')", ["a001"]),
    ("contains(title, 'O''Brien')", ["a001"]),
    ("contains(title, 'phishing')", ["a003"]),
    ("startswith(title, 'Phish')", ["a002"]),
    ("endswith(title, 'mail')", ["a002"]),
    ("endswith(title, '')", ["a001", "a002", "a003", "a004"]),
    ("tolower(title) eq 'phishing mail'", ["a002", "a003"]),
    ("toupper(title) eq 'PHISHING MAIL'", ["a002", "a003"]),
    ("length(title) eq 13", ["a002", "a003"]),
    ("indexof(title, 'mail') eq 9", ["a002"]),
    ("substring(title, 9) eq 'mail'", ["a002"]),
    ("substring(title, 0, 8) eq 'Phishing'", ["a002"]),
    ("concat(concat(title, '/'), 'x') eq 'Phishing mail/x'", ["a002"]),
    ("trim(concat(' ', title)) eq 'Phishing mail'", ["a002"]),
    ("matchesPattern(title, '^[Pp]hishing')", ["a002", "a003"]),
    ("length(assignedTo) gt 0", ["a001", "a003", "a004"]),
    ("not (length(assignedTo) gt 0)", ["a002"]),
    ("assignedTo ne 'Bob'", ["a001", "a002", "a003"]),
    ("assignedTo lt 'b'", ["a001", "a004"]),  # code points: 'Bob' < 'alice' < 'b'
    ("assignedTo lt 'a'", ["a004"]),
    ("year(createdDateTime) eq 2024", ["a001", "a003", "a004"]),
    ("year(createdDateTime) eq 2023", ["a002"]),
    ("month(createdDateTime) eq 2 and day(createdDateTime) eq 28", ["a003"]),
    ("hour(createdDateTime) eq 22", ["a003"]),
    ("minute(createdDateTime) eq 30 and second(createdDateTime) eq 15", ["a001"]),
    ("fractionalseconds(createdDateTime) gt 0.12", ["a001"]),
    ("date(createdDateTime) eq 2024-05-01", ["a001"]),
    ("time(createdDateTime) eq 08:00:00", ["a004"]),
    ("time(createdDateTime) lt 01:00:00", []),
    ("totaloffsetminutes(createdDateTime) eq 0", ["a001", "a002", "a003", "a004"]),
    (
        "createdDateTime lt now() and createdDateTime gt mindatetime()",
        ["a001", "a002", "a003", "a004"],
    ),
    ("createdDateTime lt maxdatetime()", ["a001", "a002", "a003", "a004"]),
    ("createdDateTime eq 2024-02-28T22:00:00Z", ["a003"]),
    ("createdDateTime ge 2024-05-01", ["a001", "a004"]),
    ("createdDateTime lt 2024-01-01T01:00:00+00:30", ["a002"]),
    ("createdDateTime lt 2024-01-01T01:00:00+02:00", []),
    ("createdDateTime add duration'P1D' gt 2024-06-16T00:00:00Z", ["a004"]),
    ("severity eq microsoft.graph.security.alertSeverity'medium'", ["a001"]),
    ("severity gt 'low'", ["a001", "a002"]),  # by member value: medium, high > low
    ("severity in ('high')", ["a002"]),
    ("status has 'inProgress'", ["a001", "a004"]),
    ("mitreTechniques/any(t: t eq 'T1566')", ["a001", "a002"]),
    ("mitreTechniques/any()", ["a001", "a002"]),
    ("not mitreTechniques/any()", ["a003", "a004"]),
    ("mitreTechniques/all(t: startswith(t, 'T15'))", ["a002", "a003", "a004"]),
    ("systemTags/any(t: t in ('Red', 'Blue'))", ["a001"]),
    (
        "evidence/any(e: e/microsoft.graph.security.userEvidence/userAccount/userPrincipalName"
        " eq 'alice@contoso.com')",
        ["a001"],
    ),
    (
        "evidence/any(e: e/microsoft.graph.security.deviceEvidence/deviceDnsName eq"
        " 'pc2.contoso.com')",
        ["a002"],
    ),
    ("evidence/any(e: e/verdict eq 'malicious')", ["a001", "a002"]),
    ("evidence/any(e: e/verdict gt 'suspicious')", ["a001", "a002"]),
    ("evidence/all(e: e/remediationStatus eq 'remediated')", ["a002", "a003", "a004"]),
    ("evidence/any(e: isof(e, microsoft.graph.security.userEvidence))", ["a001"]),
    ("evidence/any(e: e/roles/any(r: r eq 'compromised'))", ["a001"]),
    ("evidence/any(e: e/createdDateTime ge 2024-05-02T00:00:00Z)", ["a001", "a002"]),
    (
        "evidence/any(e: year(e/createdDateTime) eq 2024 and month(e/createdDateTime) eq 5)",
        ["a001", "a002"],
    ),
    ("evidence/any(e: e/createdDateTime gt $it/createdDateTime)", ["a001", "a002"]),
    ("evidence/all(e: e/createdDateTime gt $it/createdDateTime)", ["a001", "a002", "a003", "a004"]),
    ("comments/any(c: c/comment eq 'first')", ["a001"]),
    ("isof(microsoft.graph.security.alert)", ["a001", "a002", "a003", "a004"]),
    ("isof(microsoft.graph.security.manualAlert)", []),
    ("1 add 2 eq 3 and id eq 'a001'", ["a001"]),
    ("length(title) mod 2 eq 1 and length(title) div 2 eq 6", ["a002", "a003"]),
    ("length(title) divby 2 eq 6.5", ["a002", "a003"]),
    ("-length(title) eq -13", ["a002", "a003"]),
    ("length(title) sub 3 mul 2 eq 7", ["a002", "a003"]),
    ("round(length(title) divby 2) eq 7", ["a002", "a003"]),
    ("floor(length(title) divby 2) eq 6 and ceiling(length(title) divby 2) eq 7", ["a002", "a003"]),
    ("assignedTo eq null or assignedTo eq 'Bob'", ["a002", "a004"]),
    ("not (assignedTo eq null)", ["a001", "a003", "a004"]),
    ("NOT(Severity EQ 'medium')", ["a002", "a003", "a004"]),
    ("not null", []),
    ("null", []),
    ("not (null and false)", ["a001", "a002", "a003", "a004"]),
    ("not (null or true)", []),
    ("true", ["a001", "a002", "a003", "a004"]),
    ("not false", ["a001", "a002", "a003", "a004"]),
    ("title in ()", []),
    ("not (title in ())", ["a001", "a002", "a003", "a004"]),
    (
        "microsoft.graph.security.manualAlert/isExcludedFromCorrelation eq null",
        ["a001", "a002", "a003", "a004"],
    ),
    ("not microsoft.graph.security.manualAlert/isExcludedFromCorrelation", []),
]


@pytest.mark.parametrize(("text", "expected"), CASES, ids=[c[0][:60] for c in CASES])
def test_filter(alerts: Store, text: str, expected: list[str]) -> None:
    assert sorted(run(alerts, text)) == expected


def test_orderby_expressions_and_nulls(alerts: Store) -> None:
    assert run(alerts, "true", orderby="assignedTo") == ["a002", "a004", "a001", "a003"]
    assert run(alerts, "true", orderby="assignedTo desc") == ["a003", "a001", "a004", "a002"]
    assert run(alerts, "true", orderby="length(title) desc,id desc")[:2] == ["a001", "a004"]
    assert run(alerts, "true", orderby="severity,createdDateTime") == [
        "a003",
        "a004",
        "a001",
        "a002",
    ]


@pytest.mark.parametrize(
    ("text", "message", "position"),
    [
        ("evidence/any(e: e/userAccount/userPrincipalName eq 'x')", "userEvidence", 16),
        ("contains(title)", "contains() takes", 0),
        ("severity eq 3.5", "quoted member names", 12),
        ("createdDateTime eq 'yesterday'", "cannot compare", 19),
        ("evidence eq 'x'", "evidence/any(x: ...)", 0),
        ("title", "expected a Boolean expression", 0),
        ("bogus(title)", "unknown function", 0),
        ("titel eq 'x'", "Did you mean 'title'?", 0),
    ],
)
def test_errors(alerts: Store, text: str, message: str, position: int) -> None:
    with pytest.raises(ODataError) as caught:
        run(alerts, text)
    assert message in caught.value.message
    assert caught.value.position == position
