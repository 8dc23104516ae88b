"""Hypothesis strategies: syntax trees, alert filters over a small vocabulary, and alert rows."""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

from alertgraph.odata import parser as p

KEYWORDS = {
    "and",
    "or",
    "not",
    "eq",
    "ne",
    "gt",
    "ge",
    "lt",
    "le",
    "has",
    "in",
    "add",
    "sub",
    "mul",
    "div",
    "divby",
    "mod",
    "true",
    "false",
    "null",
    "any",
    "all",
    "asc",
    "desc",
    "duration",
    "binary",
}

names = st.from_regex(r"[a-z][a-zA-Z0-9]{0,5}", fullmatch=True).filter(
    lambda name: name.lower() not in KEYWORDS
)
qualified = st.lists(names, min_size=2, max_size=3).map(".".join)

literals = st.one_of(
    st.just(p.Literal("null", "null", 0)),
    st.sampled_from(["true", "false"]).map(lambda t: p.Literal("bool", t, 0)),
    st.integers(-(10**6), 10**6).map(lambda i: p.Literal("int", str(i), 0)),
    st.decimals(-1000, 1000, places=2, allow_nan=False).map(
        lambda d: p.Literal("decimal", f"{d:.2f}", 0)
    ),
    st.text(alphabet="ab'% _é", max_size=6).map(lambda s: p.Literal("string", s, 0)),
    st.sampled_from(["2024-05-01T12:00:00Z", "2024-05-01T12:00:00.1234567+02:00"]).map(
        lambda s: p.Literal("datetime", s, 0)
    ),
    st.just(p.Literal("date", "2024-02-29", 0)),
    st.just(p.Literal("guid", "01234567-89ab-cdef-0123-456789abcdef", 0)),
    st.just(p.Literal("duration", "P1DT2H", 0)),
    st.tuples(qualified, st.sampled_from(["new", "a'b"])).map(
        lambda t: p.Literal("enum", t[1], 0, type_name=t[0])
    ),
)
paths = st.lists(names, min_size=1, max_size=3).map(lambda s: p.Path(tuple(s), 0))


def _extend(children: st.SearchStrategy[p.Expr]) -> st.SearchStrategy[p.Expr]:
    return st.one_of(
        st.tuples(st.sampled_from(sorted(p.PRECEDENCE.keys() - {"in"})), children, children).map(
            lambda t: p.Binary(t[0], t[1], t[2], 0)
        ),
        children.map(lambda c: p.Unary("not", c, 0)),
        children.map(lambda c: p.Unary("-", c, 0)),
        st.tuples(children, st.lists(literals, max_size=3)).map(
            lambda t: p.In(t[0], tuple(t[1]), 0)
        ),
        st.tuples(names, st.lists(children, max_size=3)).map(
            lambda t: p.Call(t[0], tuple(t[1]), 0)
        ),
        st.tuples(paths, st.sampled_from(["any", "all"]), st.integers(0, 10**6), children).map(
            lambda t: p.Lambda(t[0], t[1], f"v{t[2]}", t[3], 0)
        ),
    )


syntax_trees = st.recursive(st.one_of(literals, paths), _extend, max_leaves=12)

# ---- filters over alerts --------------------------------------------------------------------

STRINGS = ["title", "assignedTo"]
ENUMS = {
    "severity": ["low", "medium", "high", "informational"],
    "status": ["new", "inProgress", "resolved"],
}
DATETIMES = ["createdDateTime", "lastUpdateDateTime"]
CMP = ["eq", "ne", "gt", "ge", "lt", "le"]
EVIDENCE = "microsoft.graph.security."
TYPE = "Evidence"
string_values = st.text(alphabet="aAb%_' é", max_size=4)
instants = st.sampled_from(
    [
        "2024-01-01T00:00:00Z",
        "2024-05-01T12:00:00Z",
        "2024-05-01T12:00:00.0000001Z",
        "2024-05-01T14:00:00+02:00",
        "2023-12-31T23:59:59.9999999Z",
    ]
)


def quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def filters_401() -> st.SearchStrategy[str]:
    """4.01 additions: $count of a collection (duplicates count), type-cast segments on
    collections, JSON arrays after "in"."""
    enum = st.sampled_from(sorted(ENUMS))
    return st.one_of(
        st.builds(
            lambda c, o, k: f"{c}/$count {o} {k}",
            st.sampled_from(["mitreTechniques", "evidence", f"evidence/{EVIDENCE}user{TYPE}"]),
            st.sampled_from(CMP),
            st.integers(0, 3),
        ),
        st.builds(
            lambda k, o, v: f"evidence/{EVIDENCE}{k}{TYPE}/{o}(e: e/verdict eq '{v}')",
            st.sampled_from(["user", "device"]),
            st.sampled_from(["any", "all"]),
            st.sampled_from(["unknown", "suspicious", "malicious"]),
        ),
        st.builds(
            lambda k: f"evidence/{EVIDENCE}{k}{TYPE}/any()", st.sampled_from(["user", "device"])
        ),
        enum.flatmap(
            lambda e: st.lists(st.sampled_from(ENUMS[e]), max_size=3).map(
                lambda ms: f"{e} in [{', '.join(chr(34) + m + chr(34) for m in ms)}]"
            )
        ),
    )


def _atoms() -> st.SearchStrategy[str]:
    prop = st.sampled_from(STRINGS)
    enum = st.sampled_from(sorted(ENUMS))
    return st.one_of(
        st.sampled_from(["true", "false", "null", "title in ()"]),
        st.builds(
            lambda a, o, x, k: f"length({a}) {o} {x} eq {k}",
            prop,
            st.sampled_from(["add", "sub", "mul", "div", "mod"]),
            st.sampled_from([-2, -1, 1, 2, 3]),  # div and mod by a literal zero are a 400
            st.integers(-1, 4),
        ),
        st.builds(
            lambda f, a, k: f"{f}(length({a}) divby 3) eq {k}",
            st.sampled_from(["round", "floor", "ceiling"]),
            prop,
            st.integers(0, 2),
        ),
        st.builds(
            lambda a, k: f"length({a}) divby 2 ge {k}",
            prop,
            st.sampled_from(["0.5", "1", "1.5", "-1"]),
        ),
        st.builds(lambda a, t: f"date({a}) eq {t[:10]}", st.sampled_from(DATETIMES), instants),
        st.builds(
            lambda a, o, t: f"time({a}) {o} {t}",
            st.sampled_from(DATETIMES),
            st.sampled_from(CMP),
            st.sampled_from(["12:00:00", "00:00:00.0000001", "23:59:59.9999999"]),
        ),
        st.builds(lambda a: f"fractionalseconds({a}) gt 0", st.sampled_from(DATETIMES)),
        st.builds(
            lambda a, d, t: f"{a} add duration'{d}' gt {t}",
            st.sampled_from(DATETIMES),
            st.sampled_from(["PT1H", "-P1D", "PT0.0000001S"]),
            instants,
        ),
        st.builds(
            lambda o, d: f"lastUpdateDateTime sub createdDateTime {o} duration'{d}'",
            st.sampled_from(CMP),
            st.sampled_from(["PT0S", "PT2H", "-PT1S"]),
        ),
        st.builds(
            lambda a, v: f"matchesPattern({a}, '^{v}')", prop, st.sampled_from(["a", "A", "b", "%"])
        ),
        st.just("evidence/any(e: isof(e, microsoft.graph.security.userEvidence))"),
        st.builds(
            lambda vs: f"evidence/any(e: e/verdict in ({', '.join(quote(v) for v in vs)}))",
            st.lists(st.sampled_from(["unknown", "suspicious", "malicious"]), max_size=2),
        ),
        st.builds(
            lambda o, t: f"evidence/any(e: year(e/createdDateTime) {o} {t})",
            st.sampled_from(CMP),
            st.sampled_from([2023, 2024]),
        ),
        st.builds(lambda a, o, v: f"{a} {o} {quote(v)}", prop, st.sampled_from(CMP), string_values),
        st.builds(lambda a, o: f"{a} {o} null", prop, st.sampled_from(["eq", "ne"])),
        st.builds(
            lambda f, a, v: f"{f}({a}, {quote(v)})",
            st.sampled_from(["contains", "startswith", "endswith"]),
            prop,
            string_values,
        ),
        st.builds(
            lambda a, o, k: f"length({a}) {o} {k}", prop, st.sampled_from(CMP), st.integers(0, 4)
        ),
        st.builds(
            lambda f, a, v: f"{f}({a}) eq {quote(v)}",
            st.sampled_from(["tolower", "toupper", "trim"]),
            prop,
            string_values,
        ),
        st.builds(
            lambda a, i, v: f"substring({a}, {i}) eq {quote(v)}",
            prop,
            st.integers(-1, 3),
            string_values,
        ),
        st.builds(
            lambda a, v, k: f"indexof({a}, {quote(v)}) eq {k}",
            prop,
            string_values,
            st.integers(-1, 3),
        ),
        st.builds(lambda a, b: f"concat({a}, {b}) eq {a}", prop, prop),
        enum.flatmap(
            lambda e: st.builds(
                lambda o, m: f"{e} {o} '{m}'", st.sampled_from(CMP), st.sampled_from(ENUMS[e])
            )
        ),
        enum.flatmap(
            lambda e: st.lists(st.sampled_from(ENUMS[e]), min_size=1, max_size=3).map(
                lambda ms: f"{e} in ({', '.join(quote(m) for m in ms)})"
            )
        ),
        st.builds(
            lambda a, o, t: f"{a} {o} {t}",
            st.sampled_from(DATETIMES),
            st.sampled_from(CMP),
            instants,
        ),
        st.builds(
            lambda a, f, k: f"{f}({a}) eq {k}",
            st.sampled_from(DATETIMES),
            st.sampled_from(["year", "month", "day", "hour", "second"]),
            st.integers(0, 12),
        ),
        st.builds(
            lambda a, b, o: f"{a} {o} {b}",
            st.sampled_from(DATETIMES),
            st.sampled_from(DATETIMES),
            st.sampled_from(CMP),
        ),
        st.builds(lambda v: f"mitreTechniques/any(t: t eq {quote(v)})", string_values),
        st.builds(lambda v: f"mitreTechniques/all(t: startswith(t, {quote(v)}))", string_values),
        st.just("mitreTechniques/any()"),
        st.builds(
            lambda o, v: f"evidence/any(e: e/verdict {o} '{v}')",
            st.sampled_from(CMP),
            st.sampled_from(["unknown", "suspicious", "malicious", "noThreatsFound"]),
        ),
        st.builds(
            lambda o, t: f"evidence/all(e: e/createdDateTime {o} {t})",
            st.sampled_from(CMP),
            instants,
        ),
        st.builds(
            lambda o: f"evidence/any(e: e/createdDateTime {o} $it/createdDateTime)",
            st.sampled_from(CMP),
        ),
        st.builds(
            lambda v: (
                "evidence/any(e: e/microsoft.graph.security.userEvidence/userAccount/"
                f"userPrincipalName eq {quote(v)})"
            ),
            string_values,
        ),
        filters_401(),
    )


alert_filters = st.recursive(
    _atoms(),
    lambda children: st.one_of(
        st.builds(lambda a, b: f"({a}) and ({b})", children, children),
        st.builds(lambda a, b: f"({a}) or ({b})", children, children),
        children.map(lambda a: f"not ({a})"),
    ),
    max_leaves=4,
)


@st.composite
def alert_rows(draw: Any, count: int = 8) -> list[dict[str, Any]]:
    rows = []
    size = draw(st.integers(0, count))
    for index in range(size):
        maybe = st.one_of(st.none(), string_values)
        evidence = []
        for _ in range(draw(st.integers(0, 2))):
            kind = draw(st.sampled_from(["user", "device"]))
            item: dict[str, Any] = {
                "@odata.type": f"#microsoft.graph.security.{kind}Evidence",
                "createdDateTime": draw(instants),
                "verdict": draw(st.sampled_from(["unknown", "suspicious", "malicious"])),
                "remediationStatus": "none",
                "roles": [],
            }
            if kind == "user":
                item["userAccount"] = {"userPrincipalName": draw(string_values)}
            evidence.append(item)
        rows.append(
            {
                "id": f"r{index}",
                "title": draw(maybe),
                "assignedTo": draw(maybe),
                "severity": draw(st.sampled_from(ENUMS["severity"])),
                "status": draw(st.sampled_from(ENUMS["status"])),
                "createdDateTime": draw(instants),
                "lastUpdateDateTime": draw(st.one_of(st.none(), instants)),
                "mitreTechniques": draw(st.lists(string_values, max_size=2)),
                "evidence": evidence,
            }
        )
    return rows
