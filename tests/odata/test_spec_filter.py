"""$filter operators and literals over HTTP, checked against answers worked out by hand from OData
4.01 URL Conventions 5.1.1 (SQLite and PostgreSQL). Every table runs against spec_support.ALERTS.
"""

from __future__ import annotations

import pytest

from .spec_support import ALL, ORDER, Api, Expected, cases, rows

BASE = "/beta/security/alerts_v2?$filter="


# 5.1.1.1.1-6: comparisons; null equals only null, ordering comparisons with null are false
COMPARISONS: list[tuple[str, Expected]] = [
    ("status eq 'new'", rows("a1", "a4")),
    ("status ne 'new'", rows("a5", "a2", "a3")),
    ("title eq null", rows("a4")),
    ("title ne null", rows("a5", "a2", "a1", "a3")),
    ("null eq title", rows("a4")),
    ("assignedTo ne 'bob'", rows("a2", "a1", "a4", "a3")),
    ("title gt null", []),
    ("title le null", []),
    ("null eq null", ALL),
    ("null ne null", []),
    ("assignedTo eq ''", rows("a3")),
    ("assignedTo eq title", []),
    # strings compare by code point: 'O' < 'P' < 'a' < 'p' < 'Ä'
    ("title lt 'a'", rows("a5", "a1")),
    ("title ge 'p'", rows("a2", "a3")),
    ("title le 'Phishing mail'", rows("a5", "a1")),
    ("'Phishing mail' eq title", rows("a1")),
    # enumerations compare by member value: informational 32 < low 64 < medium 128 < high 256
    ("severity gt 'low'", rows("a5", "a1", "a3")),
    ("severity le 'low'", rows("a2", "a4")),
    ("severity eq microsoft.graph.security.alertSeverity'high'", rows("a5", "a1")),
    ("classification eq null", rows("a2", "a4", "a3")),
    ("classification ne 'truePositive'", rows("a5", "a2", "a4", "a3")),
    ("title eq 1", (400, "cannot compare Edm.String with Edm.Int64")),
    (
        "severity eq 'nope'",
        (400, "'nope' is not a member of microsoft.graph.security.alertSeverity"),
    ),
    (
        "severity eq microsoft.graph.security.alertStatus'new'",
        (400, "cannot be compared"),
    ),
    ("createdDateTime eq '2024-05-01T10:00:00Z'", (400, "cannot compare")),
]

# 5.1.1.14.1 and the ABNF: DateTimeOffset literals compare as instants whatever their offset
DATETIMES: list[tuple[str, Expected]] = [
    ("createdDateTime eq 2024-05-02T01:30:00Z", rows("a2")),
    ("createdDateTime eq 2024-05-01T23:30:00-02:00", rows("a2")),
    ("createdDateTime eq 2024-05-02T04:30:00%2B03:00", rows("a2")),
    ("createdDateTime eq 2024-05-02T04:30:00+03:00", rows("a2")),  # a bare + in the offset
    ("createdDateTime eq 2024-06-15T02:30Z", rows("a5")),  # seconds may be omitted
    ("createdDateTime eq 2024-06-15t02:30:00z", rows("a5")),  # T and Z in any case
    ("createdDateTime eq 2023-12-31T23:59:59.9999999Z", rows("a3")),
    ("createdDateTime eq 2023-12-31T23:59:59.999999Z", []),
    ("createdDateTime gt 2023-12-31T23:59:59.9999998Z", ALL),
    ("createdDateTime eq 2024-02-29T12:00:00.50Z", rows("a4")),
    ("createdDateTime ge 2024-05-02", rows("a5", "a2")),  # a Date means its midnight UTC
    ("createdDateTime lt 2024-01-01", rows("a3")),
    ("createdDateTime add duration'PT1H' eq 2024-05-01T11:00:00Z", rows("a1")),
    ("lastUpdateDateTime sub createdDateTime gt duration'PT12H'", rows("a2", "a1")),
    ("lastUpdateDateTime sub duration'P1D' lt createdDateTime", ALL),
    ("createdDateTime lt 2024-13-01T00:00:00Z", (400, "month must be in 1..12")),
    ("createdDateTime lt 2024-02-30T00:00:00Z", (400, "day is out of range")),
    ("createdDateTime lt 2023-02-29", (400, "day is out of range")),
    ("createdDateTime lt 2024-05-01T25:00:00Z", (400, "invalid time of day")),
]

# 5.1.1.1.7-9: and/or/not are three-valued; a row is returned only when the filter is true
LOGIC: list[tuple[str, Expected]] = [
    ("true", ALL),
    ("false", []),
    ("null", []),
    ("not null", []),
    ("not true", []),
    ("not false", ALL),
    ("not(status eq 'new')", rows("a5", "a2", "a3")),
    ("title eq 'a' or title ne 'a'", ALL),
    ("not (title eq 'Phishing mail') and not (title eq null)", rows("a5", "a2", "a3")),
    ("startswith(title,'Phi') eq false", rows("a5", "a2", "a3")),
    ("not startswith(title,'Phi')", rows("a5", "a2", "a3")),
    ("not contains(assignedTo,'b')", rows("a1", "a3")),
    ("(status eq 'new' or status eq 'resolved') and severity eq 'high'", rows("a5", "a1")),
    ("status eq 'new' or status eq 'resolved' and severity eq 'high'", rows("a5", "a1", "a4")),
    ("STATUS EQ 'new' AND Severity Eq 'high'", rows("a1")),  # 4.01: names in any case
    # a condition compared with a Boolean: two-valued, so null is "not true"
    ("severity has 'high' eq true", rows("a5", "a1")),
    ("severity has 'high' eq false", rows("a2", "a4", "a3")),
    ("severity has 'high' ne true", rows("a2", "a4", "a3")),
    ("true eq (status eq 'new')", rows("a1", "a4")),
    ("(title eq 'Phishing mail') eq false", rows("a5", "a2", "a4", "a3")),
    ("mitreTechniques/any() eq false", rows("a2", "a4", "a3")),
    ("title in ('Phishing mail', 'x') eq true", rows("a1")),
]

# 5.1.1.1.10-11: has tests enumeration flags; in compares with each member of a list or collection
IN_AND_HAS: list[tuple[str, Expected]] = [
    ("assignedTo in ()", []),
    ("assignedTo in ('bob')", rows("a5")),
    ("assignedTo in ('bob', 'Bob', null)", rows("a5", "a2", "a4")),
    ("not (assignedTo in ('bob', 'Bob'))", rows("a2", "a1", "a3")),
    ("severity in ('high', 'low')", rows("a5", "a2", "a1")),
    ("'T1566' in mitreTechniques", rows("a5", "a1")),
    ("'T1059' in mitreTechniques", rows("a5")),
    ("not ('T1566' in mitreTechniques)", rows("a2", "a4", "a3")),
    ("severity has 'high'", rows("a5", "a1")),
    ("severity has microsoft.graph.security.alertSeverity'informational'", rows("a4")),
    ("status has 'new'", rows("a1", "a4")),
    ("title has 'x'", (400, "'has' needs an enumeration")),
]

# 5.1.1.2: arithmetic; integer div truncates, mod keeps the left sign, div/mod by zero fail,
# divby zero is INF; numbers promote (5.1.1.18); NaN equals nothing (5.1.1.1.1)
ARITHMETIC: list[tuple[str, Expected]] = [
    ("length(title) add 1 eq 14", rows("a2", "a1", "a3")),
    ("length(title) sub 14 eq 0", rows("a5")),
    ("length(title) mul -1 eq -14", rows("a5")),
    ("-length(title) eq -14", rows("a5")),
    ("length(title) div 2 eq 6", rows("a2", "a1", "a3")),
    ("length(title) divby 2 eq 6.5", rows("a2", "a1", "a3")),
    ("length(title) mod 5 eq 4", rows("a5")),
    ("length(title) eq 13.0", rows("a2", "a1", "a3")),
    ("length(title) eq 1.3e1", rows("a2", "a1", "a3")),
    ("length(title) lt 9223372036854775807", rows("a5", "a2", "a1", "a3")),
    ("5 div 2 eq 2", ALL),
    ("-5 div 2 eq -2", ALL),
    ("5 divby 2 eq 2.5", ALL),
    ("-5 mod 3 eq -2", ALL),
    ("5 mod -3 eq 2", ALL),
    ("5.5 mod 2 eq 1.5", ALL),
    ("-5.5 mod 2 eq -1.5", ALL),
    ("(4 add 5) mod (4 sub 1) eq 0", ALL),
    ("1 add 2 mul 3 eq 7", ALL),
    ("1 div 0 eq 0", (400, "division by zero")),
    ("1 mod 0 eq 0", (400, "division by zero")),
    # Int64 overflow fails on both databases (SQLite would turn the result into a float)
    ("9223372036854775807 add 1 gt 0", (400, "could not be evaluated")),
    ("length(title) mul 9223372036854775807 gt 0", (400, "could not be evaluated")),
    ("-9223372036854775807 sub length(title) lt 0", (400, "could not be evaluated")),
    ("9223372036854775806 add 1 gt 0", ALL),
    ("cast(1e300,Edm.Int64) eq 1", (400, "could not be evaluated")),
    ("cast(-9.3e18,Edm.Int64) lt 0", (400, "could not be evaluated")),
    ("cast(9.2e18,Edm.Int64) gt 0", ALL),
    ("1.5 div 0 eq 0", (400, "division by zero")),
    ("length(title) div (length(title) sub 13) eq 1", (400, "division by zero")),
    ("1 divby 0 eq INF", ALL),
    ("-1 divby 0 eq -INF", ALL),
    ("1E0 div 0 eq INF", ALL),
    ("INF gt 1", ALL),
    ("-INF lt -1", ALL),
    ("NaN eq NaN", []),
    ("NaN ne NaN", ALL),
    ("1 eq NaN", []),
    ("NaN gt 1", []),
    ("NaN le 1", []),
    ("title add 1 eq 2", (400, "arithmetic needs numbers")),
]

# 5.1.1.14.1: primitive literals, with and without type prefixes
LITERALS: list[tuple[str, Expected]] = [
    ("title eq 'O''Brien 100% 😀'", rows("a5")),
    ("title%20eq%20%27O%27%27Brien%20100%25%20%F0%9F%98%80%27", rows("a5")),
    ("contains(title,'%25')", rows("a5")),  # decoded once: '%'
    ("contains(title,'%2525')", []),  # decoded once: the text '%25'
    ("title eq %2527x%2527", (400, "unexpected character '%'")),  # a double-encoded quote
    ("title+eq+'Phishing+mail'", rows("a1")),  # a bare + is a space
    ("title%2Beq%2B'Phishing mail'", (400, "unexpected character '+'")),
    ("title eq 'x", (400, "unterminated string literal")),
    ("createdDateTime gt 2024-05-01T00:00:00", (400, "2024-05-01T00:00:00 needs a time zone")),
    ("createdDateTime gt 2024-05-01T00:00%2B0100", (400, "00:00+0100 needs a time zone")),
    ("id eq 12345678-1234-1234-1234-123456789012", []),
    ("duration'P1D' eq duration'PT24H'", ALL),
    ("duration'P1D' gt duration'PT23H59M59.9999999S'", ALL),
    ("2024-05-01 lt 2024-05-02", ALL),
    ("10:30:00 gt 09:59:59.999", ALL),
    ("true eq true and false lt true", ALL),
    ("-128 lt 0 and 0.31415926535897931e1 gt 3.14", ALL),
]

TABLES = {
    "comparisons": COMPARISONS,
    "datetimes": DATETIMES,
    "logic": LOGIC,
    "in_and_has": IN_AND_HAS,
    "arithmetic": ARITHMETIC,
    "literals": LITERALS,
}


@pytest.mark.parametrize(("query", "expected"), cases(TABLES))
def test_filter(api: Api, query: str, expected: Expected) -> None:
    api.expect(BASE + query, expected)


def test_default_order_is_newest_first(api: Api) -> None:
    assert api.ids("/beta/security/alerts_v2") == ORDER


def test_errors_name_the_position(api: Api) -> None:
    message = api.error(BASE + "status eq 'new' and severty eq 'high'")
    assert message == (
        "Invalid $filter at position 20: 'severty' is not a property of "
        "microsoft.graph.security.alert. Did you mean 'severity'?"
    )
    message = api.error(BASE + "1 div 0 eq 0")
    assert message.startswith("Invalid $filter at position 6: division by zero")
