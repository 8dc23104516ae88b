"""Canonical functions, type functions and lambda operators over HTTP, checked against answers
worked out by hand from OData 4.01 URL Conventions 5.1.1.4-5.1.1.13 (SQLite and PostgreSQL).
Every table runs against spec_support.ALERTS (dates there are stored and evaluated in UTC)."""

from __future__ import annotations

import pytest

from .spec_support import ALL, Api, Expected, cases, rows

BASE = "/beta/security/alerts_v2?$filter="
TITLED = rows("a5", "a2", "a1", "a3")  # every alert but a4, whose title is null


# 5.1.1.5 and 5.1.1.7: string functions count code points, compare case-sensitively, and give
# null for null; tolower/toupper follow Unicode simple case mapping on both engines
STRINGS: list[tuple[str, Expected]] = [
    ("contains(title,'hish')", rows("a2", "a1")),
    ("contains(title,'')", TITLED),
    ("contains(assignedTo,'')", rows("a5", "a1", "a4", "a3")),
    ("CONTAINS(title,'mail')", rows("a1")),
    ("startswith(title,'Phi')", rows("a1")),
    ("startswith(title,'Ä')", rows("a3")),
    ("endswith(title,'😀')", rows("a5")),
    ("indexof(title,'mail') eq 9", rows("a1")),
    ("indexof(title,'zzz') eq -1", TITLED),
    ("indexof(title,'') eq 0", TITLED),
    ("indexof(title,'😀') eq 13", rows("a5")),
    ("indexof(title,'İ') eq 11", rows("a3")),
    ("length(title) eq 13", rows("a2", "a1", "a3")),
    ("length(title) eq 14", rows("a5")),  # the emoji is one character
    ("length(title) eq null", rows("a4")),
    ("length(assignedTo) eq 0", rows("a3")),
    ("length('😀') eq 1", ALL),
    ("substring(title,1) eq 'hishing mail'", rows("a1")),
    ("substring(title,9,100) eq 'mail'", rows("a1")),
    ("substring(title,0,3) eq 'ÄÖÜ'", rows("a3")),
    ("substring(title,13) eq '😀'", rows("a5")),
    ("substring(title,13,1) eq '😀'", rows("a5")),
    # bounds beyond any text clamp on both databases (PostgreSQL's substr takes an int4)
    ("substring(title,9223372036854775807) eq ''", TITLED),
    ("substring(title,0,9223372036854775807) eq title", ALL),
    # out-of-range arguments are not defined by the spec; this service clamps them
    ("substring(title,100) eq ''", TITLED),
    ("substring(title,-1) eq 'Phishing mail'", rows("a1")),
    ("substring(title,1,-1) eq ''", TITLED),
    ("tolower(title) eq 'phishing mail'", rows("a2", "a1")),
    ("toupper(title) eq 'PHISHING MAIL'", rows("a2", "a1")),
    ("tolower(title) eq 'äöü straße ix'", rows("a3")),
    ("toupper(title) eq 'ÄÖÜ STRAßE İX'", rows("a3")),
    ("toupper(title) eq 'O''BRIEN 100% 😀'", rows("a5")),
    ("tolower(title) eq tolower('PHISHING MAIL')", rows("a2", "a1")),
    ("tolower('ÀÉÎ') eq 'àéî' and toupper('àéî') eq 'ÀÉÎ'", ALL),
    ("trim('  x ') eq 'x'", ALL),
    ("trim(concat(concat('%09%C2%A0 ',title),'%E3%80%80')) eq title", ALL),
    ("concat(title,null) eq null", ALL),
    ("concat(assignedTo,'x') eq 'x'", rows("a3")),
    ("concat(concat(title,' / '),assignedTo) eq 'Phishing mail / alice@contoso.com'", rows("a1")),
    ("matchesPattern(title,'%5E[Pp]hishing')", rows("a2", "a1")),
    ("matchespattern(title,'mail$')", rows("a1")),
    ("matchesPattern(title,'(')", (400, "invalid regular expression")),
    # PostgreSQL refuses a bound above 255 (Python takes far more): refused on both databases
    ("matchesPattern(title,'a{99999999}')", (400, "the repetition {99999999} counts above 255")),
    ("matchesPattern(title,'a{2,255}')", []),
    ("contains(title)", (400, "contains() takes contains(Edm.String, Edm.String)")),
    ("contains(title,1)", (400, "got contains(Edm.String, Edm.Int64)")),
    ("nofunc(title)", (400, "unknown function 'nofunc'")),
    ("tolower(severity) eq 'high'", (400, "tolower() takes tolower(Edm.String)")),
]

# 5.1.1.8: date and time parts of values normalized to UTC; literals in another zone fail
DATES: list[tuple[str, Expected]] = [
    ("year(createdDateTime) eq 2024", rows("a5", "a2", "a1", "a4")),
    ("year(createdDateTime) eq 2023", rows("a3")),
    ("month(createdDateTime) eq 5", rows("a2", "a1")),
    ("day(createdDateTime) eq 2", rows("a2")),  # written as 05-01 at -02:00
    ("day(createdDateTime) eq 29", rows("a4")),
    ("hour(createdDateTime) eq 1", rows("a2")),
    ("hour(createdDateTime) eq 2", rows("a5")),
    ("hour(createdDateTime) eq 23", rows("a3")),
    ("minute(createdDateTime) eq 30", rows("a5", "a2")),
    ("second(createdDateTime) eq 59", rows("a3")),
    ("fractionalseconds(createdDateTime) eq 0.5", rows("a4")),
    ("fractionalseconds(createdDateTime) eq 0.9999999", rows("a3")),
    ("fractionalseconds(createdDateTime) eq 0", rows("a5", "a2", "a1")),
    ("date(createdDateTime) eq 2024-05-02", rows("a2")),
    ("date(createdDateTime) lt date(lastUpdateDateTime)", rows("a2", "a1", "a4", "a3")),
    ("year(date(createdDateTime)) eq 2023", rows("a3")),
    # 5.1.1.2.1-2: a Date plus a duration is the day of its midnight plus the duration
    ("date(createdDateTime) add duration'P1D' eq 2024-05-03", rows("a2")),
    ("date(createdDateTime) add duration'PT12H' eq 2024-05-02", rows("a2")),
    ("date(createdDateTime) sub duration'PT12H' eq 2024-05-01", rows("a2")),
    ("2024-03-01 sub duration'P1D' eq 2024-02-29", ALL),
    ("2024-03-01 sub 2024-02-28 eq duration'P2D'", ALL),
    (
        "date(lastUpdateDateTime) sub date(createdDateTime) eq duration'P1D'",
        rows("a2", "a1", "a4", "a3"),
    ),
    ("2024-03-01 add 1 eq 2024-03-02", (400, "cannot combine Edm.Date and Edm.Int64")),
    ("time(createdDateTime) eq 01:30:00", rows("a2")),
    ("time(createdDateTime) lt 02:00:00", rows("a2")),
    ("time(createdDateTime) eq 23:59:59.9999999", rows("a3")),
    ("hour(10:30:15.25) eq 10 and minute(10:30:15.25) eq 30", ALL),
    ("second(10:30:15.25) eq 15 and fractionalseconds(10:30:15.25) eq 0.25", ALL),
    ("year(2024-05-01) eq 2024 and month(2024-05-01) eq 5 and day(2024-05-01) eq 1", ALL),
    ("day(2024-05-01T23:30:00Z) eq 1", ALL),
    ("day(2024-05-01T23:30:00-02:00) eq 2", (400, "with a UTC offset other than Z")),
    ("date(2024-05-01T23:30:00%2B02:00) eq 2024-05-01", (400, "UTC offset other than Z")),
    ("totaloffsetminutes(createdDateTime) eq 0", ALL),
    ("totaloffsetminutes(2024-05-01T23:30:00-02:00) eq -120", ALL),
    ("createdDateTime lt mindatetime()", []),
    ("createdDateTime lt maxdatetime()", ALL),
    ("createdDateTime le now() and year(now()) ge 2024", ALL),
    ("createdDateTime gt now() sub duration'P36500D'", ALL),
]

# 5.1.1.9: round half away from zero, floor, ceiling, on both engines
MATH: list[tuple[str, Expected]] = [
    ("round(2.5) eq 3 and round(-2.5) eq -3 and round(0.5) eq 1 and round(-0.5) eq -1", ALL),
    ("round(2.5E0) eq 3 and round(-2.5E0) eq -3 and round(2.4999) eq 2", ALL),
    ("floor(-2.5) eq -3 and ceiling(-2.5) eq -2 and floor(-0.5) eq -1", ALL),
    ("floor(2.5E0) eq 2 and ceiling(2.1E0) eq 3", ALL),
    ("round(length(title) divby 4) eq 3", rows("a2", "a1", "a3")),  # 3.25
    ("round(length(title) divby 4) eq 4", rows("a5")),  # 3.5
    ("floor(length(title) divby 4) eq 3", TITLED),
    ("ceiling(length(title) divby 4) eq 4", TITLED),
    ("round(length(title)) eq 13", rows("a2", "a1", "a3")),
]

# 5.1.1.10: isof and cast
TYPES: list[tuple[str, Expected]] = [
    ("isof(microsoft.graph.security.alert)", ALL),
    ("isof(microsoft.graph.security.manualAlert)", []),
    ("isof($it,microsoft.graph.security.alert)", ALL),
    ("isof(title,Edm.String)", TITLED),
    ("isof(title,Edm.Int32)", []),
    ("isof(microsoft.graph.security.incident)", (400, "is not microsoft.graph.security.alert")),
    ("cast(severity,Edm.String) eq 'high'", rows("a5", "a1")),
    ("cast(status,Edm.String) eq 'inProgress'", rows("a3")),
    ("cast(length(title),Edm.String) eq '14'", rows("a5")),
    ("cast(length(title),Edm.Double) eq 14", rows("a5")),
    ("cast(startswith(title,'Phi'),Edm.String) eq 'true'", rows("a1")),
    ("evidence/any(e:cast(e/verdict,Edm.String) eq 'malicious')", rows("a3")),
    ("cast(createdDateTime,Edm.String) eq 'x'", (400, "is not supported here")),
]

# 5.1.1.13: any is false and all true on empty (or absent) collections; the lambda variable
# hides a property of the same name; $it and unprefixed names mean the alert itself
LAMBDAS: list[tuple[str, Expected]] = [
    ("mitreTechniques/any()", rows("a5", "a1")),
    ("not mitreTechniques/any()", rows("a2", "a4", "a3")),
    ("mitreTechniques/any(t:t eq 'T1566')", rows("a5", "a1")),
    ("mitreTechniques/ANY(t: t eq 'T1566')", rows("a5", "a1")),
    ("mitreTechniques/any (t: t eq 'T1566')", rows("a5", "a1")),
    ("mitreTechniques/all(t: t eq 'T1566')", rows("a2", "a1", "a4", "a3")),
    ("mitreTechniques/all(t: false)", rows("a2", "a4", "a3")),
    ("mitreTechniques/any(t: true)", rows("a5", "a1")),
    ("mitreTechniques/any(t: startswith(t,'T10'))", rows("a5")),
    ("mitreTechniques/any(title: title eq 'T1059')", rows("a5")),
    ("mitreTechniques/any(t: t eq $it/title)", []),
    ("mitreTechniques/any(t: $it/severity eq 'high' and t eq 'T1059')", rows("a5")),
    ("mitreTechniques/any(t: severity eq 'high' and t eq 'T1059')", rows("a5")),
    ("mitreTechniques/any(t: mitreTechniques/any(u: u ne t))", rows("a5")),
    ("evidence/any(e: e/roles/any(r: r eq 'compromised'))", rows("a1")),
    ("evidence/any(e: e/roles/all(r: r eq 'compromised'))", rows("a1", "a3")),
    ("evidence/all(e: e/roles/any())", rows("a5", "a2", "a1", "a4")),
    ("evidence/any(e: e/verdict eq 'malicious')", rows("a3")),
    (
        "evidence/any(e: e/microsoft.graph.security.userEvidence/userAccount/userPrincipalName"
        " eq 'alice@contoso.com')",
        rows("a1"),
    ),
    (
        "evidence/any(e: e/microsoft.graph.security.deviceEvidence/deviceDnsName"
        " eq 'pc3.contoso.com')",
        rows("a3"),
    ),
    ("evidence/any(e: isof(e, microsoft.graph.security.deviceEvidence))", rows("a3")),
    ("evidence/any(e: e/createdDateTime gt 2024-05-01T12:00:00Z)", rows("a3")),
    ("evidence/any(e: e/createdDateTime eq 2024-05-01T14:00:00%2B02:00)", rows("a1")),
    ("evidence/any(e: e/createdDateTime gt $it/createdDateTime)", rows("a1", "a3")),
    ("length(mitreTechniques) eq 2", rows("a5")),
    ("length(mitreTechniques) eq 0", rows("a2")),
    ("length(evidence) eq 1", rows("a1", "a3")),
    ("evidence/any(e: length(e/roles) eq 0)", rows("a3")),
    ("mitreTechniques/any(t: t/any(x: x eq 'a'))", (400, "any() needs a collection")),
    ("mitreTechniques/all()", (400, "all() needs a lambda expression")),
    ("mitreTechniques/any(t: u eq 'x')", (400, "'u' is not a property")),
    ("mitreTechniques eq 'x'", (400, "is a collection")),
]

TABLES = {
    "strings": STRINGS,
    "dates": DATES,
    "math": MATH,
    "types": TYPES,
    "lambdas": LAMBDAS,
}


@pytest.mark.parametrize(("query", "expected"), cases(TABLES))
def test_function(api: Api, query: str, expected: Expected) -> None:
    api.expect(BASE + query, expected)


@pytest.mark.parametrize(
    ("orderby", "expected"),
    [
        # 5.1.4: expressions order like values; nulls first ascending, last descending
        ("tolower(title)", ["a4", "a5", "a1", "a2", "a3"]),
        ("tolower(title) desc", ["a3", "a1", "a2", "a5", "a4"]),
        ("length(title),id desc", ["a4", "a3", "a2", "a1", "a5"]),
        ("hour(createdDateTime) desc", ["a3", "a4", "a1", "a5", "a2"]),
        ("length(mitreTechniques) desc", ["a5", "a1", "a2", "a3", "a4"]),
    ],
)
def test_orderby_functions(api: Api, orderby: str, expected: list[str]) -> None:
    assert api.ids(f"/beta/security/alerts_v2?$orderby={orderby}") == expected
