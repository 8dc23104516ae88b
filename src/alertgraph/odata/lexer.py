"""The lexer of OData expressions: option text to tokens, for parser.py (which re-exports it).

Errors are ODataErrors with the option name and the 0-based position of the offending character.
"""

from __future__ import annotations

import re

from alertgraph.errors import ODataError

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
    ("punct", re.compile(r"[(),:/\-*\[\]]")),
    ("jstring", re.compile(r'"(?:[^"\\]|\\.)*"')),
    ("alias", re.compile(r"@[A-Za-z_]\w*")),
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


def _first_chars() -> dict[str, re.Pattern[str]]:
    """Per first character, the alternation of only the token patterns that can start with it
    (same priority order, so the same token wins): most tokens try one or two branches instead
    of twelve. Characters not listed (non-ASCII digits, for one) use the full pattern."""
    starts = {
        "ws": " \t",
        "datetime": "-0123456789",
        "guid": "0123456789abcdefABCDEF",
        "date": "-0123456789",
        "time": "0123456789",
        "number": "+0123456789",
        "string": "'",
        "typed": "_" + "".join(map(chr, range(65, 91))) + "".join(map(chr, range(97, 123))),
        "name": "$_" + "".join(map(chr, range(65, 91))) + "".join(map(chr, range(97, 123))),
        "punct": "(),:/-*[]",
        "jstring": '"',
        "alias": "@",
    }
    chars = {char for text in starts.values() for char in text}
    table: dict[str, re.Pattern[str]] = {}
    for char in chars:
        table[char] = _combined(
            [(kind, regex) for kind, regex in _TOKEN_RES if char in starts[kind]]
        )
    return table


_BY_FIRST_CHAR = _first_chars()
#: single-character tokens no other pattern can start with ("-" can start a date)
_PUNCT_ONLY = frozenset("(),:/*[]")
_LETTERS = frozenset("_" + "".join(map(chr, range(65, 91))) + "".join(map(chr, range(97, 123))))
_HEX_LETTERS = frozenset("abcdefABCDEF")
_GUID_RE = _TOKEN_RES[2][1]
TYPED_RE = _TOKEN_RES[7][1]
_NAME_RE = _TOKEN_RES[8][1]


def _word(text: str, pos: int) -> tuple[str, int]:
    """The kind and end of a token starting with an ASCII letter or '_': a GUID (hex letters), a
    typed literal, or a name. A typed literal's prefix is the longest name there (a shorter one
    is followed by a letter, digit or '.', never a quote), so it is tried only when a quote
    follows that name: the same token the full alternation finds, in one or two matches."""
    if text[pos] in _HEX_LETTERS:
        guid = _GUID_RE.match(text, pos)
        if guid is not None:
            return "guid", guid.end()
    name = _NAME_RE.match(text, pos)
    assert name is not None
    end = name.end()
    if end < len(text) and text[end] == "'":
        typed = TYPED_RE.match(text, pos)
        if typed is not None:
            return "typed", typed.end()
    return "name", end


class Token:
    """One token; a plain class with slots (tokens are made for every request, uncached)."""

    __slots__ = ("kind", "pos", "text")

    def __init__(self, kind: str, text: str, pos: int) -> None:
        self.kind = kind
        self.text = text
        self.pos = pos

    def __repr__(self) -> str:
        return f"Token(kind={self.kind!r}, text={self.text!r}, pos={self.pos!r})"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Token):
            return NotImplemented
        return (self.kind, self.text, self.pos) == (other.kind, other.text, other.pos)

    def __hash__(self) -> int:
        return hash((self.kind, self.text, self.pos))


#: the kind of a token by its first character, where that decides it (a name starting with a
#: letter may still be a GUID or a typed literal; one starting with '$' is a name)
_KIND_BY_FIRST_CHAR = {
    **dict.fromkeys(_LETTERS | {"$"}, "name"),
    **dict.fromkeys(_PUNCT_ONLY, "punct"),
    "'": "string",
}
_NAME = r"[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*"
_STRING = _TOKEN_RES[6][1].pattern
#: Every token with the whitespace before it, in one ``findall``: one C call per option instead of
#: a Python iteration and a regex call per token. The alternatives are the patterns above (a
#: typed literal is a name with an optional string, which finds the same token as trying typed
#: first), reordered so that each character tries only those that can start with it in their
#: original order (a GUID and a date-time can never match the same text, so their swap is safe).
_PIECES = re.compile(
    r"([ \t]*)("
    + "|".join(
        [
            r"[(),:/*\[\]]",
            _STRING,
            _GUID_RE.pattern,
            rf"{_NAME}(?:{_STRING})?",
            rf"\${_NAME}",
            rf"(?i:{_TOKEN_RES[1][1].pattern})",
            _TOKEN_RES[3][1].pattern,
            _TOKEN_RES[4][1].pattern,
            _TOKEN_RES[5][1].pattern,
            "-",
            _TOKEN_RES[10][1].pattern,
            _TOKEN_RES[11][1].pattern,
        ]
    )
    + ")"
)


def tokenize(text: str, option: str) -> list[Token]:
    """Split ``text`` into tokens; whitespace is dropped but remembered by position.

    ``findall`` skips what matches nothing, so the pieces cover the text exactly when it lexes
    cleanly; otherwise the token-by-token lexer below runs again to raise the right error."""
    tokens: list[Token] = []
    append = tokens.append
    kinds = _KIND_BY_FIRST_CHAR
    pos = 0
    for space, piece in _PIECES.findall(text):
        if space:
            pos += len(space)
        kind = kinds.get(piece[0])
        if kind == "name":
            # the other tokens starting with a letter: a typed literal ends in ', a GUID has '-'
            if piece[-1] == "'":
                kind = "typed"
            elif "-" in piece:
                kind = "guid"
        elif kind is None:  # numbers, dates, times, '-', JSON strings, aliases: ask the pattern
            match = _BY_FIRST_CHAR.get(piece[0], _TOKEN_RE).match(text, pos)
            if match is None or match.lastgroup is None or match.end() != pos + len(piece):
                return _tokenize_each(text, option)  # after a gap: pos is off, see below
            kind = match.lastgroup
        append(Token(kind, piece, pos))
        pos += len(piece)
    if pos != len(text) and pos != len(text.rstrip(" \t")):
        return _tokenize_each(text, option)
    return tokens


#: a date-time whose zone is missing or not ±hh:mm (the lexer would split it into numbers)
_ZONELESS_DATETIME = re.compile(
    r"-?\d{4,}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:[+-]\d{2,4})?(?![\w:+-])",
    re.IGNORECASE,
)


def _tokenize_each(text: str, option: str) -> list[Token]:
    """Token by token, for text ``tokenize`` could not split: finds the same tokens and raises
    the error at the first character no token starts with."""
    tokens: list[Token] = []
    append = tokens.append
    pos = 0
    length = len(text)
    by_first = _BY_FIRST_CHAR.get
    full = _TOKEN_RE
    while pos < length:
        char = text[pos]
        if char == " ":
            pos += 1
            continue
        if char in _PUNCT_ONLY:
            append(Token("punct", char, pos))
            pos += 1
            continue
        if char in _LETTERS:
            kind, end = _word(text, pos)
            append(Token(kind, text[pos:end], pos))
            pos = end
            continue
        match = by_first(char, full).match(text, pos)
        if match is not None and match.lastgroup != "datetime":
            zoneless = _ZONELESS_DATETIME.match(text, pos)
            if zoneless is not None:
                raise ODataError(
                    f"the date-time {zoneless.group()} needs a time zone: add Z for UTC, or an "
                    "offset like +01:00",
                    option=option,
                    position=pos,
                )
        if match is not None:
            group = match.lastgroup
            assert group is not None
            end = match.end()
            if group != "ws":
                append(Token(group, text[pos:end], pos))
            pos = end
        else:
            if char == "'":
                raise ODataError(
                    "unterminated string literal; close it with ' and write a quote inside as ''",
                    option=option,
                    position=pos,
                )
            shown = repr(char) if not char.isprintable() or char == " " else f"'{char}'"
            raise ODataError(f"unexpected character {shown}", option=option, position=pos)
    return tokens
