"""System query options over HTTP: $orderby, $top, $skip, $count, $select and how option names and
values are read from the URL (OData 4.01 URL Conventions 5.1 and the ABNF; Graph's conventions in
the reference, section 4.6). Runs on SQLite and PostgreSQL."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlsplit

import pytest

from tests.factories import alert

from .spec_support import ALL, Api, Expected, cases, open_api, rows

ALERTS_URL = "/beta/security/alerts_v2"


# 5.1.4: several keys, asc/desc, enums by member value, nulls first ascending and last
# descending, strings by code point; the key breaks ties, ascending
ORDERBY: list[tuple[str, Expected]] = [
    ("", ALL),
    ("$orderby=severity", ["a4", "a2", "a3", "a1", "a5"]),
    ("$orderby=severity desc", ["a1", "a5", "a3", "a2", "a4"]),
    ("$orderby=severity asc,createdDateTime desc", ["a4", "a2", "a3", "a5", "a1"]),
    ("$orderby=title", ["a4", "a5", "a1", "a2", "a3"]),
    ("$orderby=title desc", ["a3", "a2", "a1", "a5", "a4"]),
    ("$orderby=assignedTo,title desc", ["a2", "a3", "a4", "a1", "a5"]),
    ("$orderby=lastUpdateDateTime asc", ["a3", "a4", "a1", "a2", "a5"]),
    ("$orderby=createdDateTime", ["a3", "a4", "a1", "a2", "a5"]),
    ("$orderby=classification", ["a2", "a3", "a4", "a5", "a1"]),
    ("$orderby=classification desc", ["a1", "a5", "a2", "a3", "a4"]),
    ("$orderby=status,severity desc", ["a1", "a4", "a3", "a5", "a2"]),
    ("$orderby=id desc", ["a5", "a4", "a3", "a2", "a1"]),
    ("$orderby=ID DESC", ["a5", "a4", "a3", "a2", "a1"]),
    ("$orderby=title sideways", (400, "give each an optional asc or desc")),
    ("$orderby=evidence", (400, "'evidence' is a collection")),
    ("$orderby=", (400, "the value is empty")),
]

# 5.1.5-5.1.7 and Graph's limits: $top is the page size (the first page is checked here), $skip
# skips, $count counts the filtered rows whatever $top and $skip say; $top=0 is an empty page
PAGING: list[tuple[str, Expected]] = [
    ("$top=2", ["a5", "a2"]),
    ("$skip=2", ["a1", "a4", "a3"]),
    ("$skip=4&$top=3", ["a3"]),
    ("$skip=10", []),
    ("$top=2&$skip=1&$orderby=id", ["a2", "a3"]),
    ("$top=2000", ALL),
    ("$top=0", []),
    ("$top=2001", (400, "the limit of '2000' for Top query has been exceeded")),
    ("$top=-1", (400, "not a whole number")),
    ("$top=abc", (400, "not a whole number")),
    ("$skip=-1", (400, "not a whole number")),
    ("$skip=2147483648", (400, "between 0 and 2147483647")),
    ("$count=yes", (400, "is not true or false")),
    ("$skiptoken=abc", (400, "$skiptoken is not valid")),
]

# 5.1 and Graph 4.6: names are case-insensitive, the $ is optional on /beta, each option may be
# given once, unknown $-options and options the collection does not support are 400, other
# parameters are ignored; values are percent-decoded once
NAMES: list[tuple[str, Expected]] = [
    ("$filter=status eq 'new'", rows("a1", "a4")),
    ("filter=status eq 'new'", rows("a1", "a4")),
    ("$FILTER=status eq 'new'", rows("a1", "a4")),
    ("FiLtEr=status eq 'new'", rows("a1", "a4")),
    ("%24filter=status%20eq%20%27new%27", rows("a1", "a4")),
    ("foo=bar&$top=1", ["a5"]),
    ("$filter=status eq 'new'&$filter=status eq 'new'", (400, "given more than once")),
    ("$top=1&top=2", (400, "given more than once")),
    ("$fliter=status eq 'new'", (400, "Did you mean '$filter'?")),
    ("$search=phishing", (400, "'$search' is not allowed on security/alerts_v2")),
    ("$expand=*", (400, "'$expand' is not allowed on security/alerts_v2")),
    ("$filter=title eq '%E9'", (400, "not valid UTF-8")),
]


@pytest.mark.parametrize(
    ("query", "expected"), cases({"orderby": ORDERBY, "paging": PAGING, "names": NAMES})
)
def test_option(api: Api, query: str, expected: Expected) -> None:
    api.expect(ALERTS_URL + "?" + query, expected)


def test_v1_needs_the_dollar(api: Api) -> None:
    # /v1.0 reads option names only with their $; a bare "top" is an ordinary parameter
    assert api.ids("/v1.0/security/alerts_v2?top=1") == ALL
    assert api.ids("/v1.0/security/alerts_v2?$top=1") == ["a5"]


@pytest.mark.parametrize(
    ("query", "count", "ids"),
    [
        ("$count=true", 5, ALL),
        ("$count=true&$top=2", 5, ["a5", "a2"]),
        ("$count=true&$skip=4", 5, ["a3"]),
        ("$count=TRUE&$filter=status eq 'new'", 2, rows("a1", "a4")),
        ("$count=true&$filter=false", 0, []),
    ],
)
def test_count_ignores_top_and_skip(api: Api, query: str, count: int, ids: list[str]) -> None:
    body = api.body(f"{ALERTS_URL}?{query}")
    assert list(body)[:2] == ["@odata.context", "@odata.count"]
    assert body["@odata.count"] == count
    assert [item["id"] for item in body["value"]] == ids
    # $top is the page size: a next link follows only while rows remain
    remaining = count - len(ids) - (4 if "$skip" in query else 0)
    assert ("@odata.nextLink" in body) == (remaining > 0)


def test_count_false_adds_nothing(api: Api) -> None:
    assert "@odata.count" not in api.body(f"{ALERTS_URL}?$count=false")


def test_select_properties_star_and_complex_members(api: Api) -> None:
    body = api.body(f"{ALERTS_URL}?$select=id,title&$filter=id eq 'a1'")
    assert body["@odata.context"] == "http://testserver/beta/$metadata#security/alerts_v2(id,title)"
    assert body["value"] == [
        {"@odata.type": "#microsoft.graph.security.alert", "id": "a1", "title": "Phishing mail"}
    ]
    # names match case-insensitively and a repeated name is selected once
    assert api.body(f"{ALERTS_URL}?$select=TITLE,title&$filter=id eq 'a1'")["value"] == [
        {"@odata.type": "#microsoft.graph.security.alert", "title": "Phishing mail"}
    ]
    star = api.body(f"{ALERTS_URL}?$select=*&$filter=id eq 'a1'")
    whole = api.body(f"{ALERTS_URL}?$filter=id eq 'a1'")
    assert star["value"] == whole["value"]
    assert star["@odata.context"].endswith("#security/alerts_v2")
    members = api.body(f"{ALERTS_URL}?$select=evidence/verdict&$filter=id eq 'a3'")
    assert members["value"] == [
        {
            "@odata.type": "#microsoft.graph.security.alert",
            "evidence": [
                {"@odata.type": "#microsoft.graph.security.deviceEvidence", "verdict": "malicious"}
            ],
        }
    ]


@pytest.mark.parametrize(
    ("select", "fragment"),
    [
        ("nope", "'nope' is not a property of microsoft.graph.security.alert."),
        ("titel", "Did you mean 'title'?"),
        ("", "an empty item"),
        ("id,", "an empty item"),
        ("title/x", "'title' is Edm.String; it has no member 'x'"),
        ("evidence/nope", "'nope' is not a property of microsoft.graph.security.alertEvidence"),
        ("evidence/microsoft.graph.security.userEvidence/userAccount", "not supported"),
    ],
)
def test_select_errors(api: Api, select: str, fragment: str) -> None:
    assert fragment in api.error(f"{ALERTS_URL}?$select={select}")


def test_server_paging_with_top_and_count(db_url: str) -> None:
    # 5.1.7 / Graph paging: $top is the page size (Graph's paging concept: "If more items remain,
    # the response will contain an @odata.nextLink"), an absolute next link repeating every
    # option, @odata.count on every page, no link after the last row
    with open_api(db_url) as api:
        api.load(
            "alerts_v2",
            [
                alert(f"p{n:03d}", createdDateTime=f"2024-05-01T10:{n % 60:02d}:00Z")
                for n in range(130)
            ],
        )
        url = f"{ALERTS_URL}?$count=true&$top=110&$orderby=id"
        first = api.body(url)
        assert first["@odata.count"] == 130
        assert [item["id"] for item in first["value"]] == [f"p{n:03d}" for n in range(110)]
        link = first["@odata.nextLink"]
        assert link.startswith("http://testserver/beta/security/alerts_v2?")
        options = dict(parse_qsl(urlsplit(link).query))
        assert options["$count"] == "true"
        assert options["$top"] == "110"
        assert options["$orderby"] == "id"
        assert "$skiptoken" in options
        second = api.body(link)
        assert second["@odata.count"] == 130
        assert [item["id"] for item in second["value"]] == [f"p{n:03d}" for n in range(110, 130)]
        assert "@odata.nextLink" not in second
        # without $top, the collection's page size (100)
        default = api.body(f"{ALERTS_URL}?$orderby=id")
        assert len(default["value"]) == 100
        assert "$top" not in dict(parse_qsl(urlsplit(default["@odata.nextLink"]).query))


def test_paging_by_an_expression_keeps_its_order(db_url: str) -> None:
    # keyset paging over tolower(title) desc: every row once, in the order the first page began
    titles = ["Äb", "äa", "AB", "ab", None]
    with open_api(db_url) as api:
        api.load(
            "alerts_v2",
            [
                alert(f"k{n:03d}", title=titles[n % 5] and f"{titles[n % 5]}{n % 7}")
                for n in range(130)
            ],
        )
        seen: list[str] = []
        url: str | None = f"{ALERTS_URL}?$orderby=tolower(title) desc"
        while url:
            body = api.body(url)
            seen += [item["id"] for item in body["value"]]
            url = body.get("@odata.nextLink")

    def key(number: int) -> tuple[int, str, str]:
        title = titles[number % 5]
        lowered = f"{title}{number % 7}".lower() if title else ""
        return (title is None, "".join(chr(0x10FFFF - ord(c)) for c in lowered), f"k{number:03d}")

    assert seen == [f"k{n:03d}" for n in sorted(range(130), key=key)]
