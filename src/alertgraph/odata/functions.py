"""The canonical functions $filter and $orderby accept: signatures, result types, and the rules
that depend on how values are stored (URL Conventions 5.1.1.4-5.1.1.9).

The table, and FunctionBinder, the part of bind.Binder that binds calls and casts; sql.py renders
the bound calls.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from alertgraph.errors import ODataError
from alertgraph.odata import nodes as n
from alertgraph.odata import parser as p
from alertgraph.odata.names import NUMERIC, NUMERIC_EDM, describe, did_you_mean, lookup
from alertgraph.schema.edm import Model

#: name -> (accepted argument kinds per signature, result kind or "same")
FUNCTIONS: Mapping[str, tuple[tuple[tuple[str, ...], ...], str]] = {
    "contains": (((n.STRING, n.STRING),), n.BOOLEAN),
    "startswith": (((n.STRING, n.STRING),), n.BOOLEAN),
    "endswith": (((n.STRING, n.STRING),), n.BOOLEAN),
    "length": (((n.STRING,),), n.INT),
    "indexof": (((n.STRING, n.STRING),), n.INT),
    "substring": (((n.STRING, n.INT), (n.STRING, n.INT, n.INT)), n.STRING),
    "tolower": (((n.STRING,),), n.STRING),
    "toupper": (((n.STRING,),), n.STRING),
    "trim": (((n.STRING,),), n.STRING),
    "concat": (((n.STRING, n.STRING),), n.STRING),
    "matchesPattern": (((n.STRING, n.STRING),), n.BOOLEAN),
    "year": (((n.DATETIME,), (n.DATE,)), n.INT),
    "month": (((n.DATETIME,), (n.DATE,)), n.INT),
    "day": (((n.DATETIME,), (n.DATE,)), n.INT),
    "hour": (((n.DATETIME,), (n.TIME,)), n.INT),
    "minute": (((n.DATETIME,), (n.TIME,)), n.INT),
    "second": (((n.DATETIME,), (n.TIME,)), n.INT),
    "fractionalseconds": (((n.DATETIME,), (n.TIME,)), n.DOUBLE),
    "totaloffsetminutes": (((n.DATETIME,),), n.INT),
    "date": (((n.DATETIME,),), n.DATE),
    "time": (((n.DATETIME,),), n.TIME),
    "now": (((),), n.DATETIME),
    "mindatetime": (((),), n.DATETIME),
    "maxdatetime": (((),), n.DATETIME),
    "round": (((n.DOUBLE,), (n.DECIMAL,), (n.INT,)), "same"),
    "floor": (((n.DOUBLE,), (n.DECIMAL,), (n.INT,)), "same"),
    "ceiling": (((n.DOUBLE,), (n.DECIMAL,), (n.INT,)), "same"),
}

#: PostgreSQL's (POSIX's RE_DUP_MAX) bound on {m,n}; Python's is far larger, so SQLite would
#: run a pattern PostgreSQL refuses
MAX_REPEAT = 255
_REPEAT = re.compile(r"(?<!\\)\{(\d+)(?:,(\d*))?\}")


def accepts(kind: str, vtype: n.VType) -> bool:
    if vtype.collection or vtype.structured:
        return False
    if vtype.kind == n.NULL:
        return True
    if vtype.kind == kind:
        return True
    if kind == n.STRING and vtype.kind == n.GUID:
        return False
    return kind in (n.DOUBLE, n.DECIMAL) and vtype.kind == n.INT


#: date and time parts that depend on the offset a DateTimeOffset was written with
ZONED_PARTS = frozenset({"year", "month", "day", "hour", "minute", "date", "time"})


def offset_minutes(text: str) -> int:
    """The offset of a DateTimeOffset literal in minutes (``Z`` is 0)."""
    if text[-1] in "zZ":
        return 0
    sign = -1 if text[-6] == "-" else 1
    return sign * (int(text[-5:-3]) * 60 + int(text[-2:]))


class FunctionBinder:
    """Binding of function calls and casts, mixed into bind.Binder (which provides the methods
    declared here)."""

    model: Model

    def error(self, message: str, pos: int) -> ODataError:
        raise NotImplementedError

    def value(self, expr: p.Expr) -> n.Value:
        raise NotImplementedError

    def path(self, expr: p.Path, *, allow_collection: bool = False) -> n.Value:
        raise NotImplementedError

    def call(self, expr: p.Call) -> n.Value:
        name = lookup(expr.name, FUNCTIONS) or expr.name.lower()
        if name not in FUNCTIONS:
            if name in ("isof",):
                raise self.error("isof() is a condition; use it directly in $filter", expr.pos)
            if name == "cast":
                return self.cast(expr)
            raise self.error(
                f"unknown function '{expr.name}'.{did_you_mean(expr.name, FUNCTIONS)} "
                f"Functions: {', '.join(sorted(FUNCTIONS))}",
                expr.pos,
            )
        signatures, result = FUNCTIONS[name]
        for arg in expr.args:
            if isinstance(arg, p.Literal) and arg.kind == "datetime":
                offset = offset_minutes(arg.text)
                if name == "totaloffsetminutes":
                    return n.Lit(offset, n.VType(n.INT, nullable=False))
                if offset and name in ZONED_PARTS:
                    # 5.1.1.8: a service that normalizes to UTC MUST fail these for literals
                    # stated in another zone (their answer depends on the lost offset)
                    raise self.error(
                        f"{name}() of a date-time literal with a UTC offset other than Z is not "
                        "defined here, because values are stored in UTC; write the literal in "
                        f"UTC, like {name}(2024-05-01T10:00:00Z)",
                        arg.pos,
                    )
        if name == "length" and len(expr.args) == 1 and isinstance(expr.args[0], p.Path):
            # 4.01: length() of a collection is its number of items (5.1.1.5.5)
            counted = self.path(expr.args[0], allow_collection=True)
            if counted.type.collection:
                if not isinstance(counted, n.Prop | n.JsonPath):
                    raise self.error("length() of this collection is not supported", expr.pos)
                return n.Func("length_collection", (counted,), n.VType(n.INT))
        args = tuple(self.value(arg) for arg in expr.args)
        for signature in signatures:
            if len(signature) != len(args):
                continue
            if all(accepts(kind, arg.type) for kind, arg in zip(signature, args, strict=True)):
                break
        else:
            shown = " or ".join(f"{name}({', '.join(sig)})" for sig in signatures)
            got = ", ".join(describe(arg.type) for arg in args)
            raise self.error(f"{name}() takes {shown}; got {name}({got})", expr.pos)
        if name in ("matchesPattern",) and isinstance(args[1], n.Lit):
            try:
                re.compile(args[1].value)
            except re.error as exc:
                raise self.error(f"invalid regular expression: {exc}", expr.args[1].pos) from None
            for bound in _REPEAT.finditer(args[1].value):
                if max(int(count or 0) for count in bound.groups()) > MAX_REPEAT:
                    raise self.error(
                        f"invalid regular expression: the repetition {bound.group()} counts above "
                        f"{MAX_REPEAT}, the most both databases allow",
                        expr.args[1].pos,
                    )
        kind = result if result != "same" else args[0].type.kind
        return n.Func(name, args, n.VType(kind))

    def cast(self, expr: p.Call) -> n.Value:
        if len(expr.args) == 2 and isinstance(expr.args[1], p.Path):
            type_name = expr.args[1].segments[0]
            value = self.value(expr.args[0])
            if type_name == "Edm.String" and not value.type.structured:
                return self.cast_string(value, expr.pos)
            if type_name in NUMERIC_EDM and value.type.kind in NUMERIC:
                kind = NUMERIC_EDM[type_name]
                return n.Func("cast_" + kind.split(".")[1].lower(), (value,), n.VType(kind))
        raise self.error(
            "cast() is supported to Edm.String and numeric types here; use a type-cast "
            "segment (e/microsoft.graph.security.userEvidence/...) for derived types",
            expr.pos,
        )

    def cast_string(self, value: n.Value, pos: int) -> n.Value:
        """cast(x, Edm.String) gives the literal form used in payloads (5.1.1.10.1 rule 2):
        member names for enumerations, true/false for Booleans."""
        vtype = value.type
        if vtype.collection:
            raise self.error("cast() of a collection to Edm.String is not supported", pos)
        if vtype.enum:
            return n.Func("cast_enum_string", (value,), n.VType(n.STRING))
        if vtype.kind == n.BOOLEAN:
            return n.Func("cast_bool_string", (value,), n.VType(n.STRING))
        if vtype.kind in (n.STRING, n.GUID, n.INT, n.NULL):
            return n.Func("cast_string", (value,), n.VType(n.STRING))
        raise self.error(
            f"cast() of {describe(vtype)} to Edm.String is not supported here; it is supported "
            "for strings, integers, Booleans, GUIDs and enumerations",
            pos,
        )
