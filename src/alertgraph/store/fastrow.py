"""A compiled fast path for :meth:`Store.to_row`, used by bulk import.

Each structured type of the CSDL is compiled once into a plan (per member: a kind and what it
needs), and records are checked against the plan without building error paths or calling a
converter per string, enum member or date-time. The result is the row ``to_row`` returns, to the
byte once serialized. Anything the plan does not cover, and anything invalid, makes it answer
:data:`FALLBACK` (``None`` for a whole row) and the caller asks ``to_row``, which converts rare
forms and names problems.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date
from typing import Any, Final

from alertgraph.schema.edm import Model, StructuredType, TypeRef
from alertgraph.schema.endpoints import EntitySet
from alertgraph.store.codec import Codec, ValueProblem, parse_datetime
from alertgraph.store.database import STORED_JSON, TYPE, Store

FALLBACK: Final = object()

# member kinds
_STR, _ENUM, _INSTANT, _COMPLEX, _COLLECTION, _OTHER = range(6)

_UTC = re.compile(
    r"([0-9]{4}-[0-9]{2}-[0-9]{2})T([0-9]{2}):([0-9]{2}):([0-9]{2})(?:\.([0-9]{1,7}))?Z", re.ASCII
)
_VALID_DAYS: dict[str, bool] = {}

Entry = tuple[int, Any, bool]  # kind, payload, null refused


def _fixed_instant(text: str) -> Any:
    """UTC text → the fixed-width storage text (what format_datetime_fixed(parse_datetime(...))
    gives), or FALLBACK for any other form."""
    match = _UTC.fullmatch(text)
    if match is None:
        return FALLBACK
    day, hh, mm, ss, fraction = match.groups()
    valid = _VALID_DAYS.get(day)
    if valid is None:
        try:
            valid = date(int(day[:4]), int(day[5:7]), int(day[8:10])) is not None
        except ValueError:
            valid = False
        if len(_VALID_DAYS) < 100_000:
            _VALID_DAYS[day] = valid
    if not valid or hh > "23" or mm > "59" or ss > "59":
        return FALLBACK
    return f"{day}T{hh}:{mm}:{ss}.{(fraction or '').ljust(7, '0')}Z"


class FastRows:
    """Compiled plans for the types of one model; :meth:`row` mirrors ``Store.to_row``."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.model: Model = store.model
        self.codec: Codec = store.codec
        self._plans: dict[tuple[str, bool], dict[str, Entry]] = {}
        self._subtypes: dict[tuple[str, str], StructuredType | None] = {}

    # --- plans ------------------------------------------------------------------------------

    def _entry(self, type_ref: TypeRef, column: bool, nullable: bool) -> Entry:
        name = type_ref.name
        refused = not nullable and not type_ref.collection
        if type_ref.collection:
            item = self._entry(TypeRef(name), False, True)
            return (_COLLECTION, item, refused)
        enum = self.model.enums.get(name)
        if name == "Edm.String":
            return (_STR, None, refused)
        if enum is not None and not enum.is_flags:
            if column:
                return (_ENUM, dict(enum.members), refused)
            names = {m: self.codec.enum_text(name, v) for m, v in enum.members.items()}
            return (_ENUM, names, refused)
        if name == "Edm.DateTimeOffset":
            return (_INSTANT, column, refused)
        if name in self.model.types:
            return (_COMPLEX, self.model.types[name], refused)
        if column:
            convert = self.codec.column_converter(type_ref)
        else:
            convert = self.codec._json_converter(type_ref)
        return (_OTHER, convert, refused)

    def _plan(self, struct: StructuredType, column: bool) -> dict[str, Entry]:
        key = (struct.name, column)
        plan = self._plans.get(key)
        if plan is None:
            plan = self._plans[key] = {
                name: self._entry(prop.type, column, prop.nullable)
                for name, prop in struct.properties.items()
            }
        return plan

    def _subtype(self, struct: StructuredType, text: Any) -> StructuredType | None:
        key = (struct.name, str(text))
        if key not in self._subtypes:
            found = self.model.find_type(str(text).lstrip("#"))
            if found is not None and not self.model.is_subtype(found.name, struct.name):
                found = None
            self._subtypes[key] = found
        return self._subtypes[key]

    # --- conversion -------------------------------------------------------------------------

    def row(self, entity_set: EntitySet, record: dict[str, Any]) -> dict[str, Any] | None:
        """The row ``to_row`` would return for ``record`` (its ``_json`` included), or None: ask
        ``to_row``."""
        struct = self.store.model.types[entity_set.type_name]
        actual = struct
        odata_type = record.get("@odata.type")
        if odata_type is not None:
            found = self._subtype(struct, odata_type)
            if found is None:
                return None
            actual = found
        if actual.abstract:
            return None
        record_id = record.get("id")
        if type(record_id) is not str or not record_id:
            return None
        row: dict[str, Any] = {}
        if struct.derived:
            row[TYPE] = actual.name
        plan = self._plan(actual, True)
        value = self._members(plan, record, row, actual, True)
        if value is FALLBACK:
            return None
        row[STORED_JSON] = self.store.stored_json(entity_set, row, stored=False)
        return row

    def _members(
        self,
        plan: dict[str, Entry],
        source: dict[str, Any],
        result: dict[str, Any],
        actual: StructuredType,
        column: bool,
    ) -> Any:
        convert = self._value
        for key, item in source.items():
            entry = plan.get(key)
            if entry is None:
                # the same order of rules as Store.to_row and Codec.complex_value
                if column:
                    if key.startswith("@") or "@odata." in key:
                        continue
                    return FALLBACK
                if key == "@odata.type":
                    continue
                if actual.open:
                    result[key] = item
                    continue
                if "@" in key:
                    continue
                return FALLBACK
            kind, payload, refused = entry
            if item is None:
                if refused:
                    return FALLBACK
                result[key] = None
            elif kind == _STR:
                if type(item) is not str:
                    return FALLBACK
                result[key] = item
            elif kind == _ENUM:
                found = payload.get(item) if type(item) is str else None
                if found is None:
                    return FALLBACK
                result[key] = found
            elif kind == _INSTANT and type(item) is str and not payload:
                converted = _fixed_instant(item)
                if converted is FALLBACK:
                    return FALLBACK
                result[key] = converted
            else:
                converted = convert(kind, payload, item)
                if converted is FALLBACK:
                    return FALLBACK
                result[key] = converted
        return result

    def _value(self, kind: int, payload: Any, item: Any) -> Any:
        if kind == _INSTANT:
            if type(item) is not str:
                return FALLBACK
            if payload:  # a column: ticks
                try:
                    return parse_datetime(item)
                except ValueError:
                    return FALLBACK
            return _fixed_instant(item)
        if kind == _COMPLEX:
            return self._complex(payload, item)
        if kind == _COLLECTION:
            if type(item) is not list:
                return FALLBACK
            item_kind, item_payload, _ = payload
            out: list[Any] = []
            append = out.append
            for element in item:
                if element is None:
                    return FALLBACK
                if item_kind == _STR:
                    if type(element) is not str:
                        return FALLBACK
                    append(element)
                    continue
                if item_kind == _ENUM:
                    found = item_payload.get(element) if type(element) is str else None
                    if found is None:
                        return FALLBACK
                    append(found)
                    continue
                if item_kind == _COMPLEX:
                    converted = self._complex(item_payload, element)
                else:
                    converted = self._value(item_kind, item_payload, element)
                if converted is FALLBACK:
                    return FALLBACK
                append(converted)
            return out
        convert: Callable[[Any, str], Any] = payload
        try:
            return convert(item, "")
        except ValueProblem:
            return FALLBACK

    def _complex(self, struct: StructuredType, value: Any) -> Any:
        if type(value) is not dict:
            return FALLBACK
        actual = struct
        odata_type = value.get("@odata.type")
        if odata_type is not None:
            found = self._subtype(struct, odata_type)
            if found is None:
                return FALLBACK
            actual = found
        if actual.abstract:
            return FALLBACK
        result: dict[str, Any] = {}
        if actual.name != struct.name or struct.derived:
            result["@odata.type"] = "#" + actual.name
        return self._members(self._plan(actual, False), value, result, actual, False)
