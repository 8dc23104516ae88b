"""Parser properties: printing round-trips, and any text gives a tree or an ODataError."""

from __future__ import annotations

import contextlib
from collections.abc import Callable

from hypothesis import assume, given
from hypothesis import strategies as st

from alertgraph.errors import ODataError
from alertgraph.odata import parser as p
from alertgraph.odata.query import bind_query
from alertgraph.schema.endpoints import entity_set

from .strategies import alert_filters, syntax_trees


@given(syntax_trees)
def test_print_parse_round_trip(tree: p.Expr) -> None:
    text = p.to_text(tree)
    try:
        parsed = p.parse_expression(text)
    except ODataError as error:
        # nested lambdas that happen to reuse a variable name are invalid OData, rightly refused
        assume("is already in use" not in error.message)
        raise
    assert p.to_text(parsed) == text


@given(alert_filters)
def test_generated_filters_round_trip(text: str) -> None:
    printed = p.to_text(p.parse_expression(text))
    assert p.to_text(p.parse_expression(printed)) == printed


FRAGMENTS = st.sampled_from(
    [
        "eq",
        " ",
        "(",
        ")",
        "'",
        "''",
        "title",
        "severity",
        "/",
        "any",
        "all",
        ":",
        ",",
        "x",
        "not",
        "and",
        "-",
        "1",
        "2024-05-01T00:00:00Z",
        "duration'P1D'",
        "$it",
        "in",
        "null",
        "contains",
        "evidence",
        "e",
        "microsoft.graph.security.userEvidence",
        "\x00",
        "é",
        "%",
        "@a",
        "[",
        "]",
        '"x"',
        "$count",
        "microsoft.graph.security.fileEvidence",
    ]
)


@given(st.one_of(st.text(max_size=60), st.lists(FRAGMENTS, max_size=25).map("".join)))
def test_any_text_gives_a_tree_or_an_odata_error(text: str) -> None:
    position = _error_position(lambda: p.parse_expression(text))
    assert position is None or 0 <= position <= len(text)
    with contextlib.suppress(ODataError):
        bind_query(entity_set("alerts_v2"), {"$filter": text, "$orderby": text})


@given(syntax_trees, syntax_trees)
def test_not_binds_tighter_than_comparisons(left: p.Expr, right: p.Expr) -> None:
    """5.1.1.17: ``not a eq b`` is ``(not a) eq b``, whatever a and b are."""
    text = f"not {p.to_text(left)} eq {p.to_text(right)}"
    try:
        parsed = p.parse_expression(text)
    except ODataError as error:
        assume("is already in use" not in error.message)
        raise
    assert p.to_text(parsed) == f"((not({p.to_text(left)})) eq {p.to_text(right)})"


@given(alert_filters)
def test_an_alias_binds_like_its_value(text: str) -> None:
    """5.1.1.13: a parameter alias stands for its value, wherever and however often it is used."""
    alerts = entity_set("alerts_v2")
    direct = bind_query(alerts, {"$filter": f"({text}) and not ({text})"})
    aliased = bind_query(alerts, {"$filter": "(@f) and not (@f)", "@f": text})
    assert aliased.filter == direct.filter


@given(st.lists(st.sampled_from(["low", "medium", "high", "informational"]), max_size=4))
def test_a_json_array_binds_like_a_list(members: list[str]) -> None:
    alerts = entity_set("alerts_v2")
    listed = ", ".join(f"'{m}'" for m in members)
    array = ", ".join(f'"{m}"' for m in members)
    assert (
        bind_query(alerts, {"$filter": f"severity in [{array}]"}).filter
        == bind_query(alerts, {"$filter": f"severity in ({listed})"}).filter
    )


def _error_position(action: Callable[[], object]) -> int | None:
    """Run ``action``; None when it succeeds, the error's position when it raises ODataError."""
    try:
        action()
    except ODataError as error:
        if error.position is None:
            return -1
        return error.position
    return None
