"""Parse OData query option text into syntax trees (names still unresolved strings).

First stage of the read pipeline; bind.py resolves the trees against the EDM. Every syntax error is
an ODataError carrying the option name and a 0-based character position in the option's value.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal as TypingLiteral
from typing import assert_never

from alertgraph.errors import ODataError
from alertgraph.odata.limits import QueryLimits as Limits

# ---- syntax nodes -------------------------------------------------------------------------------

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


@dataclass(frozen=True, slots=True)
class Literal:
    kind: LiteralKind
    text: str  # the value's source text without quotes (strings: unescaped value)
    pos: int
    type_name: str | None = None  # enum literals: the qualified enum type


@dataclass(frozen=True, slots=True)
class Path:
    """``a/b/microsoft.graph.x/c``: member names and type-cast segments; ``$it`` or a lambda
    variable may lead."""

    segments: tuple[str, ...]
    pos: int


@dataclass(frozen=True, slots=True)
class Lambda:
    source: Path
    op: str  # "any" | "all"
    variable: str | None  # None for the argument-less any()
    body: Expr | None
    pos: int


@dataclass(frozen=True, slots=True)
class Binary:
    op: str  # eq ne gt ge lt le and or has add sub mul div divby mod
    left: Expr
    right: Expr
    pos: int


@dataclass(frozen=True, slots=True)
class Unary:
    op: str  # "not" | "-"
    operand: Expr
    pos: int


@dataclass(frozen=True, slots=True)
class In:
    left: Expr
    items: tuple[Expr, ...]
    pos: int
    source: Path | None = None  # ``x in tags``: a collection-valued path instead of a list


@dataclass(frozen=True, slots=True)
class Call:
    name: str
    args: tuple[Expr, ...]
    pos: int


Expr = Literal | Path | Lambda | Binary | Unary | In | Call


@dataclass(frozen=True, slots=True)
class OrderItem:
    expr: Expr
    descending: bool


@dataclass(frozen=True, slots=True)
class SelectItem:
    path: tuple[str, ...]  # ("*",) for the star
    pos: int


@dataclass(frozen=True, slots=True)
class ExpandItem:
    path: tuple[str, ...]  # ("*",) for the star
    pos: int
    options: tuple[tuple[str, str, int], ...]  # (lower-case option name, raw value, value offset)


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

# ---- lexer --------------------------------------------------------------------------------------

_TOKEN_RES: list[tuple[str, re.Pattern[str]]] = [
    ("ws", re.compile(r"[ \t]+")),
    (
        "datetime",
        re.compile(
            r"-?\d{4,}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:\d{2})",
            re.IGNORECASE,
        ),
    ),
    (
        "guid",
        re.compile(
            r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}(?![\w.])"
        ),
    ),
    ("date", re.compile(r"-?\d{4,}-\d{2}-\d{2}(?![\w:])")),
    ("time", re.compile(r"\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?![\w:])")),
    ("number", re.compile(r"\+?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?(?![\w.])")),
    ("string", re.compile(r"'[^']*(?:''[^']*)*'")),
    ("typed", re.compile(r"([A-Za-z_][\w]*(?:\.[A-Za-z_]\w*)*)'([^']*(?:''[^']*)*)'")),
    ("name", re.compile(r"\$?[A-Za-z_][\w]*(?:\.[A-Za-z_]\w*)*")),
    ("punct", re.compile(r"[(),:/\-*]")),
]


def _combined(patterns: list[tuple[str, re.Pattern[str]]]) -> re.Pattern[str]:
    """One alternation of every token pattern, in priority order: a single match per token
    instead of trying each pattern in turn (the lexer was most of a typical filter's parse time).
    Alternation tries its branches in order, so the first pattern that matches still wins."""
    parts = []
    for kind, pattern in patterns:
        body = pattern.pattern
        if pattern.flags & re.IGNORECASE:
            body = f"(?i:{body})"
        parts.append(f"(?P<{kind}>{body})")
    return re.compile("|".join(parts))


_TOKEN_RE = _combined(_TOKEN_RES)


@dataclass(frozen=True, slots=True)
class Token:
    kind: str
    text: str
    pos: int


def tokenize(text: str, option: str) -> list[Token]:
    """Split ``text`` into tokens; whitespace is dropped but remembered by position."""
    tokens: list[Token] = []
    pos = 0
    length = len(text)
    match_at = _TOKEN_RE.match
    while pos < length:
        match = match_at(text, pos)
        if match is not None:
            kind = match.lastgroup
            assert kind is not None
            if kind != "ws":
                tokens.append(Token(kind, match.group(0), pos))
            pos = match.end()
        else:
            char = text[pos]
            if char == "'":
                raise ODataError(
                    "unterminated string literal; close it with ' and write a quote inside as ''",
                    option=option,
                    position=pos,
                )
            shown = repr(char) if not char.isprintable() or char == " " else f"'{char}'"
            raise ODataError(f"unexpected character {shown}", option=option, position=pos)
    return tokens


# ---- parser -------------------------------------------------------------------------------------


_FUNCTIONS_WITH_TYPE_ARG = frozenset({"isof", "cast"})
_DURATION_RE = re.compile(r"-?P(?:\d+D)?(?:T(?:\d+H)?(?:\d+M)?(?:\d+(?:\.\d+)?S)?)?$")


class Parser:
    """Recursive descent with precedence climbing: about three frames per nesting level, and a
    depth limit far below Python's recursion limit, so hostile nesting is a 400, not a crash."""

    def __init__(self, text: str, option: str, limits: Limits) -> None:
        self.text = text
        self.option = option
        self.limits = limits
        if len(text) > limits.max_literal_length + 1000:
            raise ODataError(
                f"the value is {len(text)} characters long; the limit is "
                f"{limits.max_literal_length + 1000}",
                option=option,
                position=0,
            )
        self.tokens = tokenize(text, option)
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
        if self.index < len(self.tokens):
            return self.tokens[self.index].pos
        return len(self.text)

    def peek(self, offset: int = 0) -> Token | None:
        index = self.index + offset
        return self.tokens[index] if index < len(self.tokens) else None

    def next(self) -> Token:
        token = self.peek()
        if token is None:
            raise self.error("unexpected end of the expression")
        self.index += 1
        return token

    def at_punct(self, char: str) -> bool:
        token = self.peek()
        return token is not None and token.kind == "punct" and token.text == char

    def expect_punct(self, char: str, what: str) -> Token:
        token = self.peek()
        if token is None or token.kind != "punct" or token.text != char:
            found = "the end of the expression" if token is None else f"'{token.text}'"
            raise self.error(f"expected '{char}' {what}, found {found}")
        self.index += 1
        return token

    def keyword(self, offset: int = 0) -> str | None:
        token = self.peek(offset)
        if token is not None and token.kind == "name":
            return token.text.lower()
        return None

    def count(self, pos: int) -> None:
        self.nodes += 1
        if self.nodes > self.limits.max_nodes:
            raise self.error(
                f"the expression has more than {self.limits.max_nodes} nodes; simplify it",
                pos,
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
        while True:
            op = self.keyword()
            power = PRECEDENCE.get(op) if op is not None else None
            if op is None or power is None or power < min_power:
                return left
            token = self.next()
            self.count(token.pos)
            if op == "in":
                if not self.at_punct("("):
                    source = self.unary()
                    if not isinstance(source, Path):
                        raise self.error(
                            "expected '(' to open the list after 'in', like x in ('a', 'b'), or a "
                            "collection property, like 'a' in tags",
                            _position(source),
                        )
                    left = self.tall(In(left, (), token.pos, source), left)
                    continue
                items = self.in_list()
                node: Expr = In(left, items, token.pos)
                self.set_height(node, 1 + max(map(self.height, (left, *items))), token.pos)
                left = node
                continue
            # comparisons are not associative in OData; everything else is left-associative
            right = self.expression(power + 1)
            left_height = self.height(left)
            if not (op in ("and", "or") and isinstance(left, Binary) and left.op == op):
                left_height += 1
            left = Binary(op, left, right, token.pos)
            self.set_height(left, max(left_height, self.height(right) + 1), token.pos)

    def in_list(self) -> tuple[Expr, ...]:
        start = self.expect_punct("(", "to open the list after 'in'")
        self.enter(start.pos)
        items: list[Expr] = []
        if self.at_punct(")"):
            self.next()  # OData 4.01 allows an empty list: nothing is in it
            self.depth -= 1
            return ()
        while True:
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
            self.expect_punct(")", "to close the list after 'in'")
            break
        self.depth -= 1
        return tuple(items)

    def unary(self) -> Expr:
        token = self.peek()
        if token is None:
            raise self.error("expected an expression, found the end of the text")
        if token.kind == "name" and token.text.lower() == "not":
            following = self.peek(1)
            # 'not' followed by an operator keyword is a property called "not"; rare, but legal
            if following is not None and not (
                following.kind == "name" and following.text.lower() in PRECEDENCE
            ):
                self.next()
                self.count(token.pos)
                self.enter(token.pos)
                operand = self.expression(3)
                self.depth -= 1
                return self.tall(Unary("not", operand, token.pos), operand)
        if token.kind == "punct" and token.text == "-":
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
            case "punct":
                if token.text == "(":
                    self.enter(token.pos)
                    inner = self.expression()
                    self.expect_punct(")", f"to close the parenthesis opened at {token.pos}")
                    self.depth -= 1
                    return inner
                raise self.error(f"expected an expression, found '{token.text}'", token.pos)
            case "string":
                return self.string(token)
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
            case "name":
                return self.name(token)
        raise self.error(f"unexpected '{token.text}'", token.pos)  # pragma: no cover

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
        match = _TOKEN_RES[7][1].match(token.text)
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

    def name(self, token: Token) -> Expr:
        lowered = token.text.lower()
        if lowered in ("true", "false"):
            return Literal("bool", lowered, token.pos)
        if lowered == "null":
            return Literal("null", "null", token.pos)
        if token.text in ("INF", "NaN"):
            return Literal("double", token.text, token.pos)
        if self.at_punct("("):
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


def parse_expression(text: str, option: str = "$filter", limits: Limits | None = None) -> Expr:
    """Parse a boolean or value expression (``$filter``, items of ``$orderby``)."""
    parser = Parser(text, option, limits or Limits())
    if not parser.tokens:
        raise ODataError("the expression is empty", option=option, position=0)
    expr = parser.expression()
    parser.done()
    return expr


def parse_orderby(text: str, limits: Limits | None = None) -> tuple[OrderItem, ...]:
    parser = Parser(text, "$orderby", limits or Limits())
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


def split_top_level(text: str, option: str, separator: str = ",") -> list[tuple[str, int]]:
    """Split at separators outside parentheses and quotes; returns (part, start offset) pairs."""
    parts: list[tuple[str, int]] = []
    depth = 0
    start = 0
    quoted = False
    for index, char in enumerate(text):
        if char == "'":
            quoted = not quoted
        elif quoted:
            continue
        elif char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
            if depth < 0:
                raise ODataError("unbalanced ')'", option=option, position=index)
        elif char == separator and depth == 0:
            parts.append((text[start:index], start))
            start = index + 1
    if depth != 0 or quoted:
        raise ODataError("unbalanced parenthesis or quote", option=option, position=len(text))
    parts.append((text[start:], start))
    return parts


_SELECT_PATH_RE = re.compile(
    r"\s*(\*|[A-Za-z_][\w]*(?:\.[A-Za-z_]\w*)*(?:/[A-Za-z_][\w]*(?:\.[A-Za-z_]\w*)*)*(?:/\*)?)\s*$"
)


def _parse_path_item(text: str, offset: int, option: str) -> tuple[tuple[str, ...], int]:
    match = _SELECT_PATH_RE.match(text)
    if match is None or not text.strip():
        stripped = len(text) - len(text.lstrip())
        raise ODataError(
            f"'{text.strip()}' is not a property path; use names separated by '/' or '*'"
            if text.strip()
            else "an empty item; remove the extra ','",
            option=option,
            position=offset + stripped,
        )
    return tuple(match.group(1).split("/")), offset + match.start(1)


def parse_select(text: str, offset: int = 0, option: str = "$select") -> tuple[SelectItem, ...]:
    items: list[SelectItem] = []
    for part, start in split_top_level(text, option):
        if "(" in part:
            raise ODataError(
                "nested options in $select are not supported",
                option=option,
                position=offset + start,
            )
        path, pos = _parse_path_item(part, offset + start, option)
        items.append(SelectItem(path, pos))
    return tuple(items)


_NESTED_OPTION_RE = re.compile(r"\s*\$?([A-Za-z]+)\s*=", re.ASCII)


def parse_expand(text: str, offset: int = 0, option: str = "$expand") -> tuple[ExpandItem, ...]:
    items: list[ExpandItem] = []
    for part, start in split_top_level(text, option):
        paren = part.find("(")
        head = part if paren < 0 else part[:paren]
        path, pos = _parse_path_item(head, offset + start, option)
        options: list[tuple[str, str, int]] = []
        if paren >= 0:
            close = part.rstrip()
            if not close.endswith(")"):
                raise ODataError(
                    "expected ')' to close the nested options",
                    option=option,
                    position=offset + start + len(part),
                )
            inner = part[paren + 1 : len(close) - 1]
            inner_offset = offset + start + paren + 1
            if inner.strip():
                for piece, piece_start in split_top_level(inner, option, ";"):
                    match = _NESTED_OPTION_RE.match(piece)
                    if match is None:
                        raise ODataError(
                            f"'{piece.strip()}' is not a nested option like $select=id",
                            option=option,
                            position=inner_offset + piece_start,
                        )
                    options.append(
                        (
                            "$" + match.group(1).lower(),
                            piece[match.end() :],
                            inner_offset + piece_start + match.end(),
                        )
                    )
        items.append(ExpandItem(path, pos, tuple(options)))
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
            # parenthesized: "not" binds looser than comparisons, so "not(a) in (...)" would
            # otherwise reparse as "not (a in (...))"
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
