"""Parser tables: text → tree (shown in canonical printed form) and text → (message, position)."""

from __future__ import annotations

import pytest

from alertgraph.errors import ODataError
from alertgraph.odata import parser as p

TREES = [
    ("severity eq 'high'", "(severity eq 'high')"),
    ("a eq 1 and b eq 2 or c eq 3", "(((a eq 1) and (b eq 2)) or (c eq 3))"),
    ("a eq 1 or b eq 2 and c eq 3", "((a eq 1) or ((b eq 2) and (c eq 3)))"),
    ("not a eq 1", "((not(a)) eq 1)"),  # not binds tighter than eq (5.1.1.17)
    ("not (a eq 1)", "(not((a eq 1)))"),
    ("not a/any() and b", "((not(a/any())) and b)"),
    ('x in ["a", "b\\"c", 1, -2, true, null]', "(x in ('a','b\"c',1,-2,true,null))"),
    ("x in [\"a\", 'b']", "(x in ('a','b'))"),
    ("x in []", "(x in ())"),
    ("a/$count ge 2", "(a/$count ge 2)"),
    ("e/ns.T/$count ge 2", "(e/ns.T/$count ge 2)"),
    ("not(a) and b", "((not(a)) and b)"),
    ("NOT (a EQ 1) AND b Eq 2", "((not((a eq 1))) and (b eq 2))"),
    ("not(a) in (1)", "((not(a)) in (1))"),
    ("a add 2 mul 3 eq 8", "((a add (2 mul 3)) eq 8)"),
    ("a sub b sub c eq 0", "(((a sub b) sub c) eq 0)"),
    ("-a eq -5", "(-(a) eq -5)"),
    ("a sub -5 gt - 5", "((a sub -5) gt -(5))"),
    ("x in ('a')", "(x in ('a'))"),
    ("x in ('a', 'b' ,'c')", "(x in ('a','b','c'))"),
    ("s has ns.Color'Red,Blue'", "(s has ns.Color'Red,Blue')"),
    ("t eq 'O''Neil'", "(t eq 'O''Neil')"),
    ("t eq ''", "(t eq '')"),
    ("d ge 2024-05-01T12:00:00.1234567+02:00", "(d ge 2024-05-01T12:00:00.1234567+02:00)"),
    ("d ge 2024-05-01", "(d ge 2024-05-01)"),
    ("d eq 12:30:00", "(d eq 12:30:00)"),
    ("d eq duration'P1DT2H'", "(d eq duration'P1DT2H')"),
    ("g eq 01234567-89ab-cdef-0123-456789ABCDEF", "(g eq 01234567-89ab-cdef-0123-456789ABCDEF)"),
    (
        "x eq 1.5 or x eq 2e10 or x eq INF or x eq -INF or x eq NaN",
        "((x eq 1.5) or (x eq 2e10) or (x eq INF) or (x eq -INF) or (x eq NaN))",
    ),
    ("a eq null and b eq true and c ne false", "((a eq null) and (b eq true) and (c ne false))"),
    ("contains(title,'x')", "contains(title,'x')"),
    ("now() gt d", "(now() gt d)"),
    ("c/any(t: t eq 'x')", "c/any(t:(t eq 'x'))"),
    ("c/any (t:t eq 'x')", "c/any(t:(t eq 'x'))"),
    ("c/any()", "c/any()"),
    (
        "e/any(x: x/ns.T/p/q eq 1 and x/r/all(y: y eq $it/z))",
        "e/any(x:((x/ns.T/p/q eq 1) and x/r/all(y:(y eq $it/z))))",
    ),
    ("isof(ns.T)", "isof(ns.T)"),
    ("cast(a, Edm.String) eq '1'", "(cast(a,Edm.String) eq '1')"),
    ("((((a))))", "a"),
    ("a/b/c eq 1", "(a/b/c eq 1)"),
    ("ns.Alert'new' eq status", "(ns.Alert'new' eq status)"),
]


@pytest.mark.parametrize(("text", "printed"), TREES, ids=[t for t, _ in TREES])
def test_tree(text: str, printed: str) -> None:
    assert p.to_text(p.parse_expression(text)) == printed


def test_nodes_keep_positions() -> None:
    tree = p.parse_expression("severity eq 'high'")
    assert tree == p.Binary("eq", p.Path(("severity",), 0), p.Literal("string", "high", 12), 9)


ERRORS = [
    ("", "the expression is empty", 0),
    ("a eq", "expected an expression, found the end", 4),
    ("(a eq 1", "expected ')' to close the parenthesis opened at 0", 7),
    ("a eq 'x", "unterminated string literal", 5),
    ("a eq 1)", "unexpected ')' after a complete expression", 6),
    ("a eq #", "unexpected character '#'", 5),
    ("a eq \x01", "unexpected character '\\x01'", 5),
    ("x in (a)", "may hold only literal values", 6),
    ("any(x: x eq 1)", "any() must follow a collection", 0),
    ("x in 'a'", "expected '(' to open the list after 'in'", 5),
    ("c/all()", "all() needs a lambda expression", 2),
    ("c/any(t t eq 1)", "expected ':' after the lambda variable 't'", 8),
    ("c/any(t: t/any(t: t eq 1))", "the lambda variable 't' is already in use", 15),
    ("a/ eq 1", "expected a property name after '/'", 2),
    ("d eq duration'1D'", "is not an ISO 8601 duration", 5),
    ("d eq foo'1'", "unknown literal prefix 'foo'", 5),
    ("contains(a, 'b'", "expected ')' to close the arguments of contains()", 15),
    ("a eq 1 b", "unexpected 'b' after a complete expression", 7),
    ("a eq 42.", "unexpected character '4'", 5),
]


@pytest.mark.parametrize(("text", "message", "position"), ERRORS, ids=[e[0] for e in ERRORS])
def test_error(text: str, message: str, position: int) -> None:
    with pytest.raises(ODataError) as caught:
        p.parse_expression(text)
    assert message in caught.value.message
    assert caught.value.position == position
    assert caught.value.message.startswith(f"Invalid $filter at position {position}: ")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("(" * 150 + "a" + ")" * 150, "nests deeper than 100 levels"),
        (" or ".join(["a eq 1"] * 10_000), "more than 1000 nodes"),
        ("a eq '" + "x" * 200_000 + "'", "characters long"),
        ("a eq '" + "x" * 100_001 + "'", "exceeds the limit of 100000"),
        ("not " * 500 + "a", "nests deeper"),
        ("-" * 500 + "a", "nests deeper"),
        ("a add " * 200 + "1", "nests deeper"),
        ("f(" * 300 + ")" * 300, "nests deeper"),
        ("".join(f"c/any(x{i}:" for i in range(200)) + "true" + ")" * 200, "nests deeper"),
    ],
)
def test_hostile_input_is_a_400(text: str, message: str) -> None:
    with pytest.raises(ODataError, match=message):
        p.parse_expression(text)


def test_long_flat_chains_are_allowed_and_do_not_recurse() -> None:
    text = " or ".join(f"id eq '{i}'" for i in range(200))
    tree = p.parse_expression(text)
    assert p.to_text(tree).count(" or ") == 199


def test_orderby_select_expand() -> None:
    items = p.parse_orderby("createdDateTime desc, length(title),id asc")
    assert [(p.to_text(i.expr), i.descending) for i in items] == [
        ("createdDateTime", True),
        ("length(title)", False),
        ("id", False),
    ]
    assert [s.path for s in p.parse_select("id, evidence/x ,*")] == [
        ("id",),
        ("evidence", "x"),
        ("*",),
    ]
    (item,) = p.parse_expand("alerts($select=id,title;$filter=a eq 'x;y';top=2)")
    assert item.path == ("alerts",)
    assert item.options == (
        ("$select", "id,title", 15),
        ("$filter", "a eq 'x;y'", 32),
        ("$top", "2", 47),
    )


@pytest.mark.parametrize(
    ("function", "text", "message", "position"),
    [
        (p.parse_orderby, "a desc b", "separate $orderby items with ','", 7),
        (p.parse_orderby, "", "the value is empty", 0),
        (p.parse_select, "id,,title", "an empty item", 3),
        (p.parse_select, "id,ti tle", "'ti tle' is not a property path", 3),
        (p.parse_expand, "alerts($select=id", "unbalanced parenthesis", 17),
        (p.parse_expand, "alerts(select)", "is not a nested option", 7),
    ],
)
def test_other_option_errors(function, text: str, message: str, position: int) -> None:
    with pytest.raises(ODataError) as caught:
        function(text)
    assert message in caught.value.message
    assert caught.value.position == position


ALIAS_ERRORS = [
    ("x eq @who", {}, "Invalid $filter at position 5: the parameter alias '@who' has no value"),
    ("x eq @a", {"@a": "@b", "@b": "@a"}, "Invalid @b at position 0: the parameter alias '@a'"),
    ("x eq @a", {"@a": "'x"}, "Invalid @a at position 0: unterminated string literal"),
    ("x eq @a", {"@a": " "}, "Invalid @a at position 0: the value is empty"),
    ("x eq @a", {"@a": "1 2"}, "Invalid @a at position 2: unexpected '2'"),
    ("x in @a", {"@a": "('a'"}, "Invalid @a at position 4: expected ')' to close the list"),
    (
        'x eq "a"',
        {},
        "Invalid $filter at position 5: a double-quoted JSON string is allowed only inside a JSON",
    ),
    ("x in [a]", {}, "Invalid $filter at position 6: the list after 'in' may hold only literal"),
    ("x in ['a'", {}, "Invalid $filter at position 9: expected ']' to close the list after 'in'"),
    ('x in ["\\x"]', {}, "Invalid $filter at position 6: invalid escape in a JSON string"),
    (
        "[1] eq x",
        {},
        "Invalid $filter at position 0: a JSON array is allowed only as the list after 'in'",
    ),
]


@pytest.mark.parametrize(
    ("text", "aliases", "message"), ALIAS_ERRORS, ids=[e[0] for e in ALIAS_ERRORS]
)
def test_alias_and_array_errors(text: str, aliases: dict[str, str], message: str) -> None:
    with pytest.raises(ODataError) as caught:
        p.parse_expression(text, aliases=aliases)
    assert caught.value.message.startswith(message), caught.value.message


def test_an_alias_takes_the_position_of_its_use() -> None:
    tree = p.parse_expression("x eq @a", aliases={"@a": "1 add 2"})
    assert tree == p.Binary(
        "eq",
        p.Path(("x",), 0),
        p.Binary("add", p.Literal("int", "1", 5), p.Literal("int", "2", 5), 5),
        2,
    )


@pytest.mark.parametrize(
    ("text", "aliases", "message"),
    [
        # every use of an alias counts its nodes, so aliases cannot multiply past the limits
        (" or ".join(["x eq @a"] * 400), {"@a": "1 add 1"}, "more than 1000 nodes"),
        (
            "x eq @a0",
            {f"@a{i}": f"@a{i + 1} add @a{i + 1}" for i in range(40)} | {"@a40": "1"},
            "more than 1000 nodes",
        ),
        ("not " * 60 + "@a", {"@a": "not " * 60 + "a"}, "nests deeper than 100 levels"),
    ],
)
def test_aliases_cannot_exceed_the_limits(text: str, aliases: dict[str, str], message: str) -> None:
    with pytest.raises(ODataError, match=message):
        p.parse_expression(text, aliases=aliases)
