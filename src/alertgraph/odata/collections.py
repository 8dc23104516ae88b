"""Binding of collection paths: any()/all(), ``x in tags``, ``$count``, and type-cast segments
that keep one derived type of a complex collection. Mixed into bind.Binder (like FunctionBinder);
its LambdaPred and Count nodes become EXISTS and COUNT subqueries in sql.py.
"""

from __future__ import annotations

from alertgraph.errors import ODataError
from alertgraph.odata import nodes as n
from alertgraph.odata import parser as p
from alertgraph.odata.names import MEMO_SIZE, Memo, describe, lookup
from alertgraph.schema.edm import Model, StructuredType
from alertgraph.schema.endpoints import BY_NAME, EntitySet, Navigation

#: what a JSON collection in a path binds to
JsonSource = n.Prop | n.JsonPath | n.Var
COUNT_T = n.VType(n.INT, nullable=False)


class CollectionBinder:
    """The collection part of bind.Binder (which provides the attributes declared here)."""

    model: Model
    memo: Memo
    entity_set: EntitySet
    scopes: list[str]
    variables: dict[str, n.Var]
    entity_variables: dict[str, int]
    lambda_depth: int

    def error(self, message: str, pos: int) -> ODataError:
        raise NotImplementedError

    def predicate(self, expr: p.Expr) -> n.Pred:
        raise NotImplementedError

    def path(self, expr: p.Path, *, allow_collection: bool = False) -> n.Value:
        raise NotImplementedError

    def resolve_type(
        self, name: str, declared: StructuredType, pos: int, *, primitive_ok: bool
    ) -> StructuredType:
        raise NotImplementedError

    def subtypes(self, struct: StructuredType) -> tuple[str, ...]:
        raise NotImplementedError

    def in_collection(self, expr: p.In, source: p.Path) -> n.Pred:
        """``x in tags``: true when an item equals x (5.1.1.1.11), i.e. tags/any(v: v eq x)."""
        variable = f"$in{len(self.variables)}"
        item = p.Path((variable,), source.pos)
        return self.lambda_(
            p.Lambda(source, "any", variable, p.Binary("eq", item, expr.left, expr.pos), expr.pos)
        )

    def collection_source(
        self, path: p.Path, what: str, pos: int
    ) -> tuple[JsonSource, n.VType, tuple[str, ...] | None]:
        """The JSON collection ``path`` names, its element type, and the types a trailing cast
        segment keeps (``evidence/microsoft.graph.security.fileEvidence``: file evidence only)."""
        segments = path.segments
        cast: str | None = None
        if len(segments) > 1 and "." in segments[-1]:
            cast, segments = segments[-1], segments[:-1]
            path = p.Path(segments, path.pos)
        shown = "/".join(segments)
        if cast is not None and self.collection_navigation(path):
            raise self.error(
                f"a type cast after the navigation property '{shown}' is not supported (its "
                f"entity set has no derived types); use {shown}/$count or {shown}/any(x: ...)",
                path.pos,
            )
        source = self.path(path, allow_collection=True)
        if not source.type.collection:
            raise self.error(
                f"{what} needs a collection; '{shown}' is {describe(source.type)}", pos
            )
        if not isinstance(source, n.Prop | n.JsonPath | n.Var):
            raise self.error(f"{what} over this collection is not supported", pos)
        element = self.memo.element(source.type)
        if cast is None:
            return source, element, None
        if not element.structured:
            raise self.error(
                f"'{shown}' is a collection of {source.type.kind}; only collections of complex "
                "values can be cast to a derived type",
                path.pos,
            )
        declared = self.model.types[source.type.kind]
        target = self.resolve_type(cast, declared, path.pos, primitive_ok=False)
        element = n.VType(target.name, json=True, structured=True)
        return source, element, self.subtypes(target)

    # ---- $count --------------------------------------------------------------------------------

    def count(self, expr: p.Path) -> n.Value:
        """``collection/$count`` (4.01, URL Conventions 4.8): the number of items, duplicates
        included; an absent collection counts 0."""
        base = p.Path(expr.segments[:-1], expr.pos)
        if not base.segments:
            raise self.error(
                "$count must follow a collection, like mitreTechniques/$count", expr.pos
            )
        navigation = self.collection_navigation(base)
        if navigation is not None:
            self.scopes.append(navigation.target)
            source = n.NavCollection(navigation.name, navigation.target, 0, len(self.scopes) - 1)
            return n.Count(source, None, COUNT_T)
        counted, _element, types = self.collection_source(base, "$count", expr.pos)
        return n.Count(counted, types, COUNT_T)

    # ---- lambdas -------------------------------------------------------------------------------

    def lambda_(self, expr: p.Lambda) -> n.Pred:
        navigation = self.collection_navigation(expr.source)
        if navigation is not None:
            return self.navigation_lambda(expr, navigation)
        source, element, types = self.collection_source(expr.source, f"{expr.op}()", expr.pos)
        if expr.variable is None or expr.body is None:
            return n.LambdaPred("any", source, None, self.lambda_depth + 1, None, element, types)
        self.lambda_depth += 1
        depth = self.lambda_depth
        self.variables[expr.variable] = n.Var(expr.variable, element, depth)
        try:
            body = self.predicate(expr.body)
        finally:
            del self.variables[expr.variable]
            self.lambda_depth -= 1
        return n.LambdaPred(expr.op, source, expr.variable, depth, body, element, types)

    def collection_navigation(self, source: p.Path) -> Navigation | None:
        """The collection-valued navigation property ``source`` names on the queried entity."""
        if len(source.segments) != 1 or source.segments[0] in self.variables:
            return None
        # remembered per spelling for the served sets (every lambda asks, and a miss scans the
        # navigation names case-insensitively)
        key = (self.entity_set.name, source.segments[0])
        served = BY_NAME.get(key[0]) is self.entity_set
        navigations = self.memo.navigations
        if served and key in navigations:
            return navigations[key]
        found = self._collection_navigation(key[1])
        if served and len(navigations) < MEMO_SIZE:
            navigations[key] = found
        return found

    def _collection_navigation(self, written: str) -> Navigation | None:
        struct = self.model.types[self.entity_set.type_name]
        name = lookup(written, struct.navigation)
        if name is None or lookup(name, struct.properties) is not None:
            return None
        navigation = self.entity_set.navigation(name)
        return navigation if navigation is not None and navigation.collection else None

    def navigation_lambda(self, expr: p.Lambda, navigation: Navigation) -> n.Pred:
        """any()/all() over related entities: the variable stands for a row of the target set."""
        self.scopes.append(navigation.target)
        scope = len(self.scopes) - 1
        source = n.NavCollection(navigation.name, navigation.target, 0, scope)
        element = n.VType(BY_NAME[navigation.target].type_name, structured=True)
        if expr.variable is None or expr.body is None:
            return n.LambdaPred("any", source, None, 0, None, element)
        self.entity_variables[expr.variable] = scope
        try:
            body = self.predicate(expr.body)
        finally:
            del self.entity_variables[expr.variable]
        return n.LambdaPred(expr.op, source, expr.variable, 0, body, element)
