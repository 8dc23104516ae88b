"""Binder tables: names, types, literals, limits, strict Graph mode, the scope rule, the cache."""

from __future__ import annotations

import pytest

from alertgraph.errors import ODataError
from alertgraph.odata import nodes as n
from alertgraph.odata.limits import QueryLimits
from alertgraph.odata.options import split_query
from alertgraph.odata.query import bind_query, check_scope_filter
from alertgraph.schema.endpoints import entity_set

ALERTS = entity_set("alerts_v2")


def bind(text: str, set_name: str = "alerts_v2", *, strict: bool = False) -> n.Pred:
    limits = QueryLimits(strict_graph=strict)
    query = bind_query(entity_set(set_name), {"$filter": text}, limits=limits)
    assert query.filter is not None
    return query.filter


def test_names_are_case_insensitive() -> None:
    pred = bind("SEVERITY eq 'HIGH'")
    assert isinstance(pred, n.Compare)
    assert pred.left == n.Prop(
        "severity", n.VType("microsoft.graph.security.alertSeverity", enum=True, nullable=False)
    )
    assert pred.right == n.Lit(
        256, n.VType("microsoft.graph.security.alertSeverity", enum=True, nullable=False)
    )


def test_literals_take_the_other_sides_storage_form() -> None:
    pred = bind("createdDateTime ge 2024-05-01T02:00:00+02:00")
    assert isinstance(pred, n.Compare)
    assert isinstance(pred.right, n.Lit)
    assert pred.right.value == 638501184000000000  # ticks of 2024-05-01T00:00:00Z
    date_pred = bind("createdDateTime ge 2024-05-01")
    assert isinstance(date_pred, n.Compare)
    assert date_pred.right == pred.right  # a Date means midnight UTC
    inside = bind("evidence/any(e: e/createdDateTime ge 2024-05-01T02:00:00+02:00)")
    assert isinstance(inside, n.LambdaPred)
    assert isinstance(inside.body, n.Compare)
    assert isinstance(inside.body.right, n.Lit)
    assert inside.body.right.value == "2024-05-01T00:00:00.0000000Z"
    verdict = bind("evidence/any(e: e/verdict eq 'malicious')")
    assert isinstance(verdict, n.LambdaPred)
    assert isinstance(verdict.body, n.Compare)
    assert isinstance(verdict.body.right, n.Lit)
    assert verdict.body.right.value == "malicious"  # JSON keeps member names


def test_qualified_enum_literal_and_numeric_member() -> None:
    assert bind("status eq microsoft.graph.security.alertStatus'resolved'") == bind(
        "status eq 'resolved'"
    )
    with pytest.raises(ODataError, match="cannot be compared with a value of"):
        bind("status eq microsoft.graph.security.alertSeverity'high'")


def test_type_cast_segments_guard_derived_types() -> None:
    pred = bind(
        "evidence/any(e: e/microsoft.graph.security.userEvidence/userAccount/userPrincipalName"
        " eq 'a')"
    )
    assert isinstance(pred, n.LambdaPred)
    assert isinstance(pred.body, n.Compare)
    path = pred.body.left
    assert isinstance(path, n.JsonPath)
    assert path.steps[0] == n.TypeGuard(("#microsoft.graph.security.userEvidence",))
    assert path.steps[1:] == (n.Member("userAccount"), n.Member("userPrincipalName"))


BIND_ERRORS = [
    (
        "severty eq 'high'",
        "'severty' is not a property of microsoft.graph.security.alert. Did you mean 'severity'?",
        0,
    ),
    (
        "severity eq 'hihg'",
        "'hihg' is not a member of microsoft.graph.security.alertSeverity. Did you mean 'high'?",
        12,
    ),
    ("severity eq 1.5", "quoted member names", 12),
    ("title eq 5", "cannot compare Edm.String with Edm.Int64", 9),
    ("title gt createdDateTime", "cannot compare", 6),
    ("createdDateTime ge 2024-13-01T00:00:00Z", "not a valid date", 19),
    ("createdDateTime ge 2024-05-01T25:00:00Z", "invalid time of day", 19),
    (
        "evidence/any(e: e/bogus eq 1)",
        "'bogus' is not a property of microsoft.graph.security.alertEvidence",
        16,
    ),
    (
        "evidence/any(e: e/microsoft.graph.security.nope/x eq 1)",
        "is not microsoft.graph.security.alertEvidence or a type derived from it",
        16,
    ),
    ("mitreTechniques eq 'x'", "mitreTechniques/any(x: ...)", 0),
    ("title/any(t: t eq 'x')", "any() needs a collection", 6),
    ("length(severity) eq 1", "length() takes length(Edm.String)", 0),
    ("upper(title) eq 'X'", "unknown function 'upper'", 0),
    ("title add 1 eq 2", "arithmetic needs numbers", 6),
    ("severity has 'x'", "'x' is not a member", 13),
    ("title has 'x'", "'has' needs an enumeration", 6),
    ("isof(microsoft.graph.security.incident)", "is not microsoft.graph.security.alert", 5),
    ("matchesPattern(title, '(')", "invalid regular expression", 22),
    ("title eq 'a\x00b'", "NUL", 9),
    ("alertConfiguration/isEnabled eq true", "'alertConfiguration' is not a property", 0),
    ("comments/any(c: c/comment eq 1)", "cannot compare", 29),
    ("title", "expected a Boolean expression", 0),
    ("title eq 'a' and 5", "expected a Boolean expression", 17),
]


@pytest.mark.parametrize(
    ("text", "message", "position"), BIND_ERRORS, ids=[e[0] for e in BIND_ERRORS]
)
def test_bind_error(text: str, message: str, position: int) -> None:
    with pytest.raises(ODataError) as caught:
        bind(text)
    assert message in caught.value.message
    assert caught.value.position == position


def test_navigation_paths_on_pim_alerts() -> None:
    pred = bind("alertConfiguration/isEnabled eq false", "pim_alerts")
    assert isinstance(pred, n.Compare)
    assert isinstance(pred.left, n.NavValue)
    assert pred.left.target == "pim_configurations"
    with pytest.raises(ODataError, match=r"alertIncidents/any\(x: x/...\)"):
        bind("alertIncidents/id eq 'x'", "pim_alerts")


def test_strict_graph_mode() -> None:
    bind("severity eq 'high'", strict=True)
    # the migration guide documents evidence lambdas with a type cast (spec S1)
    bind(
        "evidence/any(e: e/microsoft.graph.security.deviceEvidence/deviceDnsName eq 'pc1')",
        strict=True,
    )
    with pytest.raises(ODataError, match="Filterable properties: assignedTo, classification"):
        bind("title eq 'x'", strict=True)
    with pytest.raises(ODataError, match="not documented by Graph"):
        split_query("$select=id", ALERTS, beta=True, strict=True, allowed_extra=frozenset())
    split_query("$select=id", ALERTS, beta=True, strict=False, allowed_extra=frozenset())


def test_option_limits() -> None:
    with pytest.raises(ODataError, match="limit of '2000'"):
        bind_query(ALERTS, {"$top": "2001"})
    with pytest.raises(ODataError, match="is not a whole number"):
        bind_query(ALERTS, {"$top": "-1"})
    with pytest.raises(ODataError, match="between 0 and 2147483647"):
        bind_query(ALERTS, {"$skip": "x"})
    with pytest.raises(ODataError, match="not true or false"):
        bind_query(ALERTS, {"$count": "yes"})
    assert bind_query(ALERTS, {"$count": "TRUE"}).count is True
    with pytest.raises(ODataError, match="is a collection"):
        bind_query(ALERTS, {"$orderby": "evidence"})


@pytest.mark.parametrize(
    "text",
    [
        "scopeId eq '/' and scopeType eq 'DirectoryRole'",
        "scopeType eq 'DirectoryRole' and isActive eq true and scopeId eq '/'",
        "'/' eq scopeId and (scopeType eq 'DirectoryRole')",
    ],
)
def test_scope_filter_accepted(text: str) -> None:
    check_scope_filter(bind_query(entity_set("pim_alerts"), {"$filter": text}))


@pytest.mark.parametrize(
    ("text", "missing"),
    [
        ("scopeId eq '/'", "scopeType eq 'DirectoryRole'"),
        ("scopeId eq '/' or scopeType eq 'DirectoryRole'", "scopeId eq '/' and scopeType"),
        ("scopeId eq '/x' and scopeType eq 'DirectoryRole'", "add scopeId eq '/' to"),
        ("not (scopeId ne '/') and scopeType eq 'DirectoryRole'", "scopeId eq '/'"),
    ],
)
def test_scope_filter_rejected(text: str, missing: str) -> None:
    with pytest.raises(ODataError) as caught:
        check_scope_filter(bind_query(entity_set("pim_alerts"), {"$filter": text}))
    assert missing in caught.value.message
    assert "$filter=scopeId eq '/' and scopeType eq 'DirectoryRole'" in caught.value.message


def test_parse_and_bind_are_cached_by_text() -> None:
    """The same option texts give the very same bound query; how fast that is, is measured by
    the benchmark (bench/report.py, parse+bind micro-benchmark), not asserted here."""
    text = "severity eq 'high' and status in ('new','inProgress') and createdDateTime ge {}"
    options = {"$filter": text.format("2024-05-01T00:00:00Z"), "$top": "10"}
    first = bind_query(ALERTS, dict(options))
    assert bind_query(ALERTS, dict(options)) is first
    other = bind_query(ALERTS, {**options, "$filter": text.format("2024-05-02T00:00:00Z")})
    assert other is not first
    assert other.filter != first.filter
