"""Name lookup, hints, type descriptions and the per-model binding memo shared by the binder
modules (bind.py, functions.py, collections.py)."""

from __future__ import annotations

from collections.abc import Iterable

from alertgraph.errors import did_you_mean
from alertgraph.odata import nodes as n

__all__ = ["did_you_mean"]
from alertgraph.schema.edm import INTEGER_TYPES, Model, TypeRef

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


class Memo:
    """What binding derives from the model alone, remembered per model (it is built once per
    process and never changed): the type of each property and the column a name resolves to."""

    __slots__ = ("columns", "members", "model", "vtypes")

    def __init__(self, model: Model) -> None:
        self.model = model
        self.vtypes: dict[tuple[TypeRef, bool, bool], n.VType] = {}
        #: (structured type, name as written) -> (property name, its scope-0 column)
        self.columns: dict[tuple[str, str], tuple[str, n.Prop]] = {}
        #: (enum, member as written, json) -> the bound member
        self.members: dict[tuple[str, str, bool], n.Lit] = {}


_MEMOS: dict[int, Memo] = {}
#: entries per memo table (what clients may spell is unbounded; the model's names are not)
MEMO_SIZE = 4096


def memo_for(model: Model) -> Memo:
    """The memo of ``model`` (kept per model object, so a second model gets its own)."""
    memo = _MEMOS.get(id(model))
    if memo is None or memo.model is not model:
        memo = _MEMOS[id(model)] = Memo(model)
    return memo
