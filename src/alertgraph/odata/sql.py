"""Render bound filter and order trees (nodes.py) as SQLAlchemy Core expressions.

Input from bind.py, used by query.py to build the page, count and expand SELECTs. One code path
serves SQLite and PostgreSQL; the few dialect differences (JSON access, string search, regular
expressions, rounding) are chosen here by dialect name. Every value is a bound parameter.

OData null semantics: comparisons are two-valued (``x ne 'a'`` is true when x is null, ``x gt 1``
is false), functions of null are null, and/or/not on Boolean values are three-valued. SQL's ``NOT``
would turn an unknown into unknown, so negation is pushed down: every predicate is rendered either
as "is true" (``positive``) or "is false" for the two-valued parts.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import Any, assert_never

import sqlalchemy as sa
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.expression import FromClause

from alertgraph.odata import nodes as n
from alertgraph.schema.edm import Model
from alertgraph.schema.endpoints import BY_NAME
from alertgraph.store import casemap, codec
from alertgraph.store.database import TENANT, TYPE

TPD = codec.TICKS_PER_DAY
#: binding power of *, / and % in SQLAlchemy's operator table, so custom operators get parentheses
_MUL = 8
TPS = codec.TICKS_PER_SECOND
Expr = ColumnElement[Any]


class Renderer:
    """Renders the bound trees of one query for one dialect.

    ``tables[scope]`` is the FROM item of each scope (0: the queried set; others: navigation
    targets, aliased per use). ``now`` is the request's instant in ticks (now() is per request).
    """

    def __init__(
        self,
        model: Model,
        dialect: str,
        tables: dict[int, FromClause],
        scope_sets: Sequence[str],
        *,
        now: int,
        tenant: str,
    ) -> None:
        self.model = model
        self.pg = dialect == "postgresql"
        self.tables = tables
        self.scope_sets = scope_sets
        self.now = now
        self.tenant = tenant
        self.elements: dict[int, Any] = {}  # lambda depth -> element column of json_each(...)
        self.element_types: dict[int, n.VType] = {}
        #: Python functions this statement calls on SQLite (store/sqlfunctions.py registers them)
        self.sqlite_functions: set[str] = set()
        #: the statement holds this request's instant: it can't be reused by a later request
        self.used_now = False

    # ---- predicates ---------------------------------------------------------------------------

    def where(self, pred: n.Pred) -> Expr:
        return self.pred(pred, True)

    def pred(self, pred: n.Pred, positive: bool) -> Expr:
        match pred:
            case n.Logic():
                operands = _flatten(pred)
                parts = [self.pred(operand, positive) for operand in operands]
                # De Morgan: "false" of an and is the or of the falses
                conjunction = (pred.op == "and") == positive
                return sa.and_(*parts) if conjunction else sa.or_(*parts)
            case n.Not():
                return self.pred(pred.operand, not positive)
            case n.Compare():
                return self.compare(pred.op, pred.left, pred.right, positive)
            case n.InList():
                if not pred.items:  # nothing is in an empty list
                    return sa.false() if positive else sa.true()
                parts = [self.compare("eq", pred.left, item, positive) for item in pred.items]
                if positive:
                    simple = [
                        i
                        for i in pred.items
                        if isinstance(i, n.Lit) and i.value is not None and not _is_nan(i)
                    ]
                    if len(simple) == len(pred.items) and len(simple) > 1:
                        left = self.value(pred.left)
                        return left.in_([self.param(item.value, item.type) for item in simple])
                    return sa.or_(*parts)
                return sa.and_(*parts)
            case n.Has():
                value = self.value(pred.left)
                test = value.op("&", precedence=_MUL)(
                    sa.literal(pred.flag, sa.BigInteger)
                ) == sa.literal(pred.flag, sa.BigInteger)
                return test if positive else sa.or_(sa.not_(test), value.is_(None))
            case n.Truth():
                value = self.value(pred.value)
                if isinstance(pred.value, n.Lit):
                    if pred.value.value is None:  # null is neither true nor false
                        return sa.false()
                    truth = pred.value.value is True
                    return sa.true() if truth == positive else sa.false()
                return value.is_(sa.true()) if positive else value.is_(sa.false())
            case n.Is():
                if positive:
                    return self.pred(pred.operand, pred.value)
                # two-valued: "not (P eq true)" holds when P is false or null
                return sa.not_(sa.func.coalesce(self.pred(pred.operand, pred.value), sa.false()))
            case n.IsOf():
                test = self.isof(pred)
                return test if positive else sa.not_(sa.func.coalesce(test, sa.false()))
            case n.LambdaPred():
                return self.lambda_(pred, positive)
        assert_never(pred)

    def compare(self, op: str, left: n.Value, right: n.Value, positive: bool) -> Expr:
        if _is_nan(left) or _is_nan(right):
            # NaN is not equal to anything, itself included, and orders with nothing (5.1.1.1.1);
            # the engines disagree (PostgreSQL: NaN = NaN, SQLite: NaN is NULL), so decide here
            truth = op == "ne"
            return sa.true() if truth == positive else sa.false()
        left_null = isinstance(left, n.Lit) and left.value is None
        right_null = isinstance(right, n.Lit) and right.value is None
        if left_null or right_null:
            if op not in ("eq", "ne"):
                # ordering comparisons with null are false (OData part 2, 5.1.1.1)
                return sa.false() if positive else sa.true()
            other = right if left_null else left
            is_null = (op == "eq") == positive
            if left_null and right_null:
                return sa.true() if is_null else sa.false()
            expr = self.value(other)
            return expr.is_(None) if is_null else expr.is_not(None)
        a, b = self.comparable(left, right, ordering=op not in ("eq", "ne"))
        left_nullable = _nullable(left)
        right_nullable = _nullable(right)
        if op == "ne":
            op, positive = "eq", not positive
        if op == "eq":
            if positive:
                test = a == b
                if left_nullable and right_nullable:
                    return sa.or_(test, sa.and_(a.is_(None), b.is_(None)))
                return test
            parts = [a != b]
            if left_nullable and right_nullable:
                parts += [
                    sa.and_(a.is_(None), b.is_not(None)),
                    sa.and_(a.is_not(None), b.is_(None)),
                ]
            elif left_nullable:
                parts.append(a.is_(None))
            elif right_nullable:
                parts.append(b.is_(None))
            return sa.or_(*parts) if len(parts) > 1 else parts[0]
        operators: dict[str, Callable[[Expr, Expr], Expr]] = {
            "gt": lambda x, y: x > y,
            "ge": lambda x, y: x >= y,
            "lt": lambda x, y: x < y,
            "le": lambda x, y: x <= y,
        }
        complements = {"gt": "le", "ge": "lt", "lt": "ge", "le": "gt"}
        if positive:
            return operators[op](a, b)
        parts = [operators[complements[op]](a, b)]
        if left_nullable:
            parts.append(a.is_(None))
        if right_nullable:
            parts.append(b.is_(None))
        return sa.or_(*parts) if len(parts) > 1 else parts[0]

    def comparable(
        self, left: n.Value, right: n.Value, *, ordering: bool = False
    ) -> tuple[Expr, Expr]:
        """Both sides in one storage form (enum names vs values, datetime ticks vs text)."""
        lt, rt = left.type, right.type
        if lt.enum and rt.enum and (lt.json != rt.json or (ordering and lt.json)):
            # enums order by member value; inside JSON they are names, so map names to values
            return self.enum_number(left), self.enum_number(right)
        if lt.kind == n.DATETIME and rt.kind == n.DATETIME and lt.json != rt.json:
            constant = any(
                isinstance(v, n.Func) and v.name in ("now", "mindatetime", "maxdatetime")
                for v in (left, right)
            )
            if constant:
                return self.datetime_side(left, rt.json), self.datetime_side(right, lt.json)
            return self.ticks(left), self.ticks(right)
        return self.value(left), self.value(right)

    def ticks(self, value: n.Value) -> Expr:
        """A DateTimeOffset as ticks, converting the fixed-width text used inside JSON."""
        expr = self.value(value)
        if not value.type.json:
            return expr
        days = self.text_date_part("date", expr)
        return days * sa.literal(TPD, sa.BigInteger) + self.text_date_part("time", expr)

    def datetime_side(self, value: n.Value, other_json: bool) -> Expr:
        if isinstance(value, n.Func) and value.name in ("now", "mindatetime", "maxdatetime"):
            ticks = self.constant_time(value.name)
            if other_json:
                return sa.literal(codec.format_datetime_fixed(ticks), sa.Text)
            return sa.literal(ticks, sa.BigInteger)
        return self.value(value)

    def enum_number(self, value: n.Value) -> Expr:
        expr = self.value(value)
        if not value.type.json:
            return expr
        if isinstance(value, n.Lit):
            return sa.literal(self.model.enums[value.type.kind].members[value.value], sa.BigInteger)
        members = self.model.enums[value.type.kind].members
        return sa.case(dict(members), value=expr)

    def isof(self, pred: n.IsOf) -> Expr:
        target = pred.value
        if isinstance(target, n.EntityType):
            table = self.tables[target.scope]
            set_name = self.scope_sets[target.scope]
            if TYPE not in table.c:
                declared = BY_NAME[set_name].type_name
                return sa.true() if declared in pred.types else sa.false()
            return table.c[TYPE].in_(list(pred.types))
        names = ["#" + name for name in pred.types]
        return self.json_text(self.document(target), [*self.json_steps(target), "@odata.type"]).in_(
            names
        )

    # ---- lambdas --------------------------------------------------------------------------------

    def lambda_(self, pred: n.LambdaPred, positive: bool) -> Expr:
        if isinstance(pred.source, n.NavCollection):
            return self.navigation_lambda(pred, pred.source, positive)
        document, steps = self.collection_document(pred.source)
        primitive = not pred.element.structured
        elements = self.each(document, steps, primitive, isinstance(pred.source, n.Prop))
        self.elements[pred.depth] = elements.c.value
        self.element_types[pred.depth] = pred.element
        try:
            if pred.body is None:
                condition: Expr = sa.true()
            elif pred.op == "any":
                condition = self.pred(pred.body, True)
            else:
                body = self.pred(pred.body, True)
                condition = sa.not_(sa.func.coalesce(body, sa.false()))
        finally:
            del self.elements[pred.depth]
            del self.element_types[pred.depth]
        if pred.types is not None:  # a type-cast segment: the other elements do not take part
            condition = sa.and_(self.element_is(elements.c.value, pred.types), condition)
        exists = sa.exists(sa.select(sa.literal(1)).select_from(elements).where(condition))
        if pred.op == "any":
            return exists if positive else sa.not_(exists)
        return sa.not_(exists) if positive else exists

    def navigation_lambda(
        self, pred: n.LambdaPred, source: n.NavCollection, positive: bool
    ) -> Expr:
        """any()/all() over related rows: EXISTS on the target table within the tenant."""
        target, link = self.related(source)
        if pred.body is None:
            condition: Expr = sa.true()
        elif pred.op == "any":
            condition = self.pred(pred.body, True)
        else:
            condition = sa.not_(sa.func.coalesce(self.pred(pred.body, True), sa.false()))
        exists = sa.exists(sa.select(sa.literal(1)).select_from(target).where(*link, condition))
        if pred.op == "any":
            return exists if positive else sa.not_(exists)
        return sa.not_(exists) if positive else exists

    def related(self, source: n.NavCollection) -> tuple[FromClause, list[Expr]]:
        """The target table of a collection navigation (aliased for its scope) and the
        conditions linking its rows to the outer row, within the tenant."""
        outer_set = BY_NAME[self.scope_sets[source.outer_scope]]
        navigation = outer_set.navigation(source.navigation)
        assert navigation is not None
        from alertgraph.store.database import TABLES

        target = TABLES[source.target].alias()
        self.tables[source.scope] = target
        outer = self.tables[source.outer_scope]
        return target, [
            target.c[TENANT] == outer.c[TENANT],
            target.c[navigation.remote] == outer.c[navigation.local],
        ]

    def count(self, value: n.Count) -> Expr:
        """``collection/$count`` as a scalar subquery: 0 for an absent collection."""
        source = value.source
        if isinstance(source, n.NavCollection):
            target, link = self.related(source)
            return sa.select(sa.func.count()).select_from(target).where(*link).scalar_subquery()
        document, steps = self.collection_document(source)
        elements = self.each(
            document, steps, not source.type.structured, isinstance(source, n.Prop)
        )
        counted = sa.select(sa.func.count()).select_from(elements)
        if value.types is not None:
            counted = counted.where(self.element_is(elements.c.value, value.types))
        return counted.scalar_subquery()

    def element_is(self, element: Any, types: Sequence[str]) -> Expr:
        """Whether a complex collection's element is one of ``types`` (by ``@odata.type``)."""
        return self.json_text(element, ["@odata.type"]).in_(["#" + name for name in types])

    def collection_document(self, source: n.Prop | n.JsonPath | n.Var) -> tuple[Expr, list[str]]:
        match source:
            case n.Prop():
                return self.tables[source.scope].c[source.column], []
            case n.Var():
                return self.elements[source.depth], []
            case n.JsonPath():
                return self.document(source), self.json_steps(source)
        assert_never(source)

    def each(self, document: Expr, steps: list[str], primitive: bool, column: bool) -> Any:
        """A table of the array's elements, empty when the value is missing or not an array.

        ``column``: the document is a collection property's own column, which every write fills
        with a serialized array, or with ``null`` (or NULL) for a missing collection. SQLite then
        tells an array by its first character: asking ``json_type`` would parse each row's JSON
        once more before ``json_each`` parses it (a quarter of an evidence hunt's time; SQLite
        before 3.45 keeps no parsed JSON between calls). PostgreSQL keeps ``jsonb_typeof``,
        which reads one byte of its binary JSON (and its element functions raise on a scalar).
        """
        if self.pg:
            array = sa.func.jsonb_extract_path(document, *steps) if steps else document
            guarded = sa.case((sa.func.jsonb_typeof(array) == "array", array))
            function = (
                sa.func.jsonb_array_elements_text if primitive else sa.func.jsonb_array_elements
            )
            return function(guarded).table_valued("value").alias()
        path = _sqlite_path(steps)
        array = sa.func.json_extract(document, path) if steps else document
        if column and not steps:
            guarded = sa.case((sa.func.substr(array, 1, 1) == "[", array))
        else:
            guarded = sa.case((sa.func.json_type(array) == "array", array))
        return sa.func.json_each(guarded).table_valued("value").alias()

    # ---- values ---------------------------------------------------------------------------------

    def value(self, value: n.Value) -> Expr:
        match value:
            case n.Lit():
                if value.value is None:
                    return sa.null()
                return self.param(value.value, value.type)
            case n.Prop():
                return self.tables[value.scope].c[value.column]
            case n.Guarded():
                table = self.tables[value.value.scope]
                inner = self.value(value.value)
                if TYPE not in table.c:
                    return inner
                return sa.case((table.c[TYPE].in_(list(value.types)), inner))
            case n.Var():
                element = self.elements[value.depth]
                return self.typed_json(element, value.type, raw=True)
            case n.JsonPath():
                return self.json_value(value)
            case n.NavValue():
                return self.navigation(value)
            case n.Func():
                return self.function(value)
            case n.Arith():
                return self.arithmetic(value)
            case n.Count():
                return self.count(value)
        assert_never(value)

    def param(self, raw: Any, vtype: n.VType) -> Expr:
        if isinstance(raw, bool):
            return sa.literal(raw, sa.Boolean)
        if isinstance(raw, int):
            return sa.literal(raw, sa.BigInteger)
        if isinstance(raw, Decimal):
            return sa.literal(raw, sa.Numeric) if self.pg else sa.literal(float(raw), sa.Float)
        if isinstance(raw, float):
            return sa.literal(raw, sa.Float)
        return sa.literal(str(raw), sa.Text)

    def document(self, path: n.JsonPath | n.Var) -> Expr:
        base = path.base if isinstance(path, n.JsonPath) else path
        if isinstance(base, n.Var):
            element: Expr = self.elements[base.depth]
            return element
        return self.tables[base.scope].c[base.column]

    def json_steps(self, path: n.JsonPath | n.Var) -> list[str]:
        if isinstance(path, n.Var):
            return []
        return [step.name for step in path.steps if isinstance(step, n.Member)]

    def json_value(self, path: n.JsonPath) -> Expr:
        document = self.document(path)
        members: list[str] = []
        guards: list[Expr] = []
        for step in path.steps:
            if isinstance(step, n.TypeGuard):
                guards.append(
                    self.json_text(document, [*members, "@odata.type"]).in_(list(step.types))
                )
            else:
                members.append(step.name)
        value = self.typed_json(document, path.type, steps=members)
        if guards:
            return sa.case((sa.and_(*guards), value))
        return value

    def json_text(self, document: Expr, steps: list[str]) -> Expr:
        if self.pg:
            return sa.func.jsonb_extract_path_text(document, *steps).collate("C")
        return sa.func.json_extract(document, _sqlite_path(steps))

    def typed_json(
        self, document: Expr, vtype: n.VType, *, steps: Sequence[str] = (), raw: bool = False
    ) -> Expr:
        """A scalar inside JSON as an SQL value of its type (``raw``: the element of an array)."""
        if not self.pg:
            if raw:
                return document
            if vtype.structured or vtype.collection:
                return sa.func.json_extract(document, _sqlite_path(list(steps)))
            return sa.func.json_extract(document, _sqlite_path(list(steps)))
        if vtype.structured or vtype.collection:
            return sa.func.jsonb_extract_path(document, *steps) if steps else document
        if raw:
            text: Expr = document  # jsonb_array_elements_text already gave text
            if vtype.structured:  # pragma: no cover - structured elements are not compared
                return document
        else:
            text = sa.func.jsonb_extract_path_text(document, *steps)
        if vtype.kind in (n.INT,):
            return sa.cast(sa.cast(text, sa.Numeric), sa.BigInteger)
        if vtype.kind == n.DOUBLE or vtype.kind == n.DECIMAL:
            return sa.cast(text, sa.Float(53))
        if vtype.kind == n.BOOLEAN:
            return sa.cast(text, sa.Boolean)
        return text.collate("C")

    def navigation(self, value: n.NavValue) -> Expr:
        outer_set = BY_NAME[self.scope_sets[value.scope]]
        navigation = outer_set.navigation(value.navigation)
        assert navigation is not None
        from alertgraph.store.database import TABLES

        target = TABLES[value.target].alias()
        inner_scope = self._scope_of(value.value)
        self.tables[inner_scope] = target
        outer = self.tables[value.scope]
        inner = self.value(value.value)
        return (
            sa.select(inner)
            .where(
                target.c[TENANT] == outer.c[TENANT],
                target.c[navigation.remote] == outer.c[navigation.local],
            )
            .limit(1)
            .scalar_subquery()
        )

    def _scope_of(self, value: n.Value) -> int:
        match value:
            case n.Prop():
                return value.scope
            case n.JsonPath():
                base = value.base
                assert isinstance(base, n.Prop)
                return base.scope
            case _:  # pragma: no cover - bind only builds props and paths below navigations
                raise AssertionError(value)

    def arithmetic(self, value: n.Arith) -> Expr:
        left = self.value(value.left)
        if value.op == "neg":
            return -left
        assert value.right is not None
        right = self.value(value.right)
        if value.type.kind == n.DATE:
            # day numbers: midnight plus the duration, back to its day (non-negative, so the
            # truncating division floors)
            day = sa.literal(TPD, sa.BigInteger)
            moved = left * day + right if value.op == "add" else left * day - right
            return _idiv(moved, TPD)
        if value.left.type.kind == n.DATE and value.right.type.kind == n.DATE:
            return (left - right) * sa.literal(TPD, sa.BigInteger)
        match value.op:
            case "add" | "sub" | "mul":
                combined: Expr = getattr(operator, value.op)(left, right)  # add, sub, mul
                return (
                    self.checked("odata_int64", combined) if value.type.kind == n.INT else combined
                )
            case "mod":
                # the remainder has the sign of the left operand; a zero divisor fails (5.1.1.2.6)
                divisor = self.checked("odata_nonzero", right)
                if value.type.kind == n.INT:
                    return left.op("%", precedence=_MUL)(divisor)
                if self.pg:
                    return sa.func.mod(sa.cast(left, sa.Numeric), sa.cast(divisor, sa.Numeric))
                # SQLite's % truncates its operands to integers: compute x - y * trunc(x / y)
                return left - divisor * sa.cast(left / divisor, sa.BigInteger)
            case "div" if value.type.kind in (n.INT, n.DECIMAL):
                # integer (truncating) and decimal division: a zero divisor fails (5.1.1.2.5)
                divisor = self.checked("odata_nonzero", right)
                if value.type.kind == n.INT:
                    return sa.cast(left.op("/", precedence=_MUL)(divisor), sa.BigInteger)
                return left / divisor
            case "div" | "divby":
                # floating division: x / 0 is INF or -INF, and 0 / 0 is NaN, kept as null
                quotient = sa.cast(left, sa.Float(53)) / sa.cast(right, sa.Float(53))
                infinity = sa.literal(math.inf, sa.Float(53))
                return sa.case(
                    (right == 0, sa.case((left > 0, infinity), (left < 0, -infinity))),
                    else_=quotient,
                )
        raise AssertionError(value.op)  # pragma: no cover

    def checked(self, function: str, value: Expr) -> Expr:
        """``value``, failing the statement where PostgreSQL would fail it and SQLite would answer
        (odata_nonzero: a zero divisor, null on SQLite; odata_int64: Int64 arithmetic that
        overflowed into a float; odata_in_int64: a cast beyond Int64, clamped by SQLite)."""
        if self.pg:
            return value
        self.sqlite_functions.add(function)
        checking: Expr = getattr(sa.func, function)(value, type_=value.type)
        return checking

    def constant_time(self, name: str) -> int:
        if name == "now":
            self.used_now = True
        return {"now": self.now, "mindatetime": codec.MIN_TICKS, "maxdatetime": codec.MAX_TICKS}[
            name
        ]

    def function(self, value: n.Func) -> Expr:
        name = value.name
        if name in ("now", "mindatetime", "maxdatetime"):
            return sa.literal(self.constant_time(name), sa.BigInteger)
        args = [self.value(arg) for arg in value.args]
        pg = self.pg
        match name:
            case "contains":
                position = sa.func.strpos(*args) if pg else sa.func.instr(*args)
                return position > 0
            case "startswith":
                return sa.func.substr(args[0], 1, sa.func.length(args[1])) == args[1]
            case "endswith":
                a, b = args
                return sa.and_(
                    sa.func.length(a) >= sa.func.length(b),
                    sa.func.substr(a, sa.func.length(a) - sa.func.length(b) + 1) == b,
                )
            case "length":
                return sa.func.length(args[0])
            case "length_collection":
                if pg:
                    array = sa.case((sa.func.jsonb_typeof(args[0]) == "array", args[0]))
                    return sa.func.jsonb_array_length(array)
                return sa.func.json_array_length(args[0])
            case "indexof":
                position = sa.func.strpos(*args) if pg else sa.func.instr(*args)
                return position - 1
            case "substring":
                start = sa.cast(self.greatest(args[1], 0) + 1, sa.Integer)
                if len(args) == 3:
                    length = sa.cast(self.greatest(args[2], 0), sa.Integer)
                    return sa.func.substr(args[0], start, length)
                return sa.func.substr(args[0], start)
            case "tolower" | "toupper":
                return self.case_map(args[0], upper=name == "toupper")
            case "trim":
                # Unicode whitespace (5.1.1.7.4), not only the space both engines trim by default
                spaces = sa.literal(_WHITESPACE, sa.Text)
                return sa.func.btrim(args[0], spaces) if pg else sa.func.trim(args[0], spaces)
            case "concat":
                return self.c_text(args[0]).concat(args[1])
            case "matchesPattern":
                if pg:
                    return args[0].op("~", is_comparison=True)(args[1])
                self.sqlite_functions.add("odata_regexp")
                return sa.func.odata_regexp(args[1], args[0])
            case "cast_string":
                return sa.cast(args[0], sa.Text)
            case "cast_bool_string":
                return sa.case((args[0].is_(sa.true()), "true"), (args[0].is_(sa.false()), "false"))
            case "cast_enum_string":
                source = value.args[0].type
                if source.json:  # member names are stored inside JSON
                    return args[0]
                members = self.model.enums[source.kind].members
                return sa.case({number: name for name, number in members.items()}, value=args[0])
            case "cast_int64":
                return sa.cast(self.checked("odata_in_int64", args[0]), sa.BigInteger)
            case "cast_double" | "cast_decimal":
                return sa.cast(args[0], sa.Float(53))
            case "round" | "floor" | "ceiling":
                return self.rounding(name, args[0], value.args[0].type)
            case "totaloffsetminutes":
                # values are stored in UTC: the offset of every instant is 0
                return sa.case((args[0].is_(None), sa.null()), else_=sa.literal(0, sa.BigInteger))
        return self.date_part(name, args[0], value.args[0].type)

    def case_map(self, arg: Expr, *, upper: bool) -> Expr:
        """Unicode simple case mapping, the same table on both engines (see casemap.py)."""
        if self.pg:
            sources, targets = casemap.table(upper)
            return sa.func.translate(
                self.c_text(arg), sa.literal(sources, sa.Text), sa.literal(targets, sa.Text)
            )
        self.sqlite_functions.add("odata_upper" if upper else "odata_lower")
        return sa.func.odata_upper(arg) if upper else sa.func.odata_lower(arg)

    def c_text(self, expr: Expr) -> Expr:
        return expr.collate("C") if self.pg else expr

    def greatest(self, expr: Expr, floor: int) -> Expr:
        """A substring bound in floor..2^31-2 (PostgreSQL's int4 substr would overflow)."""
        low, high = sa.literal(floor, sa.BigInteger), sa.literal(2**31 - 2, sa.BigInteger)
        if self.pg:
            return sa.func.greatest(sa.func.least(expr, high), low)
        return sa.func.max(sa.func.min(expr, high), low)

    def rounding(self, name: str, arg: Expr, vtype: n.VType) -> Expr:
        if vtype.kind == n.INT:
            return arg
        if self.pg:
            numeric = sa.cast(arg, sa.Numeric)
            function = {"round": sa.func.round, "floor": sa.func.floor, "ceiling": sa.func.ceil}[
                name
            ]
            return sa.cast(function(numeric), sa.Float(53))
        if name == "round":
            return sa.func.round(arg)
        whole = sa.cast(arg, sa.BigInteger)
        if name == "floor":
            return sa.case((arg < whole, whole - 1), else_=whole)
        return sa.case((arg > whole, whole + 1), else_=whole)

    def date_part(self, name: str, arg: Expr, vtype: n.VType) -> Expr:
        """Date and time parts by integer arithmetic on ticks (day numbers for Date, ticks of day
        for TimeOfDay, fixed-width text inside JSON), identical on both engines."""
        if vtype.json:
            return self.text_date_part(name, arg)
        if vtype.kind == n.DATE:
            days: Expr = arg
            of_day: Expr | None = None
        elif vtype.kind == n.TIME:
            days = sa.null()
            of_day = arg
        else:
            days = _idiv(arg, TPD)
            of_day = arg.op("%", precedence=_MUL)(sa.literal(TPD, sa.BigInteger))
        match name:
            case "year" | "month" | "day":
                return _civil(days)[name]
            case "date":
                return days
            case "time":
                assert of_day is not None
                return of_day
            case "hour":
                assert of_day is not None
                return _idiv(of_day, 3600 * TPS)
            case "minute":
                assert of_day is not None
                return _idiv(
                    of_day.op("%", precedence=_MUL)(sa.literal(3600 * TPS, sa.BigInteger)), 60 * TPS
                )
            case "second":
                assert of_day is not None
                return _idiv(
                    of_day.op("%", precedence=_MUL)(sa.literal(60 * TPS, sa.BigInteger)), TPS
                )
            case "fractionalseconds":
                assert of_day is not None
                fraction = of_day.op("%", precedence=_MUL)(sa.literal(TPS, sa.BigInteger))
                return sa.cast(fraction, sa.Float(53)) / sa.literal(float(TPS), sa.Float(53))
        raise AssertionError(name)  # pragma: no cover

    def text_date_part(self, name: str, text: Expr) -> Expr:
        """Parts of a fixed-width ``YYYY-MM-DDTHH:MM:SS.fffffffZ`` text."""

        def number(start: int, length: int) -> Expr:
            return sa.cast(sa.func.substr(text, start, length), sa.BigInteger)

        match name:
            case "year":
                return number(1, 4)
            case "month":
                return number(6, 2)
            case "day":
                return number(9, 2)
            case "hour":
                return number(12, 2)
            case "minute":
                return number(15, 2)
            case "second":
                return number(18, 2)
            case "fractionalseconds":
                return sa.cast(number(21, 7), sa.Float(53)) / sa.literal(float(TPS), sa.Float(53))
            case "date":
                return _days_from_civil(number(1, 4), number(6, 2), number(9, 2))
            case "time":
                return (number(12, 2) * 3600 + number(15, 2) * 60 + number(18, 2)) * sa.literal(
                    TPS, sa.BigInteger
                ) + number(21, 7)
        raise AssertionError(name)  # pragma: no cover

    # ---- ordering -------------------------------------------------------------------------------

    def order_value(self, value: n.Value) -> Expr:
        """An $orderby key: enums inside JSON order by member value, like enum columns."""
        if value.type.enum and value.type.json:
            return self.enum_number(value)
        return self.value(value)


def _flatten(pred: n.Logic) -> list[n.Pred]:
    """Operands of a run of the same and/or, iteratively (deep chains stay off the stack)."""
    result: list[n.Pred] = []
    stack: list[n.Pred] = [pred]
    while stack:
        node = stack.pop()
        if isinstance(node, n.Logic) and node.op == pred.op:
            stack.append(node.right)
            stack.append(node.left)
        else:
            result.append(node)
    return result


#: the Unicode White_Space characters trim() removes
_WHITESPACE = (
    "\t\n\x0b\x0c\r \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007"
    "\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000"
)


def _is_nan(value: n.Value) -> bool:
    return isinstance(value, n.Lit) and isinstance(value.value, float) and math.isnan(value.value)


def _nullable(value: n.Value) -> bool:
    if isinstance(value, n.Lit):
        return value.value is None
    if isinstance(value, n.Func) and value.name in ("now", "mindatetime", "maxdatetime"):
        return False
    if isinstance(value, n.Count):
        return False
    return value.type.nullable or not isinstance(value, n.Prop)


def _sqlite_path(steps: Sequence[str]) -> str:
    return "$" + "".join('."' + step.replace('"', '""') + '"' for step in steps)


def _idiv(expr: Expr, divisor: int) -> Expr:
    """Integer division of a non-negative value (both engines truncate integer division)."""
    return sa.cast(expr.op("/", precedence=_MUL)(sa.literal(divisor, sa.BigInteger)), sa.BigInteger)


def _civil(days: Expr) -> dict[str, Expr]:
    """Year, month and day of a day number (days since 0001-01-01), after H. Hinnant's
    civil_from_days, in integer arithmetic valid for the non-negative day numbers used here."""
    z = days + 306  # days since 0000-03-01
    era = _idiv(z, 146097)
    doe = z - era * 146097
    yoe = _idiv(doe - _idiv(doe, 1460) + _idiv(doe, 36524) - _idiv(doe, 146096), 365)
    doy = doe - (yoe * 365 + _idiv(yoe, 4) - _idiv(yoe, 100))
    mp = _idiv(doy * 5 + 2, 153)
    day = doy - _idiv(mp * 153 + 2, 5) + 1
    month = sa.case((mp < 10, mp + 3), else_=mp - 9)
    year = yoe + era * 400 + sa.case((mp >= 10, 1), else_=0)
    return {"year": year, "month": month, "day": day}


def _days_from_civil(year: Expr, month: Expr, day: Expr) -> Expr:
    """Day number (days since 0001-01-01) of a civil date (H. Hinnant's days_from_civil)."""
    y = year - sa.case((month <= 2, 1), else_=0)
    era = _idiv(y, 400)
    yoe = y - era * 400
    mp = sa.case((month > 2, month - 3), else_=month + 9)
    doy = _idiv(mp * 153 + 2, 5) + day - 1
    doe = yoe * 365 + _idiv(yoe, 4) - _idiv(yoe, 100) + doy
    return era * 146097 + doe - 306
