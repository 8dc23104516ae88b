"""A small pure-Python evaluator of bound filters: the oracle for the differential property tests.

It reads stored rows (column storage forms: ticks, enum values, JSON documents) and follows the
OData rules directly: comparisons are two-valued (null eq null is true, anything else with null is
false), functions of null are null, and/or/not are three-valued, a row matches when the filter is
true. Navigation values are not supported (the property tests do not generate them).
"""

from __future__ import annotations

import math
import re
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from alertgraph.odata import nodes as n
from alertgraph.schema.edm import load_model
from alertgraph.store import codec

MODEL = load_model()
TPD = codec.TICKS_PER_DAY
TPS = codec.TICKS_PER_SECOND


def matches(pred: n.Pred, row: dict[str, Any], now: int) -> bool:
    return Evaluator(row, now).pred(pred) is True


def _simple_case(text: str, upper: bool) -> str:
    # Unicode simple case mapping, one character to one (OData "according to Unicode rules", as
    # .NET maps): a character whose full mapping has several characters keeps its own, but for
    # U+0130, whose simple lower case is "i"
    def one(char: str) -> str:
        mapped = char.upper() if upper else char.lower()
        if len(mapped) == 1:
            return mapped
        return "i" if char == "\u0130" and not upper else char

    return "".join(one(char) for char in text)


#: Unicode White_Space, which trim() removes
_WHITESPACE = (
    "\t\n\x0b\x0c\r \x85\xa0\u1680"
    + "".join(map(chr, range(0x2000, 0x200B)))
    + ("\u2028\u2029\u202f\u205f\u3000")
)


def _of_types(items: list[Any], types: tuple[str, ...] | None) -> list[Any]:
    """The elements a type-cast segment keeps: those whose @odata.type is one of ``types``."""
    if types is None:
        return items
    names = ["#" + name for name in types]
    return [item for item in items if isinstance(item, dict) and item.get("@odata.type") in names]


class Evaluator:
    def __init__(self, row: dict[str, Any], now: int) -> None:
        self.row = row
        self.now = now
        self.elements: dict[int, Any] = {}

    # predicates: True, False or None (unknown)
    def pred(self, pred: n.Pred) -> bool | None:
        match pred:
            case n.Logic():
                left = self.pred(pred.left)
                right = self.pred(pred.right)
                if pred.op == "and":
                    if left is False or right is False:
                        return False
                    return None if left is None or right is None else True
                if left is True or right is True:
                    return True
                return None if left is None or right is None else False
            case n.Not():
                value = self.pred(pred.operand)
                return None if value is None else not value
            case n.Compare():
                return self.compare(pred.op, pred.left, pred.right)
            case n.InList():
                return any(self.compare("eq", pred.left, item) for item in pred.items)
            case n.Has():
                value = self.value(pred.left)
                return value is not None and value & pred.flag == pred.flag
            case n.Truth():
                value = self.value(pred.value)
                return None if value is None else bool(value)
            case n.Is():
                return self.pred(pred.operand) is pred.value
            case n.IsOf():
                target = pred.value
                if isinstance(target, n.EntityType):
                    return self.row.get("_type", "") in pred.types
                document = (
                    self.value(target) if isinstance(target, n.Var) else self.json(target, raw=True)
                )
                return isinstance(document, dict) and document.get("@odata.type") in [
                    "#" + t for t in pred.types
                ]
            case n.LambdaPred():
                items = _of_types(self.collection(pred.source), pred.types)
                results = []
                for item in items:
                    self.elements[pred.depth] = item
                    results.append(True if pred.body is None else self.pred(pred.body) is True)
                self.elements.pop(pred.depth, None)
                return any(results) if pred.op == "any" else all(results)
        raise AssertionError(pred)

    def collection(self, source: n.Prop | n.JsonPath | n.Var | n.NavCollection) -> list[Any]:
        if isinstance(source, n.NavCollection):
            raise NotImplementedError("navigation collections")
        if isinstance(source, n.Prop):
            value = self.row.get(source.column)
        elif isinstance(source, n.Var):
            value = self.elements[source.depth]
        else:
            value = self.json(source, raw=True)
        return value if isinstance(value, list) else []

    def compare(self, op: str, left_node: n.Value, right_node: n.Value) -> bool:
        left = self.comparable(left_node, right_node)
        right = self.comparable(right_node, left_node)
        if op in ("eq", "ne"):
            equal = left == right if left is not None and right is not None else left is right
            return equal if op == "eq" else not equal
        if left is None or right is None:
            return False
        return {
            "gt": left > right,
            "ge": left >= right,
            "lt": left < right,
            "le": left <= right,
        }[op]

    def comparable(self, node: n.Value, other: n.Value) -> Any:
        value = self.value(node)
        if value is None:
            return None
        vtype = node.type
        if vtype.enum and vtype.json and isinstance(value, str):
            return MODEL.enums[vtype.kind].members.get(value)
        if vtype.kind == n.DATETIME and vtype.json and isinstance(value, str):
            return codec.parse_datetime(value)
        if isinstance(value, bool) and other.type.kind == n.BOOLEAN:
            return value
        return value

    # values
    def value(self, value: n.Value) -> Any:
        match value:
            case n.Lit():
                if value.type.enum and value.type.json and isinstance(value.value, int):
                    return MODEL.enums[value.type.kind].by_value[value.value]
                return value.value
            case n.Prop():
                return self.row.get(value.column)
            case n.Guarded():
                return (
                    self.row.get(value.value.column)
                    if self.row.get("_type") in value.types
                    else None
                )
            case n.Var():
                return self.elements[value.depth]
            case n.JsonPath():
                return self.json(value)
            case n.NavValue():
                raise NotImplementedError("navigation values")
            case n.Func():
                return self.function(value)
            case n.Arith():
                return self.arithmetic(value)
            case n.Count():
                # every item counts, duplicates included; an absent collection is empty
                return len(_of_types(self.collection(value.source), value.types))
        raise AssertionError(value)

    def json(self, path: n.JsonPath, raw: bool = False) -> Any:
        current: Any = (
            self.elements[path.base.depth]
            if isinstance(path.base, n.Var)
            else (self.row.get(path.base.column))
        )
        for step in path.steps:
            if not isinstance(current, dict):
                return None
            if isinstance(step, n.TypeGuard):
                if current.get("@odata.type") not in step.types:
                    return None
            else:
                current = current.get(step.name)
        return current

    def arithmetic(self, value: n.Arith) -> Any:
        left = self.value(value.left)
        if value.op == "neg":
            return None if left is None else -left
        assert value.right is not None
        right = self.value(value.right)
        if left is None or right is None:
            return None
        match value.op:
            case "add":
                return left + right
            case "sub":
                return left - right
            case "mul":
                return left * right
            case "div" | "divby" | "mod":
                if right == 0:
                    return None
                if value.op == "mod":
                    return (
                        math.fmod(left, right)
                        if isinstance(left, float)
                        else (abs(left) % abs(right) * (1 if left >= 0 else -1))
                    )
                if value.op == "divby" or value.type.kind == n.DOUBLE:
                    return float(left) / float(right)
                if value.type.kind == n.INT:
                    quotient = abs(left) // abs(right)
                    return quotient if (left >= 0) == (right >= 0) else -quotient
                return left / right
        raise AssertionError(value.op)

    def function(self, value: n.Func) -> Any:
        name = value.name
        if name == "now":
            return self.now
        if name == "mindatetime":
            return codec.MIN_TICKS
        if name == "maxdatetime":
            return codec.MAX_TICKS
        args = [self.value(arg) for arg in value.args]
        if any(arg is None for arg in args):
            return None
        match name:
            case "contains":
                return args[1] in args[0]
            case "startswith":
                return args[0].startswith(args[1])
            case "endswith":
                return args[0].endswith(args[1])
            case "length" | "length_collection":
                return len(args[0])
            case "indexof":
                return args[0].find(args[1])
            case "substring":
                start = max(args[1], 0)
                if len(args) == 3:
                    return args[0][start : start + max(args[2], 0)]
                return args[0][start:]
            case "tolower":
                return _simple_case(args[0], upper=False)
            case "toupper":
                return _simple_case(args[0], upper=True)
            case "trim":
                return args[0].strip(_WHITESPACE)
            case "concat":
                return args[0] + args[1]
            case "matchesPattern":
                return re.search(args[1], args[0]) is not None
            case "round":
                if isinstance(args[0], int):
                    return args[0]
                return float(Decimal(repr(args[0])).quantize(Decimal(1), ROUND_HALF_UP))
            case "floor":
                return math.floor(args[0]) if not isinstance(args[0], int) else args[0]
            case "ceiling":
                return math.ceil(args[0]) if not isinstance(args[0], int) else args[0]
            case "totaloffsetminutes":
                return 0
            case "cast_string":
                return str(args[0])
        ticks = args[0]
        vtype = value.args[0].type
        if vtype.json:
            ticks = codec.parse_datetime(ticks)
        if vtype.kind == n.DATE:
            days, of_day = ticks, 0
        elif vtype.kind == n.TIME:
            days, of_day = 0, ticks
        else:
            days, of_day = divmod(ticks, TPD)
        from datetime import date

        day = date.fromordinal(days + 1)
        return {
            "year": day.year,
            "month": day.month,
            "day": day.day,
            "date": days,
            "time": of_day,
            "hour": of_day // (3600 * TPS),
            "minute": of_day % (3600 * TPS) // (60 * TPS),
            "second": of_day % (60 * TPS) // TPS,
            "fractionalseconds": of_day % TPS / TPS,
        }[name]
