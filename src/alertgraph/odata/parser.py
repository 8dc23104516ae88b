"""Parse OData query option text into syntax trees (names still unresolved strings).

First stage of the read pipeline; bind.py resolves the trees against the EDM. Every syntax error is
an ODataError carrying the option name and a 0-based character position in the option's value.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from typing import Any, assert_never
from typing import Literal as TypingLiteral

from alertgraph.errors import ODataError
from alertgraph.odata.lexer import TYPED_RE, Token, tokenize
from alertgraph.odata.limits import QueryLimits as Limits
from alertgraph.odata.projection import ExpandItem as ExpandItem
from alertgraph.odata.projection import SelectItem as SelectItem
from alertgraph.odata.projection import parse_expand as parse_expand
from alertgraph.odata.projection import parse_select as parse_select
from alertgraph.odata.projection import split_top_level as split_top_level

# ---- syntax nodes -------------------------------------------------------------------------------
# Built anew for every request that is not cached and never changed once built; not frozen because
# a frozen dataclass sets each field through object.__setattr__, three times slower to construct
# (they still compare and hash by value).

LiteralKind = TypingLiteral[
    "null",
    "bool",
    "int",
    "decimal",
    "double",
    "string",
    "datetime",
    "date",
    "time",
    "duration",
    "guid",
    "enum",
    "binary",
]


@dataclass(slots=True, unsafe_hash=True)
class Literal:
    kind: LiteralKind
    text: str  # the value's source text without quotes (strings: unescaped value)
    pos: int
    type_name: str | None = None  # enum literals: the qualified enum type


@dataclass(slots=True, unsafe_hash=True)
class Path:
    """``a/b/microsoft.graph.x/c``: member names and type-cast segments; ``$it`` or a lambda
    variable may lead."""

    segments: tuple[str, ...]
    pos: int


@dataclass(slots=True, unsafe_hash=True)
class Lambda:
    source: Path
    op: str  # "any" | "all"
    variable: str | None  # None for the argument-less any()
    body: Expr | None
    pos: int


@dataclass(slots=True, unsafe_hash=True)
class Binary:
    op: str  # eq ne gt ge lt le and or has add sub mul div divby mod
    left: Expr
    right: Expr
    pos: int


@dataclass(slots=True, unsafe_hash=True)
class Unary:
    op: str  # "not" | "-"
    operand: Expr
    pos: int


@dataclass(slots=True, unsafe_hash=True)
class In:
    left: Expr
    items: tuple[Expr, ...]
    pos: int
    source: Path | None = None  # ``x in tags``: a collection-valued path instead of a list
    array: bool = False  # the list was a JSON array (``x in ["a","b"]``): strings may be dates


@dataclass(slots=True, unsafe_hash=True)
class Call:
    name: str
    args: tuple[Expr, ...]
    pos: int


Expr = Literal | Path | Lambda | Binary | Unary | In | Call


@dataclass(slots=True, unsafe_hash=True)
class OrderItem:
    expr: Expr
    descending: bool


COMPARISONS = ("eq", "ne", "gt", "ge", "lt", "le")
ARITHMETIC = ("add", "sub", "mul", "div", "divby", "mod")
#: binding power of binary operators (OData part 2, 5.1.1.1 operator precedence)
PRECEDENCE = {
    "or": 1,
    "and": 2,
    "eq": 3,
    "ne": 3,
    "gt": 4,
    "ge": 4,
    "lt": 4,
    "le": 4,
    "has": 5,
    "in": 5,
    "add": 6,
    "sub": 6,
    "mul": 7,
    "div": 7,
    "divby": 7,
    "mod": 7,
}

# ---- parser -------------------------------------------------------------------------------------


_FUNCTIONS_WITH_TYPE_ARG = frozenset({"isof", "cast"})
#: lower-cased names that may be literals (INF and NaN only as written)
_NAME_LITERALS = frozenset({"true", "false", "null", "inf", "nan"})
_DURATION_RE = re.compile(r"-?P(?:\d+D)?(?:T(?:\d+H)?(?:\d+M)?(?:\d+(?:\.\d+)?S)?)?$")


class Parser:
    """Recursive descent with precedence climbing: about three frames per nesting level, and a
    depth limit far below Python's recursion limit, so hostile nesting is a 400, not a crash."""

    def __init__(
        self,
        text: str,
        option: str,
        limits: Limits,
        aliases: Mapping[str, str] | None = None,
        active: tuple[str, ...] = (),
    ) -> None:
        self.text = text
        self.option = option
        self.limits = limits
        self.aliases = aliases or {}
        self.active = active  # aliases being expanded (a cycle is an error)
        if len(text) > limits.max_literal_length + 1000:
            raise ODataError(
                f"the value is {len(text)} characters long; the limit is "
                f"{limits.max_literal_length + 1000}",
                option=option,
                position=0,
            )
        self.tokens = tokenize(text, option)
        self.ntokens = len(self.tokens)
        self.index = 0
        self.depth = 0
        self.nodes = 0
        self.variables: list[str] = []
        # tree height per node id; a run of the same and/or is one level (bind and sql flatten it)
        self.heights: dict[int, int] = {}

    # -- token helpers

    def error(self, message: str, pos: int | None = None) -> ODataError:
        return ODataError(message, option=self.option, position=self.pos if pos is None else pos)

    @property
    def pos(self) -> int:
        if self.index < self.ntokens:
            return self.tokens[self.index].pos
        return len(self.text)

    def peek(self, offset: int = 0) -> Token | None:
        index = self.index + offset
        return self.tokens[index] if index < self.ntokens else None

    # the helpers below read the token list directly: they run dozens of times per expression

    def next(self) -> Token:
        index = self.index
        if index >= self.ntokens:
            raise self.error("unexpected end of the expression")
        self.index = index + 1
        return self.tokens[index]

    def at_punct(self, char: str) -> bool:
        index = self.index
        if index < self.ntokens:
            token = self.tokens[index]
            return token.kind == "punct" and token.text == char
        return False

    def expect_punct(self, char: str, what: str) -> Token:
        token = self.peek()
        if token is None or token.kind != "punct" or token.text != char:
            found = "the end of the expression" if token is None else f"'{token.text}'"
            raise self.error(f"expected '{char}' {what}, found {found}")
        self.index += 1
        return token

    def keyword(self, offset: int = 0) -> str | None:
        index = self.index + offset
        if index < self.ntokens:
            token = self.tokens[index]
            if token.kind == "name":
                return token.text.lower()
        return None

    def count(self, pos: int) -> None:
        self.nodes += 1
        if self.nodes > self.limits.max_nodes:
            raise self.too_many_nodes(pos)

    def too_many_nodes(self, pos: int) -> ODataError:
        return self.error(
            f"the expression has more than {self.limits.max_nodes} nodes; simplify it", pos
        )

    def enter(self, pos: int) -> None:
        self.depth += 1
        if self.depth > self.limits.max_depth:
            raise self.error(
                f"the expression nests deeper than {self.limits.max_depth} levels", pos
            )

    def height(self, node: Expr) -> int:
        return self.heights.get(id(node), 1)

    def set_height(self, node: Expr, height: int, pos: int) -> None:
        if height > self.limits.max_depth:
            raise self.error(
                f"the expression nests deeper than {self.limits.max_depth} levels", pos
            )
        self.heights[id(node)] = height

    def tall(self, node: Expr, *children: Expr) -> Expr:
        """Record ``node``'s height from its children's."""
        if len(children) == 1:  # not, -, a lambda: no generator for the one child
            height = 1 + self.heights.get(id(children[0]), 1)
        else:
            height = 1 + max((self.height(child) for child in children), default=0)
        self.set_height(node, height, getattr(node, "pos", 0))
        return node

    def done(self) -> None:
        token = self.peek()
        if token is not None:
            raise self.error(f"unexpected '{token.text}' after a complete expression")

    # -- expressions

    def expression(self, min_power: int = 1) -> Expr:
        left = self.unary()
        tokens = self.tokens
        while True:
            # keyword(), next() and count() inlined: this loop runs once per operator and operand
            index = self.index
            if index >= self.ntokens:
                return left
            token = tokens[index]
            if token.kind != "name":
                return left
            op = token.text.lower()
            power = PRECEDENCE.get(op)
            if power is None or power < min_power:
                return left
            self.index = index + 1
            self.nodes += 1
            if self.nodes > self.limits.max_nodes:
                raise self.too_many_nodes(token.pos)
            if op == "in":
                following = self.peek()
                if following is not None and following.kind == "alias":
                    self.next()
                    alias = self.alias_parser(following)
                    if alias.at_punct("(") or alias.at_punct("["):
                        left = self.in_items(left, token.pos, alias)
                        alias.done()
                        continue
                    self.index -= 1  # an alias of a collection path: read it as a value
                if not (self.at_punct("(") or self.at_punct("[")):
                    source = self.unary()
                    if not isinstance(source, Path):
                        raise self.error(
                            "expected '(' to open the list after 'in', like x in ('a', 'b'), or a "
                            "collection property, like 'a' in tags",
                            _position(source),
                        )
                    left = self.tall(In(left, (), token.pos, source), left)
                    continue
                left = self.in_items(left, token.pos, self)
                continue
            # comparisons are not associative in OData; everything else is left-associative
            right = self.expression(power + 1)
            heights = self.heights
            left_height = heights.get(id(left), 1)
            if not (op in ("and", "or") and isinstance(left, Binary) and left.op == op):
                left_height += 1
            right_height = heights.get(id(right), 1) + 1
            left = Binary(op, left, right, token.pos)
            # set_height() inlined
            height = left_height if left_height > right_height else right_height
            if height > self.limits.max_depth:
                self.set_height(left, height, token.pos)  # raises
            heights[id(left)] = height

    def in_items(self, left: Expr, pos: int, source: Parser) -> Expr:
        """The list after ``in``, read by ``source`` (this parser, or an alias's)."""
        array = source.at_punct("[")
        items = source.in_list("]" if array else ")")
        if source is not self:
            items = tuple(self.relocate(item, pos) for item in items)
        node: Expr = In(left, items, pos, array=array)
        self.set_height(node, 1 + max(map(self.height, (left, *items))), pos)
        return node

    def in_list(self, close: str = ")") -> tuple[Expr, ...]:
        """``('a', 'b')``, or the JSON array ``["a", "b"]`` (4.01; single-quoted OData strings
        may be mixed in, as 5.1.1.14.2 shows); items are literals."""
        start = self.expect_punct("(" if close == ")" else "[", "to open the list after 'in'")
        self.enter(start.pos)
        items: list[Expr] = []
        if self.at_punct(close):
            self.next()  # OData 4.01 allows an empty list: nothing is in it
            self.depth -= 1
            return ()
        while True:
            token = self.peek()
            if close == "]" and token is not None and token.kind == "jstring":
                self.next()
                self.count(token.pos)
                item: Expr = self.json_string(token)
            else:
                item = self.unary()
            # the list holds literals (OData 4.01 listExpr: primitive literals only)
            if not (
                isinstance(item, Literal)
                or (isinstance(item, Unary) and isinstance(item.operand, Literal))
            ):
                raise self.error(
                    "the list after 'in' may hold only literal values, like ('a', 'b')",
                    _position(item),
                )
            items.append(item)
            if self.at_punct(","):
                self.next()
                continue
            self.expect_punct(close, "to close the list after 'in'")
            break
        self.depth -= 1
        return tuple(items)

    def unary(self) -> Expr:
        if self.index >= self.ntokens:
            raise self.error("expected an expression, found the end of the text")
        token = self.tokens[self.index]
        kind = token.kind
        if kind == "string" or kind == "name":  # primary() inlined for the commonest operands
            lowered = token.text.lower() if kind == "name" else ""
            if lowered != "not":
                self.index += 1
                self.nodes += 1
                if self.nodes > self.limits.max_nodes:
                    raise self.too_many_nodes(token.pos)
                if kind == "string":
                    value = token.text[1:-1].replace("''", "'")
                    if len(value) > self.limits.max_literal_length:
                        self.check_length(value, token.pos)  # raises
                    return Literal("string", value, token.pos)
                return self.name(token, lowered)
            following = self.peek(1)
            # 'not' followed by an operator keyword is a property called "not"; rare, but legal
            if following is not None and not (
                following.kind == "name" and following.text.lower() in PRECEDENCE
            ):
                self.next()
                self.count(token.pos)
                self.enter(token.pos)
                # 'not' is unary and binds tighter than every binary operator (5.1.1.17):
                # "not a eq b" is "(not a) eq b"; negate a comparison with "not (a eq b)"
                operand = self.unary()
                self.depth -= 1
                return self.tall(Unary("not", operand, token.pos), operand)
        if kind == "punct" and token.text == "-":
            self.next()
            self.count(token.pos)
            following = self.peek()
            if (
                following is not None
                and following.kind == "number"
                and following.pos == token.pos + 1
            ):
                self.next()
                return self.number(following, negative=True)
            if following is not None and following.kind == "name" and following.text == "INF":
                self.next()
                return Literal("double", "-INF", token.pos)
            self.enter(token.pos)
            operand = self.unary()
            self.depth -= 1
            return self.tall(Unary("-", operand, token.pos), operand)
        return self.primary()

    def primary(self) -> Expr:
        token = self.next()
        self.count(token.pos)
        match token.kind:
            # the commonest kinds first (the cases are tried in order)
            case "name":
                return self.name(token, token.text.lower())
            case "string":
                return self.string(token)
            case "punct":
                if token.text == "[":
                    raise self.error(
                        "a JSON array is allowed only as the list after 'in', like "
                        'severity in ["high","medium"]',
                        token.pos,
                    )
                if token.text == "(":
                    self.enter(token.pos)
                    inner = self.expression()
                    self.expect_punct(")", f"to close the parenthesis opened at {token.pos}")
                    self.depth -= 1
                    return inner
                raise self.error(f"expected an expression, found '{token.text}'", token.pos)
            case "number":
                return self.number(token)
            case "datetime":
                return Literal("datetime", token.text, token.pos)
            case "date":
                return Literal("date", token.text, token.pos)
            case "time":
                return Literal("time", token.text, token.pos)
            case "guid":
                return Literal("guid", token.text, token.pos)
            case "typed":
                return self.typed(token)
            case "alias":
                alias = self.alias_parser(token)
                expr = alias.expression()
                alias.done()
                return self.relocate(expr, token.pos)
            case "jstring":
                raise self.error(
                    "a double-quoted JSON string is allowed only inside a JSON array, like "
                    'x in ["a","b"]; OData string literals use single quotes, like \'a\'',
                    token.pos,
                )
        raise self.error(f"unexpected '{token.text}'", token.pos)  # pragma: no cover

    def json_string(self, token: Token) -> Literal:
        try:
            value = json.loads(token.text)
        except ValueError:
            raise self.error("invalid escape in a JSON string", token.pos) from None
        self.check_length(value, token.pos)
        return Literal("string", value, token.pos)

    def alias_parser(self, token: Token) -> Parser:
        """A parser over the value of the parameter alias ``token`` names (5.1.1.13)."""
        name = token.text
        if name not in self.aliases:
            raise self.error(
                f"the parameter alias '{name}' has no value; give it one in the query string, "
                f"like &{name}='value'",
                token.pos,
            )
        if name in self.active:
            raise self.error(f"the parameter alias '{name}' refers to itself", token.pos)
        parser = Parser(self.aliases[name], name, self.limits, self.aliases, (*self.active, name))
        if not parser.tokens:
            raise ODataError("the value is empty; give an expression", option=name, position=0)
        return parser

    def relocate(self, expr: Expr, pos: int) -> Expr:
        """An alias's tree placed where the alias stands: every node at ``pos`` (binding errors
        point at the alias), with its height recorded against the depth limit."""
        changes: dict[str, Any] = {"pos": pos}
        children: list[Expr] = []
        for spec in fields(expr):
            value = getattr(expr, spec.name)
            if isinstance(value, Literal | Path | Lambda | Binary | Unary | In | Call):
                changes[spec.name] = moved = self.relocate(value, pos)
                children.append(moved)
            elif isinstance(value, tuple) and value and not isinstance(value[0], str):
                items = tuple(self.relocate(item, pos) for item in value)
                changes[spec.name] = items
                children.extend(items)
        self.count(pos)  # the alias's nodes count toward this expression's limit
        return self.tall(replace(expr, **changes), *children)

    def string(self, token: Token) -> Literal:
        value = token.text[1:-1].replace("''", "'")
        self.check_length(value, token.pos)
        return Literal("string", value, token.pos)

    def check_length(self, value: str, pos: int) -> None:
        if len(value) > self.limits.max_literal_length:
            raise self.error(
                f"a literal of {len(value)} characters exceeds the limit of "
                f"{self.limits.max_literal_length}",
                pos,
            )

    def number(self, token: Token, *, negative: bool = False) -> Literal:
        text = ("-" if negative else "") + token.text.lstrip("+")
        pos = token.pos - (1 if negative else 0)
        self.check_length(text, pos)
        if "e" in text.lower():
            return Literal("double", text, pos)
        if "." in text:
            return Literal("decimal", text, pos)
        return Literal("int", text, pos)

    def typed(self, token: Token) -> Literal:
        match = TYPED_RE.match(token.text)
        assert match is not None
        prefix, raw = match.group(1), match.group(2)
        value = raw.replace("''", "'")
        self.check_length(value, token.pos)
        lowered = prefix.lower()
        if lowered == "duration":
            if not _DURATION_RE.match(value) or value in ("P", "-P") or value.endswith("T"):
                raise self.error(
                    f"'{value}' is not an ISO 8601 duration like P1D or PT1H30M", token.pos
                )
            return Literal("duration", value, token.pos)
        if lowered == "binary":
            return Literal("binary", value, token.pos)
        if "." not in prefix:
            raise self.error(
                f"unknown literal prefix '{prefix}'; a typed literal is duration'...', "
                "binary'...' or an enum member like microsoft.graph.security.alertStatus'new'",
                token.pos,
            )
        return Literal("enum", value, token.pos, type_name=prefix)

    def name(self, token: Token, lowered: str) -> Expr:
        """A name token (read; ``lowered`` is its text in lower case): a keyword literal, a
        function call or a path."""
        if lowered in _NAME_LITERALS:
            if lowered in ("true", "false"):
                return Literal("bool", lowered, token.pos)
            if lowered == "null":
                return Literal("null", "null", token.pos)
            if token.text in ("INF", "NaN"):
                return Literal("double", token.text, token.pos)
        index = self.index
        if index >= self.ntokens:
            return Path((token.text,), token.pos)
        following = self.tokens[index]
        if following.kind != "punct":
            return Path((token.text,), token.pos)  # the commonest: a property before an operator
        if following.text == "(":
            if lowered in ("any", "all"):
                raise self.error(
                    f"{lowered}() must follow a collection, like tags/{lowered}(t: t eq 'x')",
                    token.pos,
                )
            return self.call(token)
        return self.path(token)

    def call(self, token: Token) -> Expr:
        open_paren = self.next()
        self.enter(open_paren.pos)
        args: list[Expr] = []
        if not self.at_punct(")"):
            while True:
                args.append(self.expression())
                if self.at_punct(","):
                    self.next()
                    continue
                break
        self.expect_punct(")", f"to close the arguments of {token.text}()")
        self.depth -= 1
        return self.tall(Call(token.text, tuple(args), token.pos), *args)

    def path(self, first: Token) -> Expr:
        segments = [first.text]
        while self.at_punct("/"):
            slash = self.next()
            segment = self.peek()
            # no spaces inside a path: "a/ eq 1" is a missing name, not a property called "eq"
            if segment is None or segment.kind != "name" or segment.pos != slash.pos + 1:
                raise self.error("expected a property name after '/'", slash.pos + 1)
            self.next()
            lowered = segment.text.lower()
            if lowered in ("any", "all") and self.at_punct("("):
                return self.lambda_(Path(tuple(segments), first.pos), lowered, segment)
            segments.append(segment.text)
        return Path(tuple(segments), first.pos)

    def lambda_(self, source: Path, op: str, token: Token) -> Expr:
        open_paren = self.next()
        self.enter(open_paren.pos)
        if self.at_punct(")"):
            self.next()
            self.depth -= 1
            if op == "all":
                raise self.error("all() needs a lambda expression like all(x: x eq 'a')", token.pos)
            return Lambda(source, op, None, None, token.pos)
        variable = self.peek()
        if variable is None or variable.kind != "name" or "." in variable.text:
            raise self.error(f"expected a lambda variable name after '{op}('")
        self.next()
        self.expect_punct(":", f"after the lambda variable '{variable.text}'")
        if variable.text in self.variables or variable.text == "$it":
            raise self.error(
                f"the lambda variable '{variable.text}' is already in use; pick another name",
                variable.pos,
            )
        self.variables.append(variable.text)
        body = self.expression()
        self.variables.pop()
        self.expect_punct(")", f"to close {op}(")
        self.depth -= 1
        return self.tall(Lambda(source, op, variable.text, body, token.pos), body)


def _position(expr: Expr) -> int:
    return expr.pos


def parse_expression(
    text: str,
    option: str = "$filter",
    limits: Limits | None = None,
    aliases: Mapping[str, str] | None = None,
) -> Expr:
    """Parse a boolean or value expression (``$filter``, items of ``$orderby``); ``aliases``
    maps parameter alias names (``@who``) to their values' text."""
    parser = Parser(text, option, limits or Limits(), aliases)
    if not parser.tokens:
        raise ODataError("the expression is empty", option=option, position=0)
    expr = parser.expression()
    parser.done()
    return expr


def parse_orderby(
    text: str, limits: Limits | None = None, aliases: Mapping[str, str] | None = None
) -> tuple[OrderItem, ...]:
    parser = Parser(text, "$orderby", limits or Limits(), aliases)
    if not parser.tokens:
        raise ODataError("the value is empty; name a property", option="$orderby", position=0)
    items: list[OrderItem] = []
    while True:
        expr = parser.expression()
        descending = False
        word = parser.keyword()
        if word in ("asc", "desc"):
            parser.next()
            descending = word == "desc"
        items.append(OrderItem(expr, descending))
        if parser.at_punct(","):
            parser.next()
            continue
        token = parser.peek()
        if token is not None:
            raise parser.error(
                f"unexpected '{token.text}'; separate $orderby items with ',' and give "
                "each an optional asc or desc"
            )
        return tuple(items)


# ---- printing -----------------------------------------------------------------------------------


def to_text(expr: Expr) -> str:
    """Canonical text of a syntax tree that parses back to the same tree (binary operations are
    parenthesized; runs of and/or are printed without recursing per term)."""
    match expr:
        case Literal():
            return _literal_text(expr)
        case Path():
            return "/".join(expr.segments)
        case Lambda():
            source = "/".join(expr.source.segments)
            if expr.variable is None or expr.body is None:
                return f"{source}/{expr.op}()"
            return f"{source}/{expr.op}({expr.variable}:{to_text(expr.body)})"
        case Binary(op="and" | "or"):
            operands: list[Expr] = []
            node: Expr = expr
            while isinstance(node, Binary) and node.op == expr.op:
                operands.append(node.right)
                node = node.left
            operands.append(node)
            return "(" + f" {expr.op} ".join(to_text(o) for o in reversed(operands)) + ")"
        case Binary():
            return f"({to_text(expr.left)} {expr.op} {to_text(expr.right)})"
        case Unary(op="not"):
            # parenthesized, so the operand stays whole whatever follows
            return f"(not({to_text(expr.operand)}))"
        case Unary():
            return f"-({to_text(expr.operand)})"
        case In() if expr.source is not None:
            return f"({to_text(expr.left)} in {to_text(expr.source)})"
        case In():
            items = ",".join(to_text(item) for item in expr.items)
            return f"({to_text(expr.left)} in ({items}))"
        case Call():
            return f"{expr.name}({','.join(to_text(arg) for arg in expr.args)})"
    assert_never(expr)


def _literal_text(lit: Literal) -> str:
    match lit.kind:
        case "string":
            return "'" + lit.text.replace("'", "''") + "'"
        case "enum":
            return f"{lit.type_name}'" + lit.text.replace("'", "''") + "'"
        case "duration":
            return f"duration'{lit.text}'"
        case "binary":
            return f"binary'{lit.text}'"
        case _:
            return lit.text
