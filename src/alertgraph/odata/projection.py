"""Parse $select and $expand item lists (paths, ``*``, nested options) into items. Beside
parser.py, which re-exports them; query.py binds the items against the EDM.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from alertgraph.errors import ODataError
from alertgraph.odata.nodes import quick_init


@quick_init  # one per selected property, per request
@dataclass(frozen=True, slots=True)
class SelectItem:
    path: tuple[str, ...]  # ("*",) for the star
    pos: int


@dataclass(frozen=True, slots=True)
class ExpandItem:
    path: tuple[str, ...]  # ("*",) for the star
    pos: int
    options: tuple[tuple[str, str, int], ...]  # (lower-case option name, raw value, value offset)


def split_top_level(text: str, option: str, separator: str = ",") -> list[tuple[str, int]]:
    """Split at separators outside parentheses and quotes; returns (part, start offset) pairs."""
    parts: list[tuple[str, int]] = []
    if "'" not in text and "(" not in text and ")" not in text:
        # nothing to skip over (most $select values): every separator splits
        start = 0
        for piece in text.split(separator):
            parts.append((piece, start))
            start += len(piece) + 1
        return parts
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


#: a $select of plain property names (most requests): split at ',' without an item regex each
_NAMES_ONLY_RE = re.compile(r"[A-Za-z_]\w*(?:,[A-Za-z_]\w*)*\Z")


def parse_select(text: str, offset: int = 0, option: str = "$select") -> tuple[SelectItem, ...]:
    items: list[SelectItem] = []
    if _NAMES_ONLY_RE.match(text):
        # each name is its own one-segment path at its offset, as the general loop finds
        for name in text.split(","):
            items.append(SelectItem((name,), offset))
            offset += len(name) + 1
        return tuple(items)
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
