"""Unicode case mapping for tolower()/toupper(), identical on SQLite and PostgreSQL.

OData (URL Conventions 5.1.1.7.2-3) converts case "according to Unicode rules"; Graph's .NET stack
maps one character to one character (simple case mapping: ``ß`` stays ``ß`` in upper case). Neither
database does that by itself whatever its locale (SQLite's lower() is ASCII-only, PostgreSQL's
depends on the collation), so both get the same character table, built here from Python's Unicode
data: PostgreSQL applies it with translate(), SQLite through a registered function.
"""

from __future__ import annotations

import functools

#: the last code point with a case mapping is below U+1F000 (Adlam)
_LAST = 0x1F000
#: characters whose full mapping has several characters but whose simple mapping is one
_SIMPLE = {"\u0130": "i"}  # LATIN CAPITAL LETTER I WITH DOT ABOVE


@functools.cache
def table(upper: bool) -> tuple[str, str]:
    """(characters, their images) of the simple lower- or upper-case mapping."""
    sources: list[str] = []
    targets: list[str] = []
    for code in range(_LAST):
        char = chr(code)
        mapped = char.upper() if upper else char.lower()
        if not upper and char in _SIMPLE:
            mapped = _SIMPLE[char]
        if len(mapped) == 1 and mapped != char:
            sources.append(char)
            targets.append(mapped)
    return "".join(sources), "".join(targets)


@functools.cache
def _translation(upper: bool) -> dict[int, str]:
    sources, targets = table(upper)
    return {ord(s): t for s, t in zip(sources, targets, strict=True)}


def lower(value: str | None) -> str | None:
    """tolower() for SQLite (registered as a function; null stays null)."""
    return None if value is None else value.translate(_translation(False))


def upper(value: str | None) -> str | None:
    """toupper() for SQLite (registered as a function; null stays null)."""
    return None if value is None else value.translate(_translation(True))
