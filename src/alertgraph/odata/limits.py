"""The limits of query handling, one frozen object built from the settings and the endpoint row.

Read by parser.py (expression size), query.py ($top, $skip, $expand depth) and read.py (page size).
The defaults of the configurable limits are the ones declared in settings.py.
"""

from __future__ import annotations

import dataclasses
import functools
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from alertgraph.settings import Settings

if TYPE_CHECKING:
    from alertgraph.schema.endpoints import EntitySet


def _default(name: str) -> Any:
    return next(f.default for f in dataclasses.fields(Settings) if f.name == name)


@dataclass(frozen=True, slots=True)
class QueryLimits:
    """How large and deep a query may be, and how a collection pages.

    ``strict_graph`` rejects what Graph does not document: filters on properties outside the
    set's documented filterable list and options outside its documented options. ``max_top`` and
    ``page_size`` come from the endpoint row (see :meth:`for_set`).
    """

    max_nodes: int = _default("max_filter_nodes")
    max_depth: int = _default("max_expression_depth")
    max_literal_length: int = 100_000
    strict_graph: bool = _default("strict_graph")
    max_expand_depth: int = 3
    #: the largest $skip (an Int32, as in Graph's OData stack); larger offsets overflow the drivers
    max_skip: int = 2**31 - 1
    max_top: int = 1000
    page_size: int = 100

    @staticmethod
    @functools.lru_cache(maxsize=16)
    def from_settings(settings: Settings) -> QueryLimits:
        """The limits a deployment's settings configure (one object per settings)."""
        return QueryLimits(
            max_nodes=settings.max_filter_nodes,
            max_depth=settings.max_expression_depth,
            strict_graph=settings.strict_graph,
        )

    def for_set(self, entity_set: EntitySet) -> QueryLimits:
        """These limits with the collection's $top maximum and page size."""
        if (self.max_top, self.page_size) == (entity_set.max_top, entity_set.page_size):
            return self
        return dataclasses.replace(self, max_top=entity_set.max_top, page_size=entity_set.page_size)


#: the limits when a deployment configures none
DEFAULT_LIMITS = QueryLimits()
