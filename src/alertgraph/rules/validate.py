"""Validate write bodies against the EDM: PATCH property bags and action parameters.

Input: the parsed JSON body and the entity set row (its ``updatable`` list); output: the changes as
normalized Graph JSON. Every problem of a body is collected and reported in one 400 that also lists
what can be updated, so a client fixes its request in one round.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from alertgraph.errors import BadRequest, did_you_mean
from alertgraph.schema.edm import EnumType, StructuredType, TypeRef
from alertgraph.schema.endpoints import EntitySet
from alertgraph.store.codec import ValueProblem
from alertgraph.store.database import Store

#: Enum member names Graph's update pages still list although the CSDL replaced them (spec
#: section 5, row 6), with the member that took their place.
RETIRED_MEMBERS: dict[str, str] = {
    "benignPositive": "informationalExpectedActivity",
    "compromisedUser": "compromisedAccount",
    "clean": "notMalicious",
    "insufficientData": "notEnoughDataToValidate",
    "confirmedUserActivity": "confirmedActivity",
}
PREFER_HEADER = "Prefer: include-unknown-enum-members"


class Problems:
    """The problems found in one request body, reported together as one 400."""

    def __init__(self) -> None:
        self.items: list[tuple[str, str]] = []

    def add(self, target: str, message: str) -> None:
        self.items.append((target, message))

    def __bool__(self) -> bool:
        return bool(self.items)

    def raise_if_any(
        self, *, allowed: Sequence[str] | None = None, allowed_label: str = ""
    ) -> None:
        """Raise one BadRequest naming every problem, and what may be sent instead."""
        if not self.items:
            return
        sentences = [_sentence(target, message) for target, message in self.items]
        count = len(sentences)
        intro = (
            "The request body has a problem: "
            if count == 1
            else (f"The request body has {count} problems: ")
        )
        text = intro + " ".join(sentences)
        if allowed is not None:
            label = allowed_label or "Updatable properties"
            text += f" {label}: {', '.join(allowed) if allowed else 'none'}."
        details = [
            {"code": "BadRequest", "message": _sentence(target, message), "target": target}
            for target, message in self.items
        ]
        raise BadRequest(text, details=details)


def _sentence(target: str, message: str) -> str:
    text = f"{target}: {message}" if target else message
    return text if text.endswith((".", "?")) else text + "."


def require_object(body: Any, what: str) -> dict[str, Any]:
    """The body as a JSON object, or 400 saying what was expected."""
    if body is None:
        raise BadRequest(f"A request body is required: {what}.")
    if not isinstance(body, dict):
        kind = "an array" if isinstance(body, list) else f"a JSON {type(body).__name__}"
        raise BadRequest(f"The request body must be a JSON object ({what}); got {kind}.")
    return body


def enum_problem(enum: EnumType, text: str, *, evolvable: bool) -> str | None:
    """Why ``text`` can't be written to a property of ``enum``, or None when it can."""
    parts = [part.strip() for part in text.split(",")] if enum.is_flags else [text]
    for member in parts:
        if member == "unknownFutureValue":
            return (
                "'unknownFutureValue' is the placeholder Graph sends for members a client does not "
                "know; it can't be written"
            )
        if member in enum.evolvable_members and not evolvable:
            return (
                f"'{member}' is an evolvable member of {enum.name} (declared after "
                f"unknownFutureValue); send the header '{PREFER_HEADER}' to write it"
            )
        if member in enum.members:
            continue
        writable = [
            name
            for name in enum.members
            if name != "unknownFutureValue" and (evolvable or name not in enum.evolvable_members)
        ]
        replacement = RETIRED_MEMBERS.get(member)
        if replacement is not None and replacement in enum.members:
            return (
                f"'{member}' is a retired name that Graph's documentation still lists; "
                f"{enum.name} now calls it '{replacement}'"
            )
        return (
            f"'{member}' is not a member of {enum.name}. Allowed: {', '.join(writable)}."
            + did_you_mean(member, writable)
        )
    return None


def parse_value(store: Store, type_ref: TypeRef, value: Any, path: str, *, evolvable: bool) -> Any:
    """A JSON value → its normalized Graph JSON form; ValueProblem when it doesn't fit."""
    enum = store.model.enums.get(type_ref.name)
    if enum is not None and isinstance(value, str) and not type_ref.collection:
        problem = enum_problem(enum, value, evolvable=evolvable)
        if problem is not None:
            raise ValueProblem(path, problem)
    column = store.codec.to_column(type_ref, value, path)
    return store.codec.from_column(type_ref, column)


def type_name_of(body: Mapping[str, Any]) -> str | None:
    """The body's ``@odata.type`` without the leading '#' (Graph accepts both forms)."""
    value = body.get("@odata.type")
    return value.lstrip("#") if isinstance(value, str) else None


def check_type_annotation(
    body: Mapping[str, Any],
    expected: str,
    problems: Problems,
    *,
    required: bool,
    also: Sequence[str] = (),
) -> None:
    """Check ``@odata.type`` against the entity's runtime type (``also``: other accepted ones)."""
    if "@odata.type" not in body:
        if required:
            problems.add("@odata.type", f"is required and must be '#{expected}'")
        return
    given = type_name_of(body)
    accepted = {name.lower() for name in (expected, *also)}
    if given is None or given.lower() not in accepted:
        problems.add(
            "@odata.type",
            f"'{body.get('@odata.type')}' does not match the entity's type; send '#{expected}'",
        )


def updatable_of(es: EntitySet, struct: StructuredType) -> list[str]:
    """The set's updatable properties that the (runtime) type declares, in the set's order."""
    return [name for name in es.updatable if name in struct.properties]


def validate_patch(
    store: Store,
    es: EntitySet,
    body: Any,
    *,
    evolvable: bool,
    type_name: str | None = None,
    required: Sequence[str] = (),
    require_type: bool = False,
) -> dict[str, Any]:
    """A PATCH body → ``{property: normalized Graph JSON value}``.

    Raises one BadRequest that names every unknown, read-only, mistyped or non-member value, every
    missing required property, and lists the properties that can be updated. ``type_name`` is the
    entity's runtime type (PIM configurations: the derived type, whose properties decide what is
    updatable).
    """
    struct = store.model.types[type_name or es.type_name]
    updatable = updatable_of(es, struct)
    record = require_object(body, "a JSON object with the properties to change")
    problems = Problems()
    check_type_annotation(
        record,
        struct.name,
        problems,
        required=require_type,
        also=() if type_name else (es.type_name,),
    )
    known = store.properties(es.name)
    changes: dict[str, Any] = {}
    for key, value in record.items():
        if key.startswith("@") or "@odata." in key:
            continue  # instance annotations carry no data
        if key not in updatable:
            if key in struct.properties or key in known:
                problems.add(key, f"can't be updated on {struct.name}")
            else:
                hint = did_you_mean(key, [*updatable, *struct.properties])
                problems.add(key, f"is not a property of {struct.name}.{hint}")
            continue
        prop = struct.properties[key]
        if value is None and not prop.nullable and not prop.type.collection:
            problems.add(key, "can't be null")
            continue
        try:
            changes[key] = parse_value(store, prop.type, value, key, evolvable=evolvable)
        except ValueProblem as problem:
            problems.add(problem.path, problem.message)
    for name in required:
        if name not in record:
            problems.add(name, "is required")
    if not problems and not changes:
        problems.add("", "it names no property to change")
    problems.raise_if_any(allowed=updatable)
    return changes


def validate_parameters(
    store: Store,
    action: str,
    body: Any,
    *,
    evolvable: bool,
    required: Sequence[str] = (),
) -> dict[str, Any]:
    """An action's JSON body → ``{parameter: normalized value}``, typed by the CSDL declaration.

    ``action`` is the qualified name (``microsoft.graph.security.moveAlerts``). One 400 names every
    unknown, mistyped or missing parameter and lists the accepted ones.
    """
    declared = next(item for item in store.model.actions if item.name == action)
    short = action.rsplit(".", 1)[1]
    names = list(declared.parameters)
    record = require_object(body, f"the parameters of {short}: {', '.join(names)}")
    problems = Problems()
    values: dict[str, Any] = {}
    for key, value in record.items():
        if key.startswith("@"):
            continue
        parameter = declared.parameters.get(key)
        if parameter is None:
            problems.add(key, f"is not a parameter of {short}." + did_you_mean(key, names))
            continue
        if value is None:
            values[key] = None
            continue
        try:
            values[key] = parse_value(store, parameter.type, value, key, evolvable=evolvable)
        except ValueProblem as problem:
            problems.add(problem.path, problem.message)
    for name in required:
        # a problem with one of its items ("alertIds[0]") already says what is wrong with it
        reported = any(
            target == name or target.startswith((name + "[", name + "/"))
            for target, _ in problems.items
        )
        if values.get(name) in (None, []) and not reported:
            problems.add(name, "is required and can't be empty")
    problems.raise_if_any(allowed=names, allowed_label="Parameters")
    return values


def _unique_members(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    seen: dict[str, Any] = {}
    for name, value in pairs:
        if name in seen:
            raise BadRequest(
                f"The request body gives the member '{name}' twice in one object; send each "
                "property once (OData does not allow repeated names, and which one counts would "
                "be a guess)."
            )
        seen[name] = value
    return seen


def refuse_repeated_members(raw: bytes | str) -> None:
    """400 for a JSON body with an object that repeats a member: orjson keeps the last one
    silently, and a PATCH {"status": "resolved", "status": "new"} would then do what its sender
    may not have meant. A second parse that sees every pair (bodies are small)."""
    try:
        json.loads(raw, object_pairs_hook=_unique_members)
    except RecursionError:  # nesting orjson accepts beyond Python's limit: no member to name
        return
