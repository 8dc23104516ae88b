"""Answer /v1.0 in v1.0's shape: refuse what v1.0 lacks, drop beta-only members from replies.

Sits around the handlers (app.py calls ``check_path`` with routing, ``check_request`` before and
``shape_reply`` after them), so the read path itself stays version-blind; schema/versions.py says
what v1.0 has.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import unquote_plus

from alertgraph.errors import BadRequest, NotFound
from alertgraph.http.call import Reply
from alertgraph.http.routing import Target
from alertgraph.schema import versions
from alertgraph.schema.endpoints import EntitySet, entity_set

#: options whose text names properties
_NAMING_OPTIONS = ("$select", "$filter", "$orderby", "$expand")
_STRING_LITERAL = re.compile(r"'(?:[^']|'')*'")
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def _entity_set_of(target: Target) -> EntitySet | None:
    es = target.entity_set
    if es is None:
        return None
    if target.kind == "navigation" and target.navigation is not None:
        nav = es.navigation(target.navigation)
        return entity_set(nav.target) if nav is not None else es
    return es


def check_path(target: Target) -> None:
    """404 for a /v1.0 path that names a beta-only action, whatever the method (the segment does
    not exist there: a 405 would say it does)."""
    if target.version != versions.V1 or target.kind != "action" or target.entity_set is None:
        return
    if target.action not in versions.action_names(versions.V1):
        # createAlert is documented for beta only; v1.0 routes no such segment
        raise NotFound(
            f"Resource not found for the segment '{target.action}': it is a beta action; "
            f"send it to /beta/{target.path}/{target.action}.",
            code="NotFound",
        )


def check_request(target: Target, method: str, raw_query: str) -> None:
    """400 for a /v1.0 request that uses what only /beta has, as Graph's v1.0 model would
    (after :func:`check_path`, which app.py runs with path resolution)."""
    if target.version != versions.V1:
        return
    es = _entity_set_of(target)
    if es is None:
        return
    if target.kind == "collection" and method == "POST":
        # v1.0's alert type has no derived manualAlert: there is nothing to create from
        raise BadRequest(
            "A type named 'microsoft.graph.security.manualAlert' could not be resolved by the "
            f"v1.0 model: creating alerts is a beta API. Send it to /beta/{es.path}."
        )
    if target.kind not in ("collection", "entity", "navigation", "count"):
        return
    beta_only = versions.beta_only_members(es.type_name)
    if not beta_only:
        return
    for part in raw_query.split("&"):
        name, _, value = part.partition("=")
        option = unquote_plus(name).strip().lower()
        if option not in _NAMING_OPTIONS:  # v1.0 has no $-less option names
            continue
        text = _STRING_LITERAL.sub("''", unquote_plus(value))
        for word in _IDENTIFIER.findall(text):
            if word.lower() in beta_only:
                short = es.type_name.rsplit(".", 1)[1]
                raise BadRequest(
                    f"Could not find a property named '{word}' on type "
                    f"'{es.type_name}' in {option}: '{word}' is a beta-only property of "
                    f"{short}; use /beta to read it."
                )


def shape_reply(target: Target, reply: Reply) -> Reply:
    """Drop members v1.0's types do not have from entity bodies answered under /v1.0."""
    if target.version != versions.V1 or reply.kind != "json":
        return reply
    if target.kind not in ("collection", "entity", "navigation") or not isinstance(
        reply.body, dict
    ):
        return reply
    es = _entity_set_of(target)
    if es is None:
        return reply
    items = reply.body.get("value") if "value" in reply.body else [reply.body]
    if isinstance(items, list):
        for item in items:
            if isinstance(item, dict):
                _to_v1(item, es)
    return reply


def _to_v1(entity: dict[str, Any], es: EntitySet) -> None:
    if not versions.beta_only_members(es.type_name) and not _foreign_type(entity):
        return
    allowed = versions.member_names(versions.V1, es.type_name)
    if _foreign_type(entity):
        entity["@odata.type"] = "#" + es.type_name  # e.g. a manual alert is a plain alert on v1.0
    for name in list(entity):
        base = name.split("@", 1)[0]
        if base and base not in allowed:
            del entity[name]
    for nav in es.navigations:
        related = entity.get(nav.name)
        for item in related if isinstance(related, list) else [related]:
            if isinstance(item, dict):
                _to_v1(item, entity_set(nav.target))


def _foreign_type(entity: dict[str, Any]) -> bool:
    odata_type = entity.get("@odata.type")
    if not isinstance(odata_type, str):
        return False
    return not versions.has_type(versions.V1, odata_type.lstrip("#"))
