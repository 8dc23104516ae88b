"""Name lookup, hints and type descriptions shared by the binder modules (bind.py, functions.py)."""

from __future__ import annotations

from collections.abc import Iterable

from alertgraph.errors import did_you_mean
from alertgraph.odata import nodes as n

__all__ = ["did_you_mean"]
from alertgraph.schema.edm import INTEGER_TYPES

NUMERIC = frozenset({n.INT, n.DECIMAL, n.DOUBLE})
NUMERIC_EDM = dict.fromkeys(INTEGER_TYPES, n.INT) | {
    "Edm.Double": n.DOUBLE,
    "Edm.Single": n.DOUBLE,
    "Edm.Decimal": n.DECIMAL,
}


def lookup(name: str, choices: Iterable[str]) -> str | None:
    """Case-insensitive name lookup where an exact-case match wins (Graph's behaviour)."""
    if isinstance(choices, dict) and name in choices:
        return name  # the common case, without copying the names
    names = list(choices)
    if name in names:
        return name
    lowered = name.lower()
    found = [choice for choice in names if choice.lower() == lowered]
    return found[0] if len(found) == 1 else None


def describe(vtype: n.VType) -> str:
    base = vtype.kind if vtype.kind != n.NULL else "null"
    return f"Collection({base})" if vtype.collection else base
