"""Convert values between Graph JSON and storage, checked against the EDM.

Storage forms (the same on SQLite and PostgreSQL):

* ``Edm.DateTimeOffset`` columns hold ticks: 100 ns units since 0001-01-01T00:00:00Z (an int64), so
  instants compare exactly at Graph's precision whatever offset they were written with. Inside JSON
  (complex values, collections) they are fixed-width UTC strings with 7 fractional digits,
  which sort as text in the same order.
* ``Edm.Duration`` holds ticks too; enum columns hold the member's value (so they order by value);
  complex and collection values are JSON, with enum members by name.

Reading back gives Graph JSON: UTC with ``Z``, fractional digits trimmed of trailing zeros (so seven
digits survive when they were given), durations in ISO 8601, enums by name.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from alertgraph.schema.edm import INTEGER_RANGES, Model, StructuredType, TypeRef

#: value, path → converted value (raises ValueProblem)
Converter = Callable[[Any, str], Any]

TICKS_PER_SECOND = 10_000_000
TICKS_PER_DAY = 86_400 * TICKS_PER_SECOND
_EPOCH_ORDINAL = date(1, 1, 1).toordinal()
MIN_TICKS = 0
MAX_TICKS = (date(9999, 12, 31).toordinal() - _EPOCH_ORDINAL + 1) * TICKS_PER_DAY - 1

_DATETIME_RE = re.compile(
    r"(?P<y>\d{4})-(?P<mo>\d{2})-(?P<d>\d{2})[Tt](?P<h>\d{2}):(?P<mi>\d{2})"
    r"(?::(?P<s>\d{2})(?:\.(?P<f>\d+))?)?"
    r"(?P<z>[Zz]|[+-]\d{2}:\d{2})$"
)
_UTC_DATETIME_RE = re.compile(r"(\d{4}-\d{2}-\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,7}))?Z$")
_DAY_TICKS: dict[str, int] = {}  # "2024-05-01" → ticks at its midnight
_DAY_TEXT: dict[int, str] = {}  # day number → "2024-05-01"
# what format_datetime_fixed writes, for a date it accepted
_FIXED_DATETIME_RE = re.compile(
    r"\d{4}-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12]\d|3[01])T(?:[01]\d|2[0-3]):[0-5]\d:[0-5]\d\.\d{7}Z",
    re.ASCII,
)
_DATE_RE = re.compile(r"(\d{4})-(\d{2})-(\d{2})$")
_TIME_RE = re.compile(r"(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,12}))?)?$")
_ISO_DURATION_RE = re.compile(
    r"(?P<sign>-)?P(?:(?P<d>\d+)D)?(?:T(?:(?P<h>\d+)H)?(?:(?P<m>\d+)M)?"
    r"(?:(?P<s>\d+)(?:\.(?P<f>\d+))?S)?)?$"
)
# Python's str(timedelta), as the Python SDK sends it: "30 days, 0:00:00", "-1 day, 23:00:00"
_PY_DURATION_RE = re.compile(
    r"(?:(?P<d>-?\d+) days?, )?(?P<h>\d+):(?P<m>\d{2}):(?P<s>\d{2})(?:\.(?P<f>\d{1,6}))?$"
)
_GUID_RE = re.compile(
    r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"
)


def is_guid(text: str) -> bool:
    """Whether ``text`` is a GUID in its usual form (Entra tenant and application ids are)."""
    return _GUID_RE.fullmatch(text) is not None


class ValueProblem(ValueError):
    """One value that does not fit its declared type; ``path`` locates it inside the record."""

    def __init__(self, path: str, message: str) -> None:
        super().__init__(f"{path}: {message}" if path else message)
        self.path = path
        self.message = message


@dataclass(frozen=True, slots=True)
class Problem:
    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}" if self.path else self.message


# --- date and time ---------------------------------------------------------------------------


def parse_datetime(text: str) -> int:
    """ISO 8601 with a zone (``Z`` or ``±hh:mm``) → ticks. Digits past the 7th are dropped."""
    fast = _UTC_DATETIME_RE.match(text)
    if fast is not None:
        # The common UTC form, with the day's ticks cached (import parses millions of these).
        day_ticks = _DAY_TICKS.get(fast[1])
        hour, minute, second = int(fast[2]), int(fast[3]), int(fast[4])
        if day_ticks is not None and hour <= 23 and minute <= 59 and second <= 59:
            fraction = int((fast[5] or "").ljust(7, "0"))
            return day_ticks + (hour * 3600 + minute * 60 + second) * TICKS_PER_SECOND + fraction
    ticks = _parse_datetime(text)
    if fast is not None and len(_DAY_TICKS) < 100_000:
        _DAY_TICKS[fast[1]] = ticks - ticks % TICKS_PER_DAY
    return ticks


def _parse_datetime(text: str) -> int:
    match = _DATETIME_RE.match(text)
    if match is None:
        raise ValueError(
            f"'{text}' is not an ISO 8601 date and time with a zone, "
            "like 2024-05-01T12:00:00Z or 2024-05-01T14:00:00.1234567+02:00"
        )
    try:
        day = date(int(match["y"]), int(match["mo"]), int(match["d"]))
    except ValueError as exc:
        raise ValueError(f"'{text}' is not a valid date ({exc})") from None
    hour, minute, second = int(match["h"]), int(match["mi"]), int(match["s"] or 0)
    if hour > 23 or minute > 59 or second > 59:
        raise ValueError(f"'{text}' has an invalid time of day")
    fraction = (match["f"] or "")[:7].ljust(7, "0")
    ticks = (day.toordinal() - _EPOCH_ORDINAL) * TICKS_PER_DAY
    ticks += (hour * 3600 + minute * 60 + second) * TICKS_PER_SECOND + int(fraction)
    zone = match["z"]
    if zone not in ("Z", "z"):
        sign = 1 if zone[0] == "+" else -1
        zone_hours, zone_minutes = int(zone[1:3]), int(zone[4:6])
        if zone_hours > 14 or zone_minutes > 59:
            raise ValueError(f"'{text}' has an invalid zone offset")
        ticks -= sign * (zone_hours * 3600 + zone_minutes * 60) * TICKS_PER_SECOND
    if not MIN_TICKS <= ticks <= MAX_TICKS:
        raise ValueError(f"'{text}' is outside the range 0001-01-01 to 9999-12-31 (UTC)")
    return ticks


def _day_text(days: int) -> str:
    """Day number since 0001-01-01 → "YYYY-MM-DD", cached (output formats millions of these)."""
    day = _DAY_TEXT.get(days)
    if day is None:
        day = date.fromordinal(days + _EPOCH_ORDINAL).isoformat()
        if len(_DAY_TEXT) < 100_000:
            _DAY_TEXT[days] = day
    return day


def format_datetime(ticks: int) -> str:
    """Ticks → Graph's output form: UTC ``Z``, fraction without trailing zeros."""
    days, rest = divmod(ticks, TICKS_PER_DAY)
    day = _day_text(days)
    seconds, fraction = divmod(rest, TICKS_PER_SECOND)
    hh, rest = divmod(seconds, 3600)
    mm, ss = divmod(rest, 60)
    if fraction:
        return f"{day}T{hh:02d}:{mm:02d}:{ss:02d}." + f"{fraction:07d}".rstrip("0") + "Z"
    return f"{day}T{hh:02d}:{mm:02d}:{ss:02d}Z"


def output_from_fixed(text: str) -> str:
    """Fixed-width storage text (:func:`format_datetime_fixed`) → Graph's output form.

    The same answer as ``format_datetime(parse_datetime(text))`` for text this module wrote,
    without the round trip through ticks: stored JSON holds millions of these.
    """
    if len(text) == 28 and _FIXED_DATETIME_RE.match(text) is not None:
        fraction = text[20:27].rstrip("0")
        return f"{text[:19]}.{fraction}Z" if fraction else text[:19] + "Z"
    return format_datetime(parse_datetime(text))


def format_datetime_fixed(ticks: int) -> str:
    """Ticks → fixed-width UTC text with 7 digits, which sorts as text like the instants do."""
    days, rest = divmod(ticks, TICKS_PER_DAY)
    day = _day_text(days)
    seconds, fraction = divmod(rest, TICKS_PER_SECOND)
    hh, rest = divmod(seconds, 3600)
    mm, ss = divmod(rest, 60)
    return f"{day}T{hh:02d}:{mm:02d}:{ss:02d}.{fraction:07d}Z"


def ticks_from_datetime(value: datetime) -> int:
    """An aware ``datetime`` → ticks."""
    utc = value.astimezone(UTC)
    ticks = (utc.date().toordinal() - _EPOCH_ORDINAL) * TICKS_PER_DAY
    return ticks + (
        (utc.hour * 3600 + utc.minute * 60 + utc.second) * TICKS_PER_SECOND + utc.microsecond * 10
    )


def now_ticks() -> int:
    return ticks_from_datetime(datetime.now(UTC))


#: durations are stored as Int64 ticks: about 10,675,199 days either way
MAX_DURATION_TICKS = INTEGER_RANGES["Edm.Int64"][1]


def parse_duration(text: str) -> int:
    """ISO 8601 day-time duration (``P30D``, ``PT1H30M``) or Python's ``str(timedelta)`` → ticks."""
    ticks = _duration_ticks(text)
    if abs(ticks) > MAX_DURATION_TICKS:
        days = MAX_DURATION_TICKS // TICKS_PER_DAY
        raise ValueError(f"'{text}' is longer than a duration can be: at most P{days}D")
    return ticks


def _duration_ticks(text: str) -> int:
    match = _ISO_DURATION_RE.match(text)
    if match is not None and text not in ("P", "-P") and not text.endswith("T"):
        fraction = (match["f"] or "")[:7].ljust(7, "0")
        seconds = (
            int(match["d"] or 0) * 86400
            + int(match["h"] or 0) * 3600
            + int(match["m"] or 0) * 60
            + int(match["s"] or 0)
        )
        ticks = seconds * TICKS_PER_SECOND + int(fraction)
        return -ticks if match["sign"] else ticks
    match = _PY_DURATION_RE.match(text)
    if match is not None:
        # exact integer arithmetic: timedelta refuses more than 999,999,999 days with an
        # OverflowError, and the range check above gives the clearer message
        days, hours, minutes, seconds = (int(match[g] or 0) for g in ("d", "h", "m", "s"))
        micro = int((match["f"] or "0").ljust(6, "0"))
        total = ((days * 24 + hours) * 60 + minutes) * 60 + seconds
        return total * TICKS_PER_SECOND + micro * 10
    raise ValueError(
        f"'{text}' is not a duration; use ISO 8601 like P30D or PT1H30M "
        "(Python's str(timedelta) form, '30 days, 0:00:00', is accepted too)"
    )


def format_duration(ticks: int) -> str:
    sign = "-" if ticks < 0 else ""
    ticks = abs(ticks)
    seconds, fraction = divmod(ticks, TICKS_PER_SECOND)
    days, seconds = divmod(seconds, 86400)
    hours, seconds = divmod(seconds, 3600)
    minutes, seconds = divmod(seconds, 60)
    text = f"{sign}P"
    if days:
        text += f"{days}D"
    if hours or minutes or seconds or fraction or not days:
        text += "T"
        if hours:
            text += f"{hours}H"
        if minutes:
            text += f"{minutes}M"
        if seconds or fraction or not (hours or minutes):
            text += str(seconds)
            if fraction:
                text += "." + f"{fraction:07d}".rstrip("0")
            text += "S"
    return text


def parse_date(text: str) -> str:
    match = _DATE_RE.match(text)
    if match is None:
        raise ValueError(f"'{text}' is not a date like 2024-05-01")
    try:
        date(int(match[1]), int(match[2]), int(match[3]))
    except ValueError as exc:
        raise ValueError(f"'{text}' is not a valid date ({exc})") from None
    return text


def parse_time_of_day(text: str) -> str:
    match = _TIME_RE.match(text)
    if match is None or int(match[1]) > 23 or int(match[2]) > 59 or int(match[3] or 0) > 59:
        raise ValueError(f"'{text}' is not a time of day like 13:45:00")
    return f"{match[1]}:{match[2]}:{match[3] or '00'}" + (f".{match[4]}" if match[4] else "")


# --- typed conversion --------------------------------------------------------------------------


class Codec:
    """Converts property values of one model between Graph JSON and storage."""

    def __init__(self, model: Model) -> None:
        self.model = model
        # Converters compiled per declared type: bulk import validates millions of values, and
        # resolving the same type names on every value dominated its profile.
        self._column_converters: dict[tuple[str, bool], Converter] = {}
        self._json_converters: dict[tuple[str, bool], Converter] = {}
        self._members: dict[str, dict[str, tuple[bool, Converter]]] = {}  # (required, convert)
        self._subtypes: dict[str, dict[str, StructuredType | None]] = {}
        self._readers: dict[tuple[str, bool, bool], Reader] = {}
        self._column_readers: dict[tuple[str, bool, bool], Reader] = {}
        self._plans: dict[tuple[str, bool], list[tuple[str, Reader | None, bool]]] = {}

    # JSON → storage -----------------------------------------------------------------------

    def to_column(self, type_ref: TypeRef, value: Any, path: str) -> Any:
        """A JSON value → the value stored in a column (JSON columns get normalized JSON)."""
        return self.column_converter(type_ref)(value, path)

    def column_converter(self, type_ref: TypeRef) -> Converter:
        """The function ``to_column`` applies for ``type_ref`` (for callers in a hot loop)."""
        key = (type_ref.name, type_ref.collection)
        convert = self._column_converters.get(key)
        if convert is None:
            convert = self._column_converters[key] = self._compile(type_ref, column=True)
        return convert

    def to_json_value(self, type_ref: TypeRef, value: Any, path: str) -> Any:
        """A JSON value → its normalized JSON storage form (used inside JSON columns)."""
        return self._json_converter(type_ref)(value, path)

    def _compile(self, type_ref: TypeRef, *, column: bool) -> Converter:
        """A converter with fast paths for the common cases; all else takes the general path."""
        general = self._column_general if column else self._json_general
        name = type_ref.name
        enum = None if type_ref.collection else self.model.enums.get(name)

        if not type_ref.collection and name == "Edm.String":

            def string(value: Any, path: str) -> Any:
                if value is None or type(value) is str:
                    return value
                return general(type_ref, value, path)

            return string
        if enum is not None and not enum.is_flags:
            members = enum.members
            # the canonical member name for each accepted name (what enum_name returns)
            known = members if column else {m: self.enum_text(name, v) for m, v in members.items()}

            def member(value: Any, path: str) -> Any:
                if type(value) is str:
                    found = known.get(value)
                    if found is not None:
                        return found
                return general(type_ref, value, path)

            return member
        if not type_ref.collection and name == "Edm.DateTimeOffset":

            def instant(value: Any, path: str) -> Any:
                if type(value) is str:
                    try:
                        ticks = parse_datetime(value)
                    except ValueError:
                        return general(type_ref, value, path)  # raises with the path
                    return ticks if column else format_datetime_fixed(ticks)
                return general(type_ref, value, path)

            return instant
        if not type_ref.collection and name in self.model.types:
            struct = self.model.types[name]

            def complex_(value: Any, path: str) -> Any:
                if value is None:
                    return None
                return self.complex_value(struct, value, path)

            return complex_
        if type_ref.collection:
            item_type = TypeRef(name)
            items: list[Converter] = []  # resolved on first use: types can be recursive

            def collection(value: Any, path: str) -> Any:
                if value is None:
                    return None
                if not isinstance(value, list):
                    raise ValueProblem(path, f"expected a JSON array of {name}")
                if not value:
                    return []
                if not items:
                    items.append(self._json_converter(item_type))
                convert = items[0]
                return [convert(item, f"{path}[{index}]") for index, item in enumerate(value)]

            return collection

        def other(value: Any, path: str) -> Any:
            return general(type_ref, value, path)

        return other

    def _column_general(self, type_ref: TypeRef, value: Any, path: str) -> Any:
        if value is None:
            return None
        if type_ref.collection:
            return self.to_json_value(type_ref, value, path)
        name = type_ref.name
        if name == "Edm.DateTimeOffset":
            return self._scalar(parse_datetime, value, path, "a date-time string")
        if name == "Edm.Duration":
            return self._scalar(parse_duration, value, path, "a duration string")
        enum = self.model.enums.get(name)
        if enum is not None:
            return self.enum_value(name, value, path)
        if name in self.model.types:
            return self.to_json_value(type_ref, value, path)
        return self.primitive(name, value, path)

    def _json_general(self, type_ref: TypeRef, value: Any, path: str) -> Any:
        if value is None:
            return None
        if type_ref.collection:
            if not isinstance(value, list):
                raise ValueProblem(path, f"expected a JSON array of {type_ref.name}")
            item_type = TypeRef(type_ref.name)
            return [
                self.to_json_value(item_type, item, f"{path}[{index}]")
                for index, item in enumerate(value)
            ]
        name = type_ref.name
        if name == "Edm.DateTimeOffset":
            return format_datetime_fixed(
                self._scalar(parse_datetime, value, path, "a date-time string")
            )
        if name == "Edm.Duration":
            return format_duration(self._scalar(parse_duration, value, path, "a duration string"))
        enum = self.model.enums.get(name)
        if enum is not None:
            return self.enum_name(name, value, path)
        struct = self.model.types.get(name)
        if struct is not None:
            return self.complex_value(struct, value, path)
        return self.primitive(name, value, path)

    def complex_value(self, struct: StructuredType, value: Any, path: str) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise ValueProblem(path, f"expected a JSON object of type {struct.name}")
        actual = struct
        odata_type = value.get("@odata.type")
        if odata_type is not None:
            known = self._subtypes.setdefault(struct.name, {})
            text = str(odata_type)
            if text in known:
                found = known[text]
            else:
                found = self.model.find_type(text.lstrip("#"))
                if found is not None and not self.model.is_subtype(found.name, struct.name):
                    found = None
                known[text] = found
            if found is None:
                allowed = ", ".join(["#" + struct.name, *("#" + d for d in struct.derived)][:6])
                raise ValueProblem(
                    f"{path}.@odata.type" if path else "@odata.type",
                    f"'{odata_type}' is not {struct.name} or a type derived from it "
                    f"(for example {allowed})",
                )
            actual = found
        if actual.abstract:
            raise ValueProblem(
                path, f"{actual.name} is abstract: give @odata.type naming a derived type"
            )
        result: dict[str, Any] = {}
        if actual.name != struct.name or struct.derived:
            result["@odata.type"] = "#" + actual.name
        members = self._members.get(actual.name)
        if members is None:
            members = self._members[actual.name] = {
                key: (
                    not prop.nullable and not prop.type.collection,
                    self._json_converter(prop.type),
                )
                for key, prop in actual.properties.items()
            }
        prefix = path + "." if path else ""
        for key, item in value.items():
            entry = members.get(key)
            if entry is None:
                if key == "@odata.type":
                    continue
                if actual.open:
                    result[key] = item
                    continue
                if "@" in key:  # instance annotations are allowed and dropped
                    continue
                raise ValueProblem(prefix + key, f"is not a property of {actual.name}")
            if item is None:
                if entry[0]:
                    raise ValueProblem(prefix + key, "cannot be null")
                result[key] = None
                continue
            result[key] = entry[1](item, prefix + key)
        return result

    def _json_converter(self, type_ref: TypeRef) -> Converter:
        key = (type_ref.name, type_ref.collection)
        convert = self._json_converters.get(key)
        if convert is None:
            convert = self._json_converters[key] = self._compile(type_ref, column=False)
        return convert

    def enum_value(self, enum_name: str, value: Any, path: str) -> int:
        enum = self.model.enums[enum_name]
        if not isinstance(value, str):
            raise ValueProblem(path, f"expected a member name of {enum_name} as a string")
        if enum.is_flags:
            total = 0
            for part in value.split(","):
                total |= self._member(enum_name, part.strip(), path)
            return total
        return self._member(enum_name, value, path)

    def enum_name(self, enum_name: str, value: Any, path: str) -> str:
        number = self.enum_value(enum_name, value, path)
        return self.enum_text(enum_name, number)

    def enum_text(self, enum_name: str, number: int, include_evolvable: bool = True) -> str:
        enum = self.model.enums[enum_name]
        if enum.is_flags:
            names = [m for m, v in enum.members.items() if v and number & v == v]
            return ", ".join(names) if names else enum.by_value.get(0, "")
        member = enum.by_value.get(number)
        if member is None:
            return "unknownFutureValue"
        if not include_evolvable and member in enum.evolvable_members:
            return "unknownFutureValue"
        return member

    def _member(self, enum_name: str, member: str, path: str) -> int:
        members = self.model.enums[enum_name].members
        if member in members:
            return members[member]
        allowed = ", ".join(m for m in members)
        raise ValueProblem(path, f"'{member}' is not a member of {enum_name}; allowed: {allowed}")

    def _scalar(self, parse: Any, value: Any, path: str, expected: str) -> Any:
        if not isinstance(value, str):
            raise ValueProblem(path, f"expected {expected}, got {type(value).__name__}")
        try:
            return parse(value)
        except ValueError as exc:
            raise ValueProblem(path, str(exc)) from None

    def primitive(self, name: str, value: Any, path: str) -> Any:
        if name == "Edm.String":
            if not isinstance(value, str):
                raise ValueProblem(path, f"expected a string, got {_json_kind(value)}")
            return value
        if name == "Edm.Boolean":
            if not isinstance(value, bool):
                raise ValueProblem(path, f"expected true or false, got {_json_kind(value)}")
            return value
        if name in INTEGER_RANGES:
            if isinstance(value, bool) or not isinstance(value, int):
                raise ValueProblem(path, f"expected an integer ({name}), got {_json_kind(value)}")
            low, high = INTEGER_RANGES[name]
            if not low <= value <= high:
                raise ValueProblem(path, f"{value} is outside the range of {name}")
            return value
        if name in ("Edm.Double", "Edm.Single", "Edm.Decimal"):
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise ValueProblem(path, f"expected a number, got {_json_kind(value)}")
            return float(value) if name != "Edm.Decimal" else value
        if name == "Edm.Guid":
            if not isinstance(value, str) or not _GUID_RE.match(value):
                raise ValueProblem(
                    path, "expected a GUID string like 00000000-0000-0000-0000-000000000000"
                )
            return str(uuid.UUID(value))
        if name == "Edm.Date":
            return self._scalar(parse_date, value, path, "a date string")
        if name == "Edm.TimeOfDay":
            return self._scalar(parse_time_of_day, value, path, "a time-of-day string")
        if name == "Edm.Binary":
            if not isinstance(value, str):
                raise ValueProblem(path, "expected base64url text")
            return value
        raise ValueProblem(path, f"unsupported type {name}")

    # storage → JSON -----------------------------------------------------------------------

    def from_column(self, type_ref: TypeRef, value: Any, evolvable: bool = True) -> Any:
        return self.column_reader(type_ref, evolvable)(value)

    def column_reader(self, type_ref: TypeRef, evolvable: bool) -> Reader:
        """The function ``from_column`` applies for ``type_ref`` (for callers in a hot loop)."""
        key = (type_ref.name, type_ref.collection, evolvable)
        read = self._column_readers.get(key)
        if read is None:
            read = self._column_readers[key] = self._compile_column_reader(type_ref, evolvable)
        return read

    def _compile_column_reader(self, type_ref: TypeRef, evolvable: bool) -> Reader:
        name = type_ref.name
        if type_ref.collection or name in self.model.types:
            nested = self.reader(type_ref, evolvable)
            if type_ref.collection:
                return lambda value: [] if value is None else nested(value)
            return lambda value: None if value is None else nested(value)
        if name == "Edm.DateTimeOffset":
            return lambda value: None if value is None else format_datetime(int(value))
        if name == "Edm.Duration":
            return lambda value: None if value is None else format_duration(int(value))
        if name in self.model.enums:
            enum_text = self.enum_text
            return lambda value: None if value is None else enum_text(name, int(value), evolvable)
        return _same

    def from_json_value(self, type_ref: TypeRef, value: Any, evolvable: bool = True) -> Any:
        return self.reader(type_ref, evolvable)(value)

    def reader(self, type_ref: TypeRef, evolvable: bool) -> Reader:
        """The function ``from_json_value`` applies for ``type_ref`` (compiled once per type).

        Reading a page of alerts converts thousands of nested evidence values; resolving type
        names and calling into the general function for every plain string dominated its profile.
        """
        key = (type_ref.name, type_ref.collection, evolvable)
        read = self._readers.get(key)
        if read is None:
            read = self._readers[key] = self._compile_reader(type_ref, evolvable)
        return read

    def _compile_reader(self, type_ref: TypeRef, evolvable: bool) -> Reader:
        if type_ref.collection:
            item = self.reader(TypeRef(type_ref.name), evolvable)
            if item is _same:
                return _read_plain_list

            def read_list(value: Any) -> Any:
                return None if value is None else [item(each) for each in value]

            return read_list
        name = type_ref.name
        if name == "Edm.DateTimeOffset":
            return _read_datetime
        enum = self.model.enums.get(name)
        if enum is not None:
            if evolvable:
                return _same
            hidden = enum.evolvable_members

            def read_enum(value: Any) -> Any:
                return "unknownFutureValue" if value is not None and value in hidden else value

            return read_enum
        struct = self.model.types.get(name)
        if struct is None:
            return _same
        types = self.model.types

        def read_struct(value: Any) -> Any:
            if not isinstance(value, dict):
                return value
            actual = struct
            odata_type = value.get("@odata.type")
            if isinstance(odata_type, str):
                actual = types.get(odata_type.lstrip("#"), struct)
            result: dict[str, Any] = {}
            if "@odata.type" in value:
                result["@odata.type"] = value["@odata.type"]
            for key, read, collection in self._struct_plan(actual, evolvable):
                if key in value:
                    result[key] = value[key] if read is None else read(value[key])
                else:
                    result[key] = [] if collection else None
            if actual.open:
                for key, item in value.items():
                    if key not in result:
                        result[key] = item
            return result

        return read_struct

    def _struct_plan(
        self, struct: StructuredType, evolvable: bool
    ) -> list[tuple[str, Reader | None, bool]]:
        """Per property: its name, its reader (None when values pass unchanged), collection."""
        key = (struct.name, evolvable)
        plan = self._plans.get(key)
        if plan is None:
            plan = []
            for name, prop in struct.properties.items():
                read = self.reader(prop.type, evolvable)
                plan.append((name, None if read is _same else read, prop.type.collection))
            self._plans[key] = plan
        return plan


Reader = Callable[[Any], Any]


def _same(value: Any) -> Any:
    return value


def _read_plain_list(value: Any) -> Any:
    return None if value is None else list(value)


def _read_datetime(value: Any) -> Any:
    return output_from_fixed(value) if isinstance(value, str) else value


def _json_kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    return "an object"
