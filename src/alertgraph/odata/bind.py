"""Bind filter and orderby syntax trees to the EDM: resolve names, type literals, check types.

Input from parser.py, output (nodes.py trees) to sql.py. Every "unknown property", type mismatch
and unsupported-construct error is raised here, with the position of the offending token.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal, InvalidOperation
from typing import assert_never

from alertgraph.errors import ODataError
from alertgraph.odata import nodes as n
from alertgraph.odata import parser as p
from alertgraph.odata.collections import CollectionBinder
from alertgraph.odata.functions import FunctionBinder
from alertgraph.odata.names import (
    MEMO_SIZE,
    NUMERIC,
    NUMERIC_EDM,
    describe,
    did_you_mean,
    lookup,
    memo_for,
)
from alertgraph.schema.edm import Model, Property, StructuredType, TypeRef
from alertgraph.schema.endpoints import BY_NAME, EntitySet
from alertgraph.store import codec

BOOL_T = n.VType(n.BOOLEAN)
#: JSON strings in an ``in [...]`` array read as these literals when compared with such values
_JSON_STRING_AS: dict[str, p.LiteralKind] = {n.DATETIME: "datetime", n.DATE: "date", n.TIME: "time"}
INT_T = n.VType(n.INT)
_COMPARISONS = frozenset(p.COMPARISONS)
#: the types of literals, made once (a VType is immutable; binding used to build one per literal)
_FIXED = {
    kind: n.VType(kind, nullable=False)
    for kind in (
        n.BOOLEAN,
        n.INT,
        n.DECIMAL,
        n.DOUBLE,
        n.STRING,
        n.DATETIME,
        n.DATE,
        n.TIME,
        n.DURATION,
        n.GUID,
    )
}
_NULL_T = n.VType(n.NULL)


class Binder(FunctionBinder, CollectionBinder):
    """Binds the expressions of one query option against one entity set."""

    def __init__(
        self, model: Model, entity_set: EntitySet, option: str, *, strict: bool = False
    ) -> None:
        self.model = model
        self.memo = memo_for(model)
        self.entity_set = entity_set
        self.option = option
        self.strict = strict
        self.scopes: list[str] = [entity_set.name]  # entity set per scope (0 = the queried set)
        self.variables: dict[str, n.Var] = {}
        self.entity_variables: dict[str, int] = {}  # lambda variables over related entities
        self.lambda_depth = 0

    def error(self, message: str, pos: int) -> ODataError:
        return ODataError(message, option=self.option, position=pos)

    # ---- predicates --------------------------------------------------------------------------

    def predicate(self, expr: p.Expr) -> n.Pred:
        # the commonest shapes first, without walking the match below case by case
        if type(expr) is p.Binary and expr.op in _COMPARISONS:
            return self.comparison(expr)
        if type(expr) is p.Lambda:
            return self.lambda_(expr)
        match expr:
            case p.Binary(op="and" | "or"):
                # a run of the same operator is flattened iteratively: no recursion per term
                operands: list[p.Expr] = []
                node: p.Expr = expr
                while isinstance(node, p.Binary) and node.op == expr.op:
                    operands.append(node.right)
                    node = node.left
                operands.append(node)
                operands.reverse()
                result = self.predicate(operands[0])
                for operand in operands[1:]:
                    result = n.Logic(expr.op, result, self.predicate(operand))
                return result
            case p.Binary(op=op) if op in p.COMPARISONS:
                return self.comparison(expr)
            case p.Binary(op="has"):
                return self.has(expr)
            case p.Unary(op="not"):
                return n.Not(self.predicate(expr.operand))
            case p.In() if expr.source is not None:
                return self.in_collection(expr, expr.source)
            case p.In():
                left = self.value(expr.left)
                if left.type.collection or left.type.structured:
                    raise self.error(
                        f"'in' needs a primitive value on the left, not {describe(left.type)}",
                        expr.pos,
                    )
                items = tuple(
                    self.operand_for(left, self.json_item(left, item) if expr.array else item, "in")
                    for item in expr.items
                )
                return n.InList(left, items)
            case p.Lambda():
                return self.lambda_(expr)
            case p.Call() if expr.name.lower() == "isof":
                return self.isof(expr)
            case p.Literal() | p.Path() | p.Call() | p.Binary() | p.Unary():
                value = self.value(expr)
                if value.type.kind not in (n.BOOLEAN, n.NULL) or value.type.collection:
                    raise self.error(
                        f"expected a Boolean expression, found a value of type "
                        f"{describe(value.type)}; compare it with eq, ne, gt, ge, lt or le",
                        _pos(expr),
                    )
                return n.Truth(value)
        assert_never(expr)

    def comparison(self, expr: p.Binary) -> n.Pred:
        op, left_expr, right_expr = expr.op, expr.left, expr.right
        left_literal = isinstance(left_expr, p.Literal)
        right_literal = isinstance(right_expr, p.Literal)
        if op in ("eq", "ne") and (left_literal or right_literal):
            for condition, other in ((left_expr, right_expr), (right_expr, left_expr)):
                if isinstance(other, p.Literal) and other.kind == "bool":
                    if not _is_condition(condition):
                        continue
                    # a condition compared with true or false, like has/in/any(...) eq true
                    compared = n.Is(self.predicate(condition), other.text == "true")
                    return compared if op == "eq" else n.Not(compared)
        if right_literal and not left_literal:
            left = self.value(left_expr)
            right = self.operand_for(left, right_expr, op)
        elif left_literal and not right_literal:
            right = self.value(right_expr)
            left = self.operand_for(right, left_expr, op)
        else:
            left = self.value(left_expr)
            right = self.value(right_expr)
            self.check_comparable(left, right, op, expr.pos)
        left_type, right_type = left.type, right.type
        # the checks below only when they can fail (they run for every comparison)
        if (
            left_type.collection
            or left_type.structured
            or right_type.collection
            or right_type.structured
        ):
            for side in (left, right):
                if side.type.collection or side.type.structured:
                    raise self.error(
                        f"'{op}' cannot compare a value of type {describe(side.type)}; "
                        "use any() or all() for collections and compare primitive members",
                        expr.pos,
                    )
        if op not in ("eq", "ne") and n.BINARY in (left_type.kind, right_type.kind):
            for side in (left, right):
                if side.type.kind in (n.BOOLEAN, n.GUID) and isinstance(side, n.Lit):
                    continue
                if side.type.kind == n.BINARY:
                    raise self.error("binary values can only be compared with eq and ne", expr.pos)
        return n.Compare(expr.op, left, right)

    def has(self, expr: p.Binary) -> n.Pred:
        left = self.value(expr.left)
        if not left.type.enum:
            raise self.error(
                f"'has' needs an enumeration on the left, not {describe(left.type)}", expr.pos
            )
        if left.type.json:
            raise self.error(
                "'has' works on enumeration properties of the entity itself; inside complex "
                "values compare with eq",
                expr.pos,
            )
        right = self.operand_for(left, expr.right, "has")
        if not isinstance(right, n.Lit) or right.value is None:
            raise self.error("'has' needs an enumeration member on the right", expr.pos)
        enum = self.model.enums[left.type.kind]
        flag = right.value if isinstance(right.value, int) else enum.members[right.value]
        return n.Has(left, flag)

    def isof(self, expr: p.Call) -> n.Pred:
        args = expr.args
        if len(args) not in (1, 2):
            raise self.error("isof() takes a type name, or an expression and a type name", expr.pos)
        type_arg = args[-1]
        if not isinstance(type_arg, p.Path) or len(type_arg.segments) != 1:
            raise self.error("the last argument of isof() must be a qualified type name", expr.pos)
        name = type_arg.segments[0]
        if len(args) == 2 and _is_it(args[0]):
            args = args[1:]  # isof($it, T) is isof(T): $it is the current entity (5.1.1.14.4)
        if len(args) == 1:
            declared = self.model.types[self.entity_set.type_name]
            target = self.resolve_type(name, declared, type_arg.pos, primitive_ok=False)
            return n.IsOf(n.EntityType(self.subtypes(target)), self.subtypes(target))
        value = self.value(args[0])
        if name.startswith("Edm."):
            return self._primitive_isof(value, name)
        if not value.type.structured or not isinstance(value, n.JsonPath | n.Var):
            raise self.error(
                f"isof() with a structured type needs a complex value, not {describe(value.type)}",
                expr.pos,
            )
        declared = self.model.types[value.type.kind]
        target = self.resolve_type(name, declared, type_arg.pos, primitive_ok=False)
        return n.IsOf(value, self.subtypes(target))

    def _primitive_isof(self, value: n.Value, name: str) -> n.Pred:
        # a primitive value's type is known statically: isof is a constant (null stays false)
        same = value.type.kind == name or (
            name in NUMERIC_EDM and NUMERIC_EDM[name] == value.type.kind
        )
        literal = n.Lit(same, BOOL_T)
        if not same:
            return n.Truth(literal)
        return n.Compare("ne", value, n.Lit(None, _NULL_T))

    # ---- values ------------------------------------------------------------------------------

    def value(self, expr: p.Expr) -> n.Value:
        if type(expr) is p.Path and expr.segments[-1].lower() != "$count":
            return self.path(expr)  # the commonest, without walking the cases below
        match expr:
            case p.Literal():
                return self.literal(expr)
            case p.Path() if expr.segments[-1].lower() == "$count":
                return self.count(expr)
            case p.Path():
                return self.path(expr)
            case p.Call():
                return self.call(expr)
            case p.Unary(op="not") if not _is_condition(expr.operand):
                operand = self.value(expr.operand)
                if operand.type.kind not in (n.BOOLEAN, n.NULL) or operand.type.collection:
                    # 'not' binds tighter than comparisons: "not a eq b" is "(not a) eq b"
                    raise self.error(
                        f"'not' needs a Boolean operand, but '{p.to_text(expr.operand)}' is "
                        f"{describe(operand.type)}; 'not' binds tighter than comparisons, so "
                        "to negate one put it in parentheses, like not (severity eq 'high')",
                        _pos(expr.operand),
                    )
                raise self.error(
                    "a Boolean expression cannot be used as a value here; "
                    "compare values and combine the comparisons with and, or, not",
                    expr.pos,
                )
            case p.Unary(op="-"):
                operand = self.value(expr.operand)
                if operand.type.kind not in NUMERIC and operand.type.kind != n.DURATION:
                    raise self.error(
                        f"'-' needs a number or a duration, not {describe(operand.type)}", expr.pos
                    )
                if isinstance(operand, n.Lit) and operand.value is not None:
                    return n.Lit(-operand.value, operand.type)
                return n.Arith("neg", operand, None, operand.type)
            case p.Binary(op=op) if op in p.ARITHMETIC:
                return self.arithmetic(expr)
            case p.Binary() | p.Unary() | p.In() | p.Lambda():
                raise self.error(
                    "a Boolean expression cannot be used as a value here; "
                    "compare values and combine the comparisons with and, or, not",
                    _pos(expr),
                )
        assert_never(expr)

    def arithmetic(self, expr: p.Binary) -> n.Value:
        left = self.value(expr.left)
        right = self.value(expr.right)
        kinds = {left.type.kind, right.type.kind} - {n.NULL}
        if kinds <= NUMERIC:
            if expr.op == "div" and kinds <= {n.INT}:
                result = n.INT
            elif expr.op == "divby" or n.DOUBLE in kinds:
                result = n.DOUBLE
            elif n.DECIMAL in kinds:
                result = n.DECIMAL
            else:
                result = n.INT
            zero = isinstance(right, n.Lit) and right.value == 0
            if zero and (expr.op == "mod" or (expr.op == "div" and result != n.DOUBLE)):
                # OData 5.1.1.2.5-6: integer and decimal div, and mod, by zero fail the request
                hint = "" if expr.op == "mod" else " (divby gives INF instead)"
                raise self.error(
                    f"division by zero: '{expr.op}' needs a non-zero right operand{hint}",
                    _pos(expr.right),
                )
            return n.Arith(expr.op, left, right, n.VType(result))
        if expr.op in ("add", "sub") and kinds <= {n.DATE, n.DURATION} and not left.type.json:
            # 5.1.1.2.1-2: Date add/sub Duration is a Date (the day of midnight plus the
            # duration), Date sub Date a Duration
            if left.type.kind == n.DATE and right.type.kind == n.DURATION:
                return n.Arith(expr.op, left, right, n.VType(n.DATE))
            if expr.op == "sub" and left.type.kind == right.type.kind == n.DATE:
                return n.Arith("sub", left, right, n.VType(n.DURATION))
        if expr.op in ("add", "sub") and kinds <= {n.DATETIME, n.DURATION}:
            if left.type.json or right.type.json:
                raise self.error(
                    "date arithmetic on values inside complex properties is not supported",
                    expr.pos,
                )
            if left.type.kind == n.DATETIME and right.type.kind == n.DURATION:
                return n.Arith(expr.op, left, right, n.VType(n.DATETIME))
            if expr.op == "sub" and left.type.kind == right.type.kind == n.DATETIME:
                return n.Arith("sub", left, right, n.VType(n.DURATION))
            if left.type.kind == right.type.kind == n.DURATION:
                return n.Arith(expr.op, left, right, n.VType(n.DURATION))
        raise self.error(
            f"'{expr.op}' cannot combine {describe(left.type)} and {describe(right.type)}; "
            "arithmetic needs numbers (or a date-time or date and a duration for add and sub)",
            expr.pos,
        )

    def literal(self, lit: p.Literal) -> n.Lit:
        """A literal in its natural type (storage form of a column)."""
        text = lit.text
        match lit.kind:
            case "null":
                return n.Lit(None, _NULL_T)
            case "bool":
                return n.Lit(text == "true", _FIXED[n.BOOLEAN])
            case "int":
                value = int(text)
                if not -(2**63) <= value < 2**63:
                    return n.Lit(Decimal(text), _FIXED[n.DECIMAL])
                return n.Lit(value, _FIXED[n.INT])
            case "decimal":
                try:
                    return n.Lit(Decimal(text), _FIXED[n.DECIMAL])
                except InvalidOperation:  # pragma: no cover - the lexer only passes digits
                    raise self.error(f"'{text}' is not a number", lit.pos) from None
            case "double":
                return n.Lit(float(text.replace("INF", "inf")), _FIXED[n.DOUBLE])
            case "string":
                if "\x00" in text:
                    raise self.error("string literals cannot contain NUL characters", lit.pos)
                return n.Lit(text, _FIXED[n.STRING])
            case "datetime":
                try:
                    ticks = codec.parse_datetime(text.upper() if text[-1] in "zZ" else text)
                except ValueError as exc:
                    raise self.error(str(exc), lit.pos) from None
                return n.Lit(ticks, _FIXED[n.DATETIME])
            case "date":
                try:
                    return n.Lit(day_number(codec.parse_date(text)), _FIXED[n.DATE])
                except ValueError as exc:
                    raise self.error(str(exc), lit.pos) from None
            case "time":
                try:
                    return n.Lit(time_ticks(text), _FIXED[n.TIME])
                except ValueError as exc:
                    raise self.error(str(exc), lit.pos) from None
            case "duration":
                try:
                    return n.Lit(codec.parse_duration(text), _FIXED[n.DURATION])
                except ValueError as exc:
                    raise self.error(str(exc), lit.pos) from None
            case "guid":
                return n.Lit(text.lower(), _FIXED[n.GUID])
            case "binary":
                raise self.error("binary literals are not supported here", lit.pos)
            case "enum":
                return self.enum_literal(lit)
        assert_never(lit.kind)

    def enum_literal(self, lit: p.Literal, expected: str | None = None) -> n.Lit:
        assert lit.type_name is not None
        name = lookup(lit.type_name, self.model.enums)
        if name is None:
            raise self.error(
                f"'{lit.type_name}' is not an enumeration type."
                + did_you_mean(lit.type_name, self.model.enums),
                lit.pos,
            )
        if expected is not None and name != expected:
            raise self.error(
                f"the member of {name} cannot be compared with a value of {expected}", lit.pos
            )
        return self.enum_member(name, lit.text, lit.pos, json=False)

    def enum_member(self, enum_name: str, text: str, pos: int, *, json: bool) -> n.Lit:
        members = self.memo.members
        key = (enum_name, text, json)
        found = members.get(key)
        if found is None:
            found = self._enum_member(enum_name, text, pos, json=json)
            if len(members) < MEMO_SIZE:  # spellings are endless ("01", "001"...)
                members[key] = found
        return found

    def _enum_member(self, enum_name: str, text: str, pos: int, *, json: bool) -> n.Lit:
        enum = self.model.enums[enum_name]
        vtype = n.VType(enum_name, enum=True, json=json, nullable=False)
        if enum.is_flags:
            total = 0
            for part in text.split(","):
                member = lookup(part.strip(), enum.members)
                if member is None:
                    raise self._not_member(enum_name, part.strip(), pos)
                total |= enum.members[member]
            return n.Lit(total, vtype)
        member = lookup(text, enum.members)
        if member is None:
            if text.lstrip("-").isdigit() and int(text) in enum.by_value:
                member = enum.by_value[int(text)]
            else:
                raise self._not_member(enum_name, text, pos)
        return n.Lit(member if json else enum.members[member], vtype)

    def _not_member(self, enum_name: str, text: str, pos: int) -> ODataError:
        members = self.model.enums[enum_name].members
        return self.error(
            f"'{text}' is not a member of {enum_name}.{did_you_mean(text, members)} "
            f"Members: {', '.join(members)}",
            pos,
        )

    def json_item(self, other: n.Value, item: p.Expr) -> p.Expr:
        """An item of a JSON array after ``in``: JSON writes dates and times as strings, so a
        string compared with one is read as that literal (``["2024-05-01T00:00:00Z"]``)."""
        kind = _JSON_STRING_AS.get(other.type.kind)
        if kind is None or not isinstance(item, p.Literal) or item.kind != "string":
            return item
        return p.Literal(kind, item.text, item.pos)

    def operand_for(self, other: n.Value, expr: p.Expr, op: str) -> n.Value:
        """Bind ``expr`` to be compared with ``other``: literals take ``other``'s type."""
        if not isinstance(expr, p.Literal):
            value = self.value(expr)
            self.check_comparable(other, value, op, _pos(expr))
            return value
        target = other.type
        if expr.kind == "null":
            return n.Lit(None, _NULL_T)
        if target.enum:
            if expr.kind == "enum":
                lit = self.enum_literal(expr, target.kind)
                if target.json:
                    return self.enum_member(target.kind, expr.text, expr.pos, json=True)
                return lit
            if expr.kind in ("string", "int"):
                return self.enum_member(target.kind, expr.text, expr.pos, json=target.json)
            raise self.error(
                f"{target.kind} is compared with quoted member names like "
                f"'{next(iter(self.model.enums[target.kind].members))}'; "
                f"found a {expr.kind} literal",
                expr.pos,
            )
        if target.kind == n.DURATION and expr.kind == "string":
            # 4.01: duration literals may omit the duration prefix (5.1.1.14.1)
            expr = p.Literal("duration", expr.text, expr.pos)
        lit = self.literal(expr)
        kind = lit.type.kind
        if target.kind == n.DATETIME and kind == n.DATE:
            # a Date compared with a DateTimeOffset means midnight UTC of that day
            lit = n.Lit(lit.value * codec.TICKS_PER_DAY, _FIXED[n.DATETIME])
            kind = n.DATETIME
        if target.kind == n.STRING and kind == n.GUID:
            return n.Lit(expr.text, _FIXED[n.STRING])
        if target.kind == n.GUID and kind == n.STRING:
            return n.Lit(lit.value.lower(), _FIXED[n.GUID])
        if target.kind == n.DATETIME and kind == n.DATETIME and target.json:
            return n.Lit(codec.format_datetime_fixed(lit.value), n.VType(n.DATETIME, json=True))
        if target.kind == n.DURATION and kind == n.DURATION and target.json:
            return n.Lit(codec.format_duration(lit.value), n.VType(n.DURATION, json=True))
        self.check_comparable(other, lit, op, expr.pos)
        return lit

    def check_comparable(self, left: n.Value, right: n.Value, op: str, pos: int) -> None:
        a, b = left.type, right.type
        if n.NULL in (a.kind, b.kind):
            return
        if a.kind in NUMERIC and b.kind in NUMERIC:
            return
        if a.kind == b.kind and not a.structured:
            if a.kind == n.DURATION and a.json != b.json:
                raise self.error(
                    "comparing a duration column with one inside a complex property is not "
                    "supported; compare each with a literal",
                    pos,
                )
            return
        if {a.kind, b.kind} == {n.STRING, n.GUID}:
            return
        raise self.error(f"'{op}' cannot compare {describe(a)} with {describe(b)}", pos)

    # ---- paths -------------------------------------------------------------------------------

    def path(self, expr: p.Path, *, allow_collection: bool = False) -> n.Value:
        if len(expr.segments) == 1 and not self.entity_variables:
            # a lambda variable, or a property of the queried entity resolved once per spelling
            # (see below)
            first = expr.segments[0]
            var = self.variables.get(first)
            if var is not None:
                return var
            known = self.memo.columns.get((self.memo.root(self.entity_set.name), first))
            if known is not None:
                if self.strict:
                    self.check_strict(known[0], 0, expr.pos)
                if known[1].type.collection and not allow_collection:
                    return self.finish(known[1], allow_collection, expr)  # raises
                return known[1]
        segments = list(expr.segments)
        pos = expr.pos
        first = segments[0]
        base: n.Value
        struct: StructuredType | None
        scope = 0
        if first in self.entity_variables:
            scope = self.entity_variables[first]
            segments.pop(0)
            if not segments:
                raise self.error(
                    f"'{first}' is an entity; name one of its properties, like {first}/id", pos
                )
            target_set = self.scopes[scope]
            target_struct = self.model.types[BY_NAME[target_set].type_name]
            return self._scoped_path(
                target_struct, target_set, scope, segments, pos, allow_collection
            )
        if first in self.variables:
            var = self.variables[first]
            segments.pop(0)
            if not segments:
                return var
            if not var.type.structured:
                raise self.error(f"'{first}' is a {var.type.kind}; it has no members", pos)
            return self.json_path(var, self.model.types[var.type.kind], segments, pos)
        if first.lower() == "$it":
            segments.pop(0)
            if not segments:
                raise self.error("$it alone is the whole entity; name a property after $it/", pos)
        set_name = self.entity_set.name
        struct = self.model.types[BY_NAME[set_name].type_name]
        if len(segments) == 1:
            # the common case, a property of the entity itself, resolved once per spelling
            known = self.memo.columns.get((struct.name, segments[0]))
            if known is not None:
                self.check_strict(known[0], 0, pos)
                return self.finish(known[1], allow_collection, expr)
        guard: tuple[str, ...] | None = None
        while True:
            name = segments.pop(0)
            if "." in name:
                target = self.resolve_type(name, struct, pos, primitive_ok=False)
                guard = self.subtypes(target)
                struct = target
                if not segments:
                    raise self.error(
                        f"a type cast to {target.name} must be followed by a property", pos
                    )
                continue
            entity_set = BY_NAME[set_name]
            nav_name = lookup(name, struct.navigation)
            prop_name = lookup(name, struct.properties)
            if prop_name is None and nav_name is not None:
                navigation = entity_set.navigation(nav_name)
                if navigation is None:  # pragma: no cover - every CSDL navigation has a row
                    raise self.error(f"navigation '{nav_name}' is not served", pos)
                if navigation.collection:
                    raise self.error(
                        f"'{nav_name}' is a collection of entities; test its members with "
                        f"{nav_name}/any(x: x/...) or {nav_name}/all(x: x/...), or count "
                        f"them with {nav_name}/$count",
                        pos,
                    )
                if not segments:
                    raise self.error(
                        f"'{nav_name}' is an entity; name one of its properties, like "
                        f"{nav_name}/id",
                        pos,
                    )
                self.scopes.append(navigation.target)
                inner_scope = len(self.scopes) - 1
                outer_scope = scope
                set_name = navigation.target
                struct = self.model.types[BY_NAME[set_name].type_name]
                scope = inner_scope
                value = self._scoped_path(struct, set_name, scope, segments, pos)
                return n.NavValue(nav_name, navigation.target, value, outer_scope, value.type)
            if prop_name is None:
                raise self._unknown(name, struct, pos)
            prop = struct.properties[prop_name]
            self.check_strict(prop_name, scope, pos)
            column = n.Prop(prop_name, self.column_type(prop), scope)
            base = column
            if guard is not None:
                base = n.Guarded(column, guard, column.type)
            if not segments:
                if guard is None and scope == 0 and len(self.memo.columns) < MEMO_SIZE:
                    self.memo.columns[(struct.name, name)] = (prop_name, column)
                return self.finish(base, allow_collection, expr)
            if prop.type.name not in self.model.types or prop.type.collection:
                raise self.error(
                    f"'{prop_name}' is {prop.type}; it has no member '{segments[0]}'"
                    + (" (use any() or all() for collections)" if prop.type.collection else ""),
                    pos,
                )
            if guard is not None:
                raise self.error(
                    "paths through a derived entity's complex property are not supported", pos
                )
            return self.finish(
                self.json_path(column, self.model.types[prop.type.name], segments, pos),
                allow_collection,
                expr,
            )

    def _scoped_path(
        self,
        struct: StructuredType,
        set_name: str,
        scope: int,
        segments: list[str],
        pos: int,
        allow_collection: bool = False,
    ) -> n.Value:
        name = segments.pop(0)
        guard: tuple[str, ...] | None = None
        if "." in name:
            target = self.resolve_type(name, struct, pos, primitive_ok=False)
            if not segments:
                raise self.error(
                    f"a type cast to {target.name} must be followed by a property", pos
                )
            guard, struct = self.subtypes(target), target
            name = segments.pop(0)
        prop_name = lookup(name, struct.properties)
        if prop_name is None:
            raise self._unknown(name, struct, pos)
        prop = struct.properties[prop_name]
        column = n.Prop(prop_name, self.column_type(prop), scope)
        if segments:
            if prop.type.name not in self.model.types or prop.type.collection or guard:
                raise self.error(f"'{prop_name}' is {prop.type}; it has no members", pos)
            return self.json_path(column, self.model.types[prop.type.name], segments, pos)
        if column.type.collection and not allow_collection:
            raise self.error(f"'{prop_name}' is a collection; it cannot be compared", pos)
        if guard is not None:
            return n.Guarded(column, guard, column.type)
        return column

    def finish(self, value: n.Value, allow_collection: bool, expr: p.Path) -> n.Value:
        if value.type.collection and not allow_collection:
            raise self.error(
                f"'{'/'.join(expr.segments)}' is a collection; use "
                f"{'/'.join(expr.segments)}/any(x: ...) to test its items",
                expr.pos,
            )
        return value

    def json_path(
        self,
        base: n.Prop | n.Var,
        struct: StructuredType,
        segments: list[str],
        pos: int,
    ) -> n.Value:
        steps: list[n.Member | n.TypeGuard] = []
        vtype: n.VType | None = None
        current: StructuredType | None = struct
        for index, name in enumerate(segments):
            if current is None:
                raise self.error(
                    f"'{segments[index - 1]}' is {describe(vtype or base.type)}; "
                    f"it has no member '{name}'",
                    pos,
                )
            if "." in name:
                target = self.resolve_type(name, current, pos, primitive_ok=False)
                steps.append(n.TypeGuard(tuple("#" + t for t in self.subtypes(target))))
                current = target
                if index == len(segments) - 1:
                    raise self.error(
                        f"a type cast to {target.name} must be followed by a property", pos
                    )
                continue
            prop_name = lookup(name, current.properties)
            if prop_name is None:
                raise self._unknown(name, current, pos)
            prop = current.properties[prop_name]
            steps.append(n.Member(prop_name))
            vtype = self.json_type(prop.type)
            if prop.type.collection and index != len(segments) - 1:
                raise self.error(
                    f"'{prop_name}' is a collection; use {prop_name}/any(x: ...) "
                    "to reach its items",
                    pos,
                )
            current = self.model.types.get(prop.type.name) if not prop.type.collection else None
        assert vtype is not None
        return n.JsonPath(base, tuple(steps), vtype)

    def resolve_type(
        self, name: str, declared: StructuredType, pos: int, *, primitive_ok: bool
    ) -> StructuredType:
        found = self.model.find_type(name)
        if found is None or not self.model.is_subtype(found.name, declared.name):
            allowed = ", ".join(declared.derived[:10]) or "none"
            raise self.error(
                f"'{name}' is not {declared.name} or a type derived from it. "
                f"Derived types: {allowed}" + did_you_mean(name, declared.derived),
                pos,
            )
        return found

    def subtypes(self, struct: StructuredType) -> tuple[str, ...]:
        return (struct.name, *struct.derived)

    def _unknown(self, name: str, struct: StructuredType, pos: int) -> ODataError:
        hint = did_you_mean(name, [*struct.properties, *struct.navigation])
        owners = [sub for sub in struct.derived if name in self.model.types[sub].properties]
        if owners:
            shown = ", ".join(owner.rsplit(".", 1)[1] for owner in owners[:6])
            more = f" and {len(owners) - 6} more" if len(owners) > 6 else ""
            hint += (
                f" It is declared by the derived types {shown}{more}; cast first, like "
                f"{owners[-1]}/{name}"
            )
        return self.error(f"'{name}' is not a property of {struct.name}.{hint}", pos)

    def check_strict(self, prop_name: str, scope: int, pos: int) -> None:
        documented = self.entity_set.documented_filterable
        if not self.strict or scope != 0 or self.option != "$filter" or documented is None:
            return
        if prop_name not in documented:
            raise self.error(
                f"Graph does not document filtering {self.entity_set.path} on '{prop_name}' "
                f"(strict Graph mode). Filterable properties: {', '.join(documented)}",
                pos,
            )

    def column_type(self, prop: Property) -> n.VType:
        """The type of a top-level column value (storage: ticks, enum values, JSON documents)."""
        return self._vtype(prop.type, json=False, nullable=prop.nullable)

    def json_type(self, type_ref: TypeRef) -> n.VType:
        return self._vtype(type_ref, json=True, nullable=True)

    def _vtype(self, type_ref: TypeRef, *, json: bool, nullable: bool) -> n.VType:
        return self.memo.vtype(type_ref, json=json, nullable=nullable)


def day_number(text: str) -> int:
    """A Date (``YYYY-MM-DD``) as days since 0001-01-01: Date values are integers in SQL."""
    return date.fromisoformat(text).toordinal() - 1


def time_ticks(text: str) -> int:
    """A TimeOfDay as ticks since midnight: TimeOfDay values are integers in SQL."""
    normalized = codec.parse_time_of_day(text)
    clock, _, fraction = normalized.partition(".")
    hours, minutes, seconds = (int(part) for part in clock.split(":"))
    ticks = (hours * 3600 + minutes * 60 + seconds) * codec.TICKS_PER_SECOND
    return ticks + int(fraction[:7].ljust(7, "0") or 0)


def _is_condition(expr: p.Expr) -> bool:
    """Syntax that can only be a Boolean condition (not a value of a property or function)."""
    match expr:
        case p.Binary(op=op):
            return op in p.COMPARISONS or op in ("and", "or", "has")
        case p.Unary(op="not") | p.In() | p.Lambda():
            return True
        case p.Call(name=name):
            return name.lower() == "isof"
    return False


def _is_it(expr: p.Expr) -> bool:
    return isinstance(expr, p.Path) and len(expr.segments) == 1 and expr.segments[0] == "$it"


def _pos(expr: p.Expr) -> int:
    return expr.pos
