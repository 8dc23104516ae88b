"""Resolve a request path to what it addresses: a collection, an entity, a count, an action...

Works on the raw (still percent-encoded) path so that ``%2F`` inside a key is not a separator, as
the official SDKs encode ids. Keys are accepted as ``/alerts/{id}`` and ``/alerts('{id}')`` (Graph
uses both). Action segments are accepted with or without their namespace. Every segment but a
key is matched case-insensitively, as Graph does (``/V1.0/Security/Alerts_V2/$Count``); the
Target always carries the canonical spelling, so context URLs and nextLinks do too.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal
from urllib.parse import unquote

from alertgraph.errors import BadRequest, NotFound
from alertgraph.schema.endpoints import CONTAINERS, ENTITY_SETS, Container, EntitySet, entity_set

VERSIONS = ("beta", "v1.0")
_BAD_PERCENT = re.compile(r"%(?![0-9A-Fa-f]{2}).{0,2}", re.DOTALL)

TargetKind = Literal[
    "collection",
    "count",
    "entity",
    "comments",
    "action",
    "navigation",
    "metadata",
    "service",
    "batch",
    "container",
]

ACTION_NAMESPACES = ("microsoft.graph.security.", "microsoft.graph.")


@dataclass(frozen=True, slots=True)
class Target:
    kind: TargetKind
    version: str
    entity_set: EntitySet | None = None
    key: str | None = None
    parent_key: str | None = None
    action: str | None = None
    #: for kind "navigation": the navigation property followed from ``entity_set``/``key``
    navigation: str | None = None
    #: for kind "navigation" on a collection: the key of one related entity
    nav_key: str | None = None
    #: the collection path as addressed, for context URLs and nextLinks (keys in parentheses)
    path: str = ""
    #: for kind "container": the singleton container addressed (``security/partner``)
    container: Container | None = None


def _split_key(segment: str) -> tuple[str, str | None]:
    """``alerts('a''b')`` → ("alerts", "a'b"); ``alerts`` → ("alerts", None). Decodes once."""
    if segment.endswith(")") and "(" in segment:
        name, _, inner = segment.partition("(")
        inner = unquote(inner[:-1])
        if len(inner) >= 2 and inner[0] == "'" and inner[-1] == "'":
            inner = inner[1:-1].replace("''", "'")
        return unquote(name), inner
    return unquote(segment), None


def _action_name(segment: str, allowed: tuple[str, ...]) -> str | None:
    lowered = segment.lower()
    for name in allowed:
        if any(lowered == (ns + name).lower() for ns in ("", *ACTION_NAMESPACES)):
            return name
    return None


def _same(segment: str, name: str) -> bool:
    """Graph matches path segments (not keys) case-insensitively."""
    return segment.lower() == name.lower()


def version_of(segment: str) -> str | None:
    """The canonical version for a first path segment (``V1.0`` → ``v1.0``), or None."""
    for version in VERSIONS:
        if _same(segment, version):
            return version
    return None


def quote_key(key: str) -> str:
    """A key as it appears inside parentheses in context URLs and nextLinks."""
    return "'" + key.replace("'", "''") + "'"


def resolve(raw_path: str) -> Target:
    """Map a raw request path (``/beta/security/alerts_v2/abc``) to a :class:`Target`.

    Raises NotFound for paths that address nothing Graph serves here, BadRequest for a path
    with a '%' that does not start a percent-encoded byte (nothing could be addressed by it).
    """
    bad = _BAD_PERCENT.search(raw_path)
    if bad is not None:
        raise BadRequest(
            f"The path has an invalid percent-encoding '{bad.group()}' at character "
            f"{bad.start() + 1}; a '%' must be followed by two hexadecimal digits (write '%25' "
            "for a literal '%')."
        )
    raw_segments = [segment for segment in raw_path.split("/") if segment != ""]
    version = version_of(raw_segments[0]) if raw_segments else None
    if version is None:
        raise NotFound(
            f"Resource not found for the path '{unquote(raw_path)}'. "
            "Paths start with /beta or /v1.0, for example /beta/security/alerts_v2.",
            code="NotFound",
        )
    rest = raw_segments[1:]
    if len(rest) == 1 and _same(unquote(rest[0]), "$metadata"):
        return Target("metadata", version)
    if len(rest) == 1 and _same(unquote(rest[0]), "$batch"):
        return Target("batch", version)
    if not rest:
        return Target("service", version)
    names = [unquote(segment) for segment in rest]
    for container in CONTAINERS:
        if (
            version in container.versions
            and len(names) == len(container.segments)
            and all(map(_same, names, container.segments))
        ):
            return Target("container", version, path=container.path, container=container)

    # Find the longest entity-set path that prefixes the request, where the segment right after
    # a set may carry its key in parentheses. Only sets whose path starts with the request's
    # first segment can match.
    lowered = [name.lower() for name in names]
    for candidate, set_segments in _TOP_SETS_BY_FIRST.get(_split_key(rest[0])[0].lower(), ()):
        if version not in candidate.versions:
            continue
        count = len(set_segments)
        if len(rest) < count:
            continue
        last_name, paren_key = _split_key(rest[count - 1])
        if [*lowered[: count - 1], last_name.lower()] != set_segments:
            continue
        return _below_set(version, candidate, paren_key, rest[count:])
    raise NotFound(
        f"Resource not found for the segment '{unquote(rest[-1])}' in '/{'/'.join(rest)}'.",
        code="NotFound",
    )


#: the sets addressed from a service root, each with its path's segments, longest path first
_TOP_SETS_LONGEST_FIRST = [
    (candidate, candidate.path.split("/"))
    for candidate in sorted(ENTITY_SETS, key=lambda s: -len(s.path))
    if candidate.parent is None
]

#: the same, by the first segment of their path, with the segments lowered (still longest first)
_TOP_SETS_BY_FIRST: dict[str, list[tuple[EntitySet, list[str]]]] = {}
for _candidate, _segments in _TOP_SETS_LONGEST_FIRST:
    _TOP_SETS_BY_FIRST.setdefault(_segments[0].lower(), []).append(
        (_candidate, [segment.lower() for segment in _segments])
    )


def _below_set(version: str, es: EntitySet, paren_key: str | None, rest: list[str]) -> Target:
    path = es.path
    key = paren_key
    if key is None:
        if not rest:
            return Target("collection", version, es, path=path)
        first = unquote(rest[0])
        if _same(first, "$count") and len(rest) == 1:
            return Target("count", version, es, path=path)
        action = _action_name(first, es.actions(on_collection=True))
        if action is not None and len(rest) == 1:
            return Target("action", version, es, action=action, path=path)
        key = first
        rest = rest[1:]
    entity_path = f"{path}({quote_key(key)})"
    if not rest:
        return Target("entity", version, es, key=key, path=path)
    name, sub_key = _split_key(rest[0])
    tail = rest[1:]
    if _same(name, "comments") and es.has_comments and sub_key is None:
        if not tail:
            return Target("comments", version, es, key=key, path=entity_path + "/comments")
        if len(tail) == 1 and _same(unquote(tail[0]), "$count"):
            return Target(
                "count",
                version,
                es,
                key=key,
                navigation="comments",
                path=entity_path + "/comments",
            )
    action = _action_name(name, es.actions(on_collection=False))
    if action is not None and sub_key is None and not tail:
        return Target("action", version, es, key=key, action=action, path=entity_path)
    nav = next((nav for nav in es.navigations if _same(name, nav.name)), None)
    if nav is None:
        raise NotFound(
            f"Resource not found for the segment '{name}' below {es.path}/{{id}}.", code="NotFound"
        )
    target = entity_set(nav.target)
    if target.parent == es.name:  # contained collection, e.g. alertIncidents
        nav_path = f"{entity_path}/{nav.name}"
        if sub_key is None and not tail:
            return Target("collection", version, target, parent_key=key, path=nav_path)
        if sub_key is None:
            sub_key = unquote(tail[0])
            tail = tail[1:]
            if _same(sub_key, "$count") and not tail:
                return Target("count", version, target, parent_key=key, path=nav_path)
        if not tail:
            return Target("entity", version, target, key=sub_key, parent_key=key, path=nav_path)
        action = _action_name(unquote(tail[0]), target.actions(on_collection=False))
        if action is not None and len(tail) == 1:
            return Target(
                "action",
                version,
                target,
                key=sub_key,
                parent_key=key,
                action=action,
                path=nav_path,
            )
        raise NotFound(f"Resource not found for the segment '{unquote(tail[0])}'.", code="NotFound")
    if sub_key is not None or tail:
        counted = len(tail) == 1 and _same(unquote(tail[0]), "$count")
        if nav.collection and counted and sub_key is None:
            return Target(
                "count",
                version,
                es,
                key=key,
                navigation=nav.name,
                path=f"{entity_path}/{nav.name}",
            )
        if nav.collection and (sub_key is not None) != bool(tail) and len(tail) <= 1:
            related_key = sub_key if sub_key is not None else unquote(tail[0])
            return Target(
                "navigation",
                version,
                es,
                key=key,
                navigation=nav.name,
                nav_key=related_key,
                path=f"{entity_path}/{nav.name}",
            )
        raise BadRequest(
            f"Navigation '{nav.name}' can only be read as a whole here; "
            f"use {target.path}/{{id}} to address one item."
        )
    return Target(
        "navigation", version, es, key=key, navigation=nav.name, path=f"{entity_path}/{nav.name}"
    )
