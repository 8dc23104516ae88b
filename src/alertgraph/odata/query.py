"""Bind all query options of a request into one frozen Query (with a small cache).

Uses parser.py for syntax and bind.py for names and types; read.py executes the result. Limits
that depend on the entity set ($top maximum, allowed $expand navigations, the PIM scope filter)
are checked here.
"""

from __future__ import annotations

import dataclasses
import functools
from dataclasses import dataclass

from alertgraph.errors import ODataError
from alertgraph.odata import nodes as n
from alertgraph.odata import parser as p
from alertgraph.odata.bind import Binder
from alertgraph.odata.limits import QueryLimits
from alertgraph.odata.names import did_you_mean, lookup
from alertgraph.odata.options import parse_bool, parse_int
from alertgraph.schema.edm import Property, load_model
from alertgraph.schema.endpoints import BY_NAME, EntitySet, Navigation

SCOPE_FILTER = "scopeId eq '/' and scopeType eq 'DirectoryRole'"


@n.quick_init  # built per request: see nodes.quick_init
@dataclass(frozen=True, slots=True)
class OrderKey:
    value: n.Value
    descending: bool


@n.quick_init  # built per request: see nodes.quick_init
@dataclass(frozen=True, slots=True)
class Expand:
    navigation: Navigation
    query: Query


@n.quick_init  # built per request: see nodes.quick_init
@dataclass(frozen=True, slots=True)
class Query:
    set_name: str
    filter: n.Pred | None
    scope_sets: tuple[str, ...]  # entity set of each binding scope (0: this set)
    orderby: tuple[OrderKey, ...]  # as requested; read.py adds the default order and the key
    select: tuple[tuple[str, ...], ...] | None  # None: every property
    expand: tuple[Expand, ...]
    top: int | None
    skip: int | None
    count: bool

    @property
    def entity_set(self) -> EntitySet:
        return BY_NAME[self.set_name]


#: options that shape a query (the cache key); $skiptoken and $count-irrelevant options excluded
QUERY_OPTIONS = ("$filter", "$orderby", "$select", "$expand", "$top", "$skip", "$count")


def bind_query(
    entity_set: EntitySet,
    values: dict[str, str],
    *,
    limits: QueryLimits | None = None,
) -> Query:
    """Parse and bind every query-shaping option; results are cached by their text."""
    key = tuple(values.get(name) for name in QUERY_OPTIONS)
    # parameter aliases (@name, kept by options.py) are part of what the expressions mean
    aliases = tuple(sorted((k, v) for k, v in values.items() if k.startswith("@")))
    return _bind_cached(entity_set.name, key, limits or QueryLimits(), aliases)


@functools.lru_cache(maxsize=512)
def _bind_cached(
    set_name: str,
    key: tuple[str | None, ...],
    limits: QueryLimits,
    aliases: tuple[tuple[str, str], ...] = (),
) -> Query:
    values = {
        name: value for name, value in zip(QUERY_OPTIONS, key, strict=True) if value is not None
    }
    values.update(aliases)
    return _bind(BY_NAME[set_name], values, limits, depth=0)


def _bind(
    entity_set: EntitySet,
    values: dict[str, str],
    limits: QueryLimits,
    *,
    depth: int,
    prefix: str = "",
) -> Query:
    model = load_model()
    if limits.max_top != entity_set.max_top or limits.page_size != entity_set.page_size:
        limits = _for_set(limits, entity_set.max_top, entity_set.page_size)  # hashes the limits
    binder = Binder(model, entity_set, prefix + "$filter", strict=limits.strict_graph)
    bound_filter: n.Pred | None = None
    aliases = {k: v for k, v in values.items() if k.startswith("@")}
    if "$filter" in values:
        syntax = p.parse_expression(values["$filter"], prefix + "$filter", limits, aliases)
        bound_filter = binder.predicate(syntax)
    orderby: list[OrderKey] = []
    if "$orderby" in values:
        binder.option = prefix + "$orderby"
        for item in p.parse_orderby(values["$orderby"], limits, aliases):
            value = binder.value(item.expr)
            if value.type.collection or value.type.structured:
                raise ODataError(
                    f"cannot order by a value of type {value.type.kind}"
                    + (" collection" if value.type.collection else "")
                    + "; order by primitive properties",
                    option=prefix + "$orderby",
                    position=item.expr.pos,
                )
            if not n.reads_row(value):
                raise ODataError(
                    "cannot order by a value that is the same for every item (such as null, a "
                    "literal or now()); order by properties",
                    option=prefix + "$orderby",
                    position=item.expr.pos,
                )
            orderby.append(OrderKey(value, item.descending))
    top = skip = None
    if "$top" in values:
        # $top=0 is an empty page (with $count=true, just the count)
        top = parse_int(prefix + "$top", values["$top"], low=0, high=limits.max_top)
    if "$skip" in values:
        skip = parse_int(prefix + "$skip", values["$skip"], low=0, high=limits.max_skip)
    count = parse_bool(prefix + "$count", values["$count"]) if "$count" in values else False
    select = _select(entity_set, values["$select"], prefix) if "$select" in values else None
    expand: tuple[Expand, ...] = ()
    if "$expand" in values:
        expand = _expand(entity_set, values["$expand"], limits, depth, prefix)
    return Query(
        entity_set.name,
        bound_filter,
        tuple(binder.scopes),
        tuple(orderby),
        select,
        expand,
        top,
        skip,
        count,
    )


@functools.lru_cache(maxsize=64)
def _for_set(limits: QueryLimits, max_top: int, page_size: int) -> QueryLimits:
    """``QueryLimits.for_set`` remembered: it copies the limits for most sets, on every request."""
    if (limits.max_top, limits.page_size) == (max_top, page_size):
        return limits
    return dataclasses.replace(limits, max_top=max_top, page_size=page_size)


@functools.lru_cache(maxsize=64)
def _all_properties(type_name: str) -> dict[str, Property]:
    """The shipped model's merged property map of a type (read only; built once per type)."""
    return load_model().all_properties(type_name)


def _select(entity_set: EntitySet, text: str, prefix: str) -> tuple[tuple[str, ...], ...] | None:
    option = prefix + "$select"
    model = load_model()
    struct = model.types[entity_set.type_name]
    properties = _all_properties(entity_set.type_name)
    paths: list[tuple[str, ...]] = []
    for item in p.parse_select(text, option=option):
        if item.path == ("*",):
            return None
        first = item.path[0]
        if "." in first or (len(item.path) > 1 and any("." in part for part in item.path)):
            raise ODataError(
                "type-cast segments in $select are not supported; select the property by name",
                option=option,
                position=item.pos,
            )
        name = lookup(first, properties)
        if name is None:
            if lookup(first, struct.navigation) is not None:
                raise ODataError(
                    f"'{first}' is a navigation property; use $expand={first} to include it",
                    option=option,
                    position=item.pos,
                )
            raise ODataError(
                f"'{first}' is not a property of {struct.name}." + did_you_mean(first, properties),
                option=option,
                position=item.pos,
            )
        path = [name]
        type_name = properties[name].type.name
        for segment in item.path[1:]:
            # a member of a complex property, or of each item of a complex collection (the
            # selectPath rule admits both)
            child = model.types.get(type_name)
            if child is None:
                raise ODataError(
                    f"'{'/'.join(path)}' is {type_name}; it has no member '{segment}'",
                    option=option,
                    position=item.pos,
                )
            member = lookup(segment, child.properties)
            if member is None:
                raise ODataError(
                    f"'{segment}' is not a property of {child.name}."
                    + did_you_mean(segment, child.properties),
                    option=option,
                    position=item.pos,
                )
            path.append(member)
            type_name = child.properties[member].type.name
        selected = tuple(path)
        if selected not in paths:
            paths.append(selected)
    return tuple(paths)


_NESTED_ALLOWED = ("$select", "$filter", "$expand", "$top", "$skip", "$orderby", "$count")


def _expand(
    entity_set: EntitySet, text: str, limits: QueryLimits, depth: int, prefix: str
) -> tuple[Expand, ...]:
    option = prefix + "$expand"
    if depth >= limits.max_expand_depth:
        raise ODataError(
            f"$expand nests deeper than {limits.max_expand_depth} levels",
            option=option,
            position=0,
        )
    navigations = {nav.name: nav for nav in entity_set.navigations}
    result: list[Expand] = []
    seen: set[str] = set()
    items = p.parse_expand(text, option=option)
    named = {lookup(item.path[0], navigations) for item in items if item.path != ("*",)}
    # explicit items first, so "*" adds only the navigations not named on their own
    for item in sorted(items, key=lambda item: item.path == ("*",)):
        if item.path == ("*",):
            chosen = [nav for name, nav in navigations.items() if name not in named]
        else:
            if len(item.path) != 1:
                raise ODataError(
                    "expand one navigation property per item; nest further ones with "
                    "$expand=a($expand=b)",
                    option=option,
                    position=item.pos,
                )
            name = lookup(item.path[0], navigations)
            if name is None:
                allowed = ", ".join(navigations) or "none"
                raise ODataError(
                    f"'{item.path[0]}' is not a navigation property of {entity_set.path} that "
                    f"can be expanded.{did_you_mean(item.path[0], navigations)} "
                    f"Expandable: {allowed}",
                    option=option,
                    position=item.pos,
                )
            chosen = [navigations[name]]
        nested: dict[str, str] = {}
        offsets = {name: pos for name, _value, pos in item.options}
        for name, value, _pos in item.options:
            if name not in _NESTED_ALLOWED:
                raise ODataError(
                    f"'{name}' is not allowed inside $expand; allowed: "
                    f"{', '.join(_NESTED_ALLOWED)}",
                    option=option,
                    position=_pos,
                )
            if name in nested:
                raise ODataError(
                    f"'{name}' is given twice inside $expand", option=option, position=_pos
                )
            nested[name] = value
        for navigation in chosen:
            if navigation.name in seen:
                raise ODataError(
                    f"'{navigation.name}' is expanded twice", option=option, position=item.pos
                )
            seen.add(navigation.name)
            target = BY_NAME[navigation.target]
            prefix_text = f"{option}({navigation.name})/"
            try:
                inner = _bind(target, nested, limits, depth=depth + 1, prefix=prefix_text)
            except ODataError as error:
                raise _in_expand(error, option, prefix_text, offsets) from None
            result.append(Expand(navigation, inner))
    return tuple(result)


def _in_expand(error: ODataError, option: str, prefix: str, offsets: dict[str, int]) -> ODataError:
    """An error inside a nested option, re-positioned within the outer $expand value."""
    inner_option = error.option or ""
    if not inner_option.startswith(prefix):
        return error
    nested = inner_option[len(prefix) :]
    name = nested.split("(", 1)[0]
    position = None
    if error.position is not None and name in offsets:
        position = offsets[name] + error.position
    navigation = prefix[len(option) + 1 : -2]
    return ODataError(
        f"in {name} of {navigation}: {error.detail}", option=option, position=position
    )


def check_scope_filter(query: Query) -> None:
    """PIM lists demand ``scopeId eq '/' and scopeType eq 'DirectoryRole'`` as top-level conjuncts
    (Graph answers 400 otherwise)."""
    found = {"scopeId": False, "scopeType": False}
    expected = {"scopeId": "/", "scopeType": "DirectoryRole"}
    stack = [query.filter] if query.filter is not None else []
    while stack:
        pred = stack.pop()
        if isinstance(pred, n.Logic) and pred.op == "and":
            stack += [pred.left, pred.right]
        elif isinstance(pred, n.Compare) and pred.op == "eq":
            for a, b in ((pred.left, pred.right), (pred.right, pred.left)):
                if (
                    isinstance(a, n.Prop)
                    and a.scope == 0
                    and a.column in expected
                    and isinstance(b, n.Lit)
                    and b.value == expected[a.column]
                ):
                    found[a.column] = True
    if not all(found.values()):
        missing = " and ".join(
            f"{name} eq '{value}'" for name, value in expected.items() if not found[name]
        )
        raise ODataError(
            f"this collection must be filtered by scope: add {missing} to $filter, as in "
            f"$filter={SCOPE_FILTER} (the only scope Graph supports)",
            option="$filter",
        )
