"""Split a request's query string into OData system query options, the way Graph does.

First step of the read path (before parser.py): split at ``&``, then percent-decode once (a bare
``+`` is a space); option names are case-insensitive and, on /beta, the ``$`` is optional.
Unknown, duplicated and disallowed options are rejected; ``@alias`` values are kept for the parser.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import unquote_plus

from alertgraph.errors import ODataError, did_you_mean
from alertgraph.schema.endpoints import ALL_OPTIONS, EntitySet


@dataclass(frozen=True, slots=True)
class RawOptions:
    """Decoded option values by canonical name (``$filter``...), plus the raw parts as received."""

    values: dict[str, str]
    parts: tuple[tuple[str, str], ...]  # (canonical name or "", raw part) in request order


#: the $format values served: JSON is the only format (Graph documents the same two spellings)
FORMATS = ("json", "application/json")
#: a parameter alias name (OData ABNF: "@" odataIdentifier)
_ALIAS = re.compile(r"@[A-Za-z_][A-Za-z0-9_]*")

_COLON = "(?::|%3[Aa])"
#: a bare "+" that can only be a sign: the offset of a date-time (``2024-05-01T12:00+02:00``)
#: or an exponent (``1e+5``); read as a space, either would be a syntax error
_SIGN_PLUS = re.compile(
    rf"(\d{{4}}-\d\d-\d\d[Tt]\d\d{_COLON}\d\d(?:{_COLON}\d\d(?:\.\d+)?)?)\+(\d\d{_COLON}\d\d)"
    r"|(\d[eE])\+(\d)"
)


def _sign(match: re.Match[str]) -> str:
    if match.group(1) is not None:
        return f"{match.group(1)}%2B{match.group(2)}"
    return f"{match.group(3)}%2B{match.group(4)}"


def _decode(text: str, what: str) -> str:
    """Percent-decode once. A bare ``+`` is a space (form encoding, what Graph's clients send)
    except where only a sign makes sense: offsets like ``+02:00`` and exponents like ``1e+5``,
    which the OData ABNF writes with a literal ``+``."""
    text = _SIGN_PLUS.sub(_sign, text)
    try:
        decoded = unquote_plus(text, errors="strict")
    except UnicodeDecodeError:
        raise ODataError(f"{what} is not valid UTF-8 after percent-decoding") from None
    if "\x00" in decoded:
        raise ODataError(
            f"{what} contains a NUL character at position {decoded.index(chr(0))}",
            option=None,
        )
    return decoded


def split_query(
    raw_query: str,
    entity_set: EntitySet,
    *,
    beta: bool,
    strict: bool,
    allowed_extra: frozenset[str],
) -> RawOptions:
    """Decode ``raw_query`` and check every system option against the entity set's row.

    ``allowed_extra``: options the caller accepts beyond the set's list (``$skiptoken``).
    """
    values: dict[str, str] = {}
    parts: list[tuple[str, str]] = []
    allowed = entity_set.options | allowed_extra
    if strict and entity_set.documented_options:
        allowed = (entity_set.options & entity_set.documented_options) | allowed_extra
    for part in raw_query.split("&") if raw_query else []:
        if not part:
            continue
        raw_name, _, raw_value = part.partition("=")
        name = _decode(raw_name, "a query parameter name")
        lowered = name.lower()
        if _ALIAS.fullmatch(name):
            # a parameter alias: its value is an expression the parser substitutes where
            # $filter or $orderby names it (alias names are case-sensitive)
            if name in values:
                raise ODataError(
                    f"Parameter alias '{name}' is given more than once; give each alias once."
                )
            values[name] = _decode(raw_value, f"the value of {name}")
            parts.append(("", part))
            continue
        if not lowered.startswith("$"):
            if beta and "$" + lowered in ALL_OPTIONS:
                lowered = "$" + lowered
            else:
                parts.append(("", part))
                continue  # Graph ignores parameters that are not system query options
        if lowered not in ALL_OPTIONS:
            hint = did_you_mean(lowered, sorted(ALL_OPTIONS))
            raise ODataError(
                f"'{name}' is not a query option.{hint} Query options allowed here: "
                f"{', '.join(sorted(allowed))}"
            )
        if lowered in values:
            raise ODataError(
                f"Query option '{lowered}' is given more than once; give each option once."
            )
        if lowered == "$format":
            # JSON is all alertgraph writes; Graph documents $format on every request
            values[lowered] = _format(_decode(raw_value, "the value of $format"))
            parts.append((lowered, part))
            continue
        if lowered not in allowed:
            where = entity_set.path
            if strict and lowered in entity_set.options:
                raise ODataError(
                    f"Query option '{lowered}' is not documented by Graph for {where} "
                    f"(strict Graph mode). Documented options: "
                    f"{', '.join(sorted(entity_set.documented_options))}"
                )
            raise ODataError(
                f"Query option '{lowered}' is not allowed on {where}. Allowed query options: "
                f"{', '.join(sorted(allowed))}"
            )
        values[lowered] = _decode(raw_value, f"the value of {lowered}")
        parts.append((lowered, part))
    return RawOptions(values, tuple(parts))


def _format(value: str) -> str:
    if value.strip().lower() not in FORMATS:
        raise ODataError(
            f"'{value}' is not a supported format; $format takes "
            + " or ".join(FORMATS)
            + " (responses are always JSON)",
            option="$format",
            position=0,
        )
    return value


def parse_int(option: str, text: str, *, low: int, high: int | None) -> int:
    stripped = text.strip()
    if not stripped.isdigit() or not stripped.isascii():
        raise ODataError(
            f"'{text}' is not a whole number; {option} takes an integer"
            + (f" between {low} and {high}" if high is not None else f" of at least {low}"),
            option=option,
            position=0,
        )
    value = int(stripped)
    if value < low or (high is not None and value > high):
        if option == "$top" and high is not None and value > high:
            raise ODataError(
                f"the limit of '{high}' for Top query has been exceeded. The value from the "
                f"incoming request is '{value}'. $top must be between {low} and {high}.",
                option=option,
                position=0,
            )
        raise ODataError(
            f"{option} must be "
            + (f"between {low} and {high}" if high is not None else f"at least {low}")
            + f"; got {value}.",
            option=option,
            position=0,
        )
    return value


def parse_bool(option: str, text: str) -> bool:
    lowered = text.strip().lower()
    if lowered not in ("true", "false"):
        raise ODataError(f"'{text}' is not true or false", option=option, position=0)
    return lowered == "true"
