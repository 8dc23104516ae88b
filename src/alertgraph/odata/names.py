"""Name lookup, hints, type descriptions and the per-model binding memo shared by the binder
modules (bind.py, functions.py, collections.py)."""

from __future__ import annotations

from collections.abc import Iterable

from alertgraph.errors import did_you_mean
from alertgraph.odata import nodes as n

__all__ = ["did_you_mean"]
from alertgraph.schema.edm import INTEGER_TYPES, Model, TypeRef
from alertgraph.schema.endpoints import BY_NAME, Navigation

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

    __slots__ = ("columns", "elements", "members", "model", "navigations", "roots", "vtypes")

    def __init__(self, model: Model) -> None:
        self.model = model
        self.vtypes: dict[tuple[TypeRef, bool, bool], n.VType] = {}
        #: (structured type, name as written) -> (property name, its scope-0 column)
        self.columns: dict[tuple[str, str], tuple[str, n.Prop]] = {}
        #: (enum, member as written, json) -> the bound member
        self.members: dict[tuple[str, str, bool], n.Lit] = {}
        #: entity set -> the name of its entity type
        self.roots: dict[str, str] = {}
        #: (entity set, name as written) -> the collection navigation it names, or None
        self.navigations: dict[tuple[str, str], Navigation | None] = {}
        #: a collection's type -> the type of its elements (a VType is slow to construct)
        self.elements: dict[n.VType, n.VType] = {}

    def root(self, set_name: str) -> str:
        """The name of the entity type of ``set_name`` (asked for on every path)."""
        found = self.roots.get(set_name)
        if found is None:
            found = self.roots[set_name] = self.model.types[BY_NAME[set_name].type_name].name
        return found

    def vtype(self, type_ref: TypeRef, *, json: bool, nullable: bool) -> n.VType:
        """The type of a value of ``type_ref`` (in a column or, ``json``, inside a document)."""
        key = (type_ref, json, nullable)
        found = self.vtypes.get(key)
        if found is None:
            found = self.vtypes[key] = self._new_vtype(type_ref, json=json, nullable=nullable)
        return found

    def _new_vtype(self, type_ref: TypeRef, *, json: bool, nullable: bool) -> n.VType:
        name = type_ref.name
        if name in self.model.enums:
            return n.VType(
                name,
                type_ref.collection,
                json=json or type_ref.collection,
                enum=True,
                nullable=nullable,
            )
        if name in self.model.types:
            return n.VType(name, type_ref.collection, json=True, structured=True)
        kind = NUMERIC_EDM.get(name, name)
        return n.VType(
            kind,
            type_ref.collection,
            json=json or type_ref.collection,
            nullable=nullable or type_ref.collection,
        )

    def element(self, collection: n.VType) -> n.VType:
        """The type of an item of a JSON collection of type ``collection``."""
        found = self.elements.get(collection)
        if found is None:
            found = n.VType(
                collection.kind,
                json=True,
                enum=collection.enum,
                structured=collection.structured,
            )
            if len(self.elements) < MEMO_SIZE:
                self.elements[collection] = found
        return found


_MEMOS: dict[int, Memo] = {}
#: entries per memo table (what clients may spell is unbounded; the model's names are not)
MEMO_SIZE = 4096


def memo_for(model: Model) -> Memo:
    """The memo of ``model`` (kept per model object, so a second model gets its own)."""
    memo = _MEMOS.get(id(model))
    if memo is None or memo.model is not model:
        memo = _MEMOS[id(model)] = Memo(model)
    return memo
