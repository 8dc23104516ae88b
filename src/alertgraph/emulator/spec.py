"""Parsing of ``--throttle``/``--faults`` values and admin JSON into specs, with one clear message
per mistake; used by cli/emulator.py and admin.py, applied by throttle.py and faults.py."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

from alertgraph.errors import as_json

FAULT_STATUSES = (429, 500, 502, 503, 504)
_RATE = re.compile(r"\s*(\d+)\s*/\s*(\d+(?:\.\d+)?)\s*s?\s*")


@dataclass(frozen=True, slots=True)
class Limit:
    """At most ``requests`` per ``seconds``."""

    requests: int
    seconds: float


@dataclass(frozen=True, slots=True)
class ThrottleSpec:
    """``off``, ``graph`` (Graph's published limits) or one limit per app per tenant."""

    mode: str  # "off" | "graph" | "custom"
    limit: Limit | None = None

    def __str__(self) -> str:
        if self.limit is None:
            return self.mode
        return f"{self.limit.requests}/{self.limit.seconds:g}"


def parse_throttle(text: str) -> ThrottleSpec:
    """``off``, ``graph`` or ``N/S``; ValueError naming what is allowed otherwise."""
    value = text.strip().lower()
    if value in ("off", "graph"):
        return ThrottleSpec(value)
    match = _RATE.fullmatch(value)
    if match is None:
        raise ValueError(
            f"throttle '{text}' is not off, graph or N/S (N requests per S seconds, e.g. 10/5)"
        )
    requests, seconds = int(match[1]), float(match[2])
    if requests < 1 or seconds <= 0 or not math.isfinite(seconds) or seconds > 86400:
        raise ValueError(
            f"throttle '{text}': N must be at least 1 and S between 0 and 86400 seconds"
        )
    return ThrottleSpec("custom", Limit(requests, seconds))


@dataclass(frozen=True, slots=True)
class FaultSpec:
    """Which requests fail and how; decisions come from (seed, tenant, request number)."""

    rate: float = 0.0
    status: int = 503
    seed: int = 0
    latency: int = 0  # ms added to every matching request
    jitter: int = 0  # up to this many ms more, chosen per request
    partial: float = 0.0  # share of alerts_v2 lists answered 206 with a subset
    unknown_enums: bool = False  # send evolvable-enum members the client did not ask for
    path: str | None = None  # glob on the path after the version, e.g. /security/incidents*
    method: str | None = None

    def as_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["unknownEnums"] = data.pop("unknown_enums")
        return {key: value for key, value in data.items() if value is not None}


_FAULT_KEYS = {
    "rate": "a share of requests between 0 and 1",
    "status": "one of " + ", ".join(map(str, FAULT_STATUSES)),
    "seed": "a whole number of at most 64 bits",
    "latency": "milliseconds, 0 to 60000",
    "jitter": "milliseconds, 0 to 60000",
    "partial": "a share of alert lists between 0 and 1",
    "unknownEnums": "true or false",
    "path": "a glob on the path after the version, e.g. /security/incidents*",
    "method": "GET, POST, PATCH, PUT or DELETE",
}
_ALIASES = {"unknown_enums": "unknownEnums", "unknown-enums": "unknownEnums"}


def parse_faults_option(text: str) -> FaultSpec:
    """``rate=R,status=CODE,seed=N[,latency=MS]...`` as given to ``serve --faults``."""
    values: dict[str, Any] = {}
    for part in text.split(","):
        if not part.strip():
            continue
        key, sep, value = part.partition("=")
        if not sep:
            raise ValueError(f"faults: '{part.strip()}' is not key=value ({_allowed()})")
        key = key.strip()
        if key in values or _ALIASES.get(key) in values:
            raise ValueError(f"faults: '{key}' is given twice")
        values[key] = value.strip()
    if not values:
        raise ValueError(f"faults: give at least one of {_allowed()}")
    return fault_spec(values)


def fault_spec(values: Mapping[str, Any]) -> FaultSpec:
    """A FaultSpec from admin JSON or parsed option text; ValueError naming the bad member."""
    fields: dict[str, Any] = {}
    for raw_key, value in values.items():
        key = _ALIASES.get(raw_key, raw_key)
        if key not in _FAULT_KEYS:
            raise ValueError(f"faults: unknown setting '{raw_key}' ({_allowed()})")
        fields[key] = _fault_value(key, value)
    if "unknownEnums" in fields:
        fields["unknown_enums"] = fields.pop("unknownEnums")
    return FaultSpec(**fields)


def _fault_value(key: str, value: Any) -> Any:
    # option text shows as given; a JSON value (admin API) as JSON: null, true, 0.5
    shown = value if isinstance(value, str) else as_json(value)
    problem = f"faults: {key}={shown} is not {_FAULT_KEYS[key]}"
    if key in ("rate", "partial"):
        number = _number(value, float)
        if number is None or not 0 <= number <= 1:
            raise ValueError(problem)
        return number
    if key in ("status", "seed", "latency", "jitter"):
        number = _number(value, int)
        if number is None:
            raise ValueError(problem)
        if key == "status" and number not in FAULT_STATUSES:
            raise ValueError(problem)
        if key in ("latency", "jitter") and not 0 <= number <= 60000:
            raise ValueError(problem)
        if key == "seed" and not -(2**63) <= number < 2**63:  # kept as a 64-bit integer
            raise ValueError(problem)
        return number
    if key == "unknownEnums":
        if isinstance(value, bool):
            return value
        lowered = str(value).lower()
        if lowered not in ("true", "false", "on", "off", "1", "0"):
            raise ValueError(problem)
        return lowered in ("true", "on", "1")
    if not isinstance(value, str) or not value:
        raise ValueError(problem)
    if key == "method":
        if value.upper() not in ("GET", "POST", "PATCH", "PUT", "DELETE"):
            raise ValueError(problem)
        return value.upper()
    return value if value.startswith("/") else "/" + value


def _number(value: Any, kind: type[int] | type[float]) -> Any:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float) and not isinstance(value, bool):
        if kind is int and (not isinstance(value, int)):
            return None
        return value if math.isfinite(value) else None
    try:
        number = kind(str(value))
    except ValueError:
        return None
    return number if math.isfinite(number) else None


def _allowed() -> str:
    return "allowed keys: " + ", ".join(_FAULT_KEYS)
