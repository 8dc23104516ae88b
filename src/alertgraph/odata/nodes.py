"""Bound expression nodes: syntax resolved against the EDM, typed, ready for sql.py.

Produced by bind.py, consumed by sql.py (and by the reference evaluator in the tests). Values keep
their storage form: DateTimeOffset is ticks in columns and fixed-width UTC text inside JSON, enums
are member values in columns and member names inside JSON, Date is ``YYYY-MM-DD`` text.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, TypeVar

_T = TypeVar("_T")

#: value categories used for type checking and SQL rendering
STRING = "Edm.String"
BOOLEAN = "Edm.Boolean"
INT = "Edm.Int64"
DECIMAL = "Edm.Decimal"
DOUBLE = "Edm.Double"
DATETIME = "Edm.DateTimeOffset"
DATE = "Edm.Date"
TIME = "Edm.TimeOfDay"
DURATION = "Edm.Duration"
GUID = "Edm.Guid"
BINARY = "Edm.Binary"
NULL = "null"


@dataclass(frozen=True, slots=True)
class VType:
    """The type of a bound value. ``kind`` is an Edm name from above, an enum's or a structured
    type's qualified name, or ``null``. ``json``: the value lives inside a JSON document (storage
    forms differ, see the module docstring)."""

    kind: str
    collection: bool = False
    json: bool = False
    enum: bool = False
    structured: bool = False
    nullable: bool = True


@dataclass(frozen=True, slots=True)
class Lit:
    value: Any  # storage form for the json=False column side: ticks, enum value...
    type: VType


@dataclass(frozen=True, slots=True)
class Prop:
    """A column of the entity being filtered (scope 0) or of a navigation target (scope > 0)."""

    column: str
    type: VType
    scope: int = 0


@dataclass(frozen=True, slots=True)
class Var:
    """The current element of a lambda over a JSON collection."""

    name: str
    type: VType
    depth: int  # nesting level of the lambda that binds it (1-based)


#: a step inside JSON: a member name, or a type cast keeping only the listed ``#qualified`` types
@dataclass(frozen=True, slots=True)
class Member:
    name: str


@dataclass(frozen=True, slots=True)
class TypeGuard:
    types: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class JsonPath:
    base: Prop | Var
    steps: tuple[Member | TypeGuard, ...]
    type: VType


@dataclass(frozen=True, slots=True)
class EntityType:
    """The runtime type of the current entity (``_type`` column), for isof() and casts."""

    types: tuple[str, ...]  # qualified names accepted
    scope: int = 0


@dataclass(frozen=True, slots=True)
class Guarded:
    """A column read through a derived-type cast of the entity: null unless the row is that type."""

    value: Prop
    types: tuple[str, ...]
    type: VType


@dataclass(frozen=True, slots=True)
class NavValue:
    """A value reached through a single-valued navigation property (a correlated subquery)."""

    navigation: str
    target: str  # entity set name
    value: Value
    scope: int
    type: VType


@dataclass(frozen=True, slots=True)
class Func:
    name: str
    args: tuple[Value, ...]
    type: VType


@dataclass(frozen=True, slots=True)
class Arith:
    op: str  # add sub mul div divby mod neg
    left: Value
    right: Value | None
    type: VType


@dataclass(frozen=True, slots=True)
class Compare:
    op: str  # eq ne gt ge lt le
    left: Value
    right: Value


@dataclass(frozen=True, slots=True)
class Has:
    left: Value
    flag: int


@dataclass(frozen=True, slots=True)
class InList:
    left: Value
    items: tuple[Value, ...]


@dataclass(frozen=True, slots=True)
class Logic:
    op: str  # and | or
    left: Pred
    right: Pred


@dataclass(frozen=True, slots=True)
class Not:
    operand: Pred


@dataclass(frozen=True, slots=True)
class Truth:
    """A Boolean-valued value used as a predicate (three-valued: null is not true)."""

    value: Value


@dataclass(frozen=True, slots=True)
class Is:
    """A condition compared with a Boolean literal (``severity has 'high' eq true``): true when
    the condition evaluates to ``value``, false otherwise (null included)."""

    operand: Pred
    value: bool


@dataclass(frozen=True, slots=True)
class IsOf:
    """isof(): true when the value's runtime type is one of ``types``."""

    value: JsonPath | Var | EntityType
    types: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class NavCollection:
    """The related entities of a collection-valued navigation property, bound to ``scope``."""

    navigation: str
    target: str  # entity set name
    outer_scope: int
    scope: int


@dataclass(frozen=True, slots=True)
class LambdaPred:
    op: str  # any | all
    source: Prop | JsonPath | Var | NavCollection
    variable: str | None
    depth: int
    body: Pred | None
    element: VType
    types: tuple[str, ...] | None = None  # a type-cast segment: only elements of these types


@dataclass(frozen=True, slots=True)
class Count:
    """``collection/$count``: the number of items (of ``types`` only, after a type cast)."""

    source: Prop | JsonPath | Var | NavCollection
    types: tuple[str, ...] | None
    type: VType


Value = Lit | Prop | Var | JsonPath | Guarded | NavValue | Func | Arith | Count
Pred = Compare | Has | InList | Logic | Not | Truth | Is | IsOf | LambdaPred

#: nodes whose value comes from the row being read
_ROW_NODES = (Prop, Var, JsonPath, Guarded, NavValue, EntityType, NavCollection)


def reads_row(node: Any) -> bool:
    """Whether ``node`` (a bound value or predicate) reads anything of the row it is applied to.

    A value that does not (``null``, ``now()``, ``1 add 2``) is the same for every row: as a sort
    key it orders nothing, and ``now()`` would even move a keyset position between pages.
    """
    if isinstance(node, _ROW_NODES):
        return True
    if isinstance(node, tuple):
        return any(reads_row(item) for item in node)
    if dataclasses.is_dataclass(node) and not isinstance(node, type):
        return any(reads_row(getattr(node, field.name)) for field in dataclasses.fields(node))
    return False


def quick_init(cls: type[_T]) -> type[_T]:
    """Give the frozen slots dataclass ``cls`` an ``__init__`` that fills each slot through its
    descriptor: the generated one calls ``object.__setattr__`` by name per field, which made
    building a dozen nodes a tenth of binding a filter. Instances stay frozen (``__setattr__`` is
    the dataclass's), and the signature, defaults included, is the generated one's."""
    fields = dataclasses.fields(cls)  # type: ignore[arg-type]
    if hasattr(cls, "__post_init__") or any(
        field.default_factory is not dataclasses.MISSING or field.kw_only or not field.init
        for field in fields
    ):
        raise TypeError(f"{cls.__name__} needs the generated __init__")
    scope: dict[str, Any] = {}
    params = []
    for field in fields:
        scope[f"_set_{field.name}"] = cls.__dict__[field.name].__set__
        if field.default is dataclasses.MISSING:
            params.append(field.name)
        else:
            scope[f"_default_{field.name}"] = field.default
            params.append(f"{field.name}=_default_{field.name}")
    body = "".join(f"\n    _set_{field.name}(self, {field.name})" for field in fields)
    code = f"def __init__(self, {', '.join(params)}):{body or chr(10) + '    pass'}"
    exec(code, scope)  # as dataclasses itself builds __init__
    init = scope["__init__"]
    init.__qualname__ = f"{cls.__qualname__}.__init__"
    init.__annotations__ = dict(cls.__init__.__annotations__)
    cls.__init__ = init  # type: ignore[method-assign]
    return cls


for _node in list(globals().values()):
    if isinstance(_node, type) and dataclasses.is_dataclass(_node) and _node.__module__ == __name__:
        quick_init(_node)
