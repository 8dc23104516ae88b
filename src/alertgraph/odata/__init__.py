"""The read-side OData engine: query options → SQL → Graph JSON (what http/reads.py calls).

Pipeline: options.py (split the query string) → parser.py (syntax) → bind.py/query.py (names,
types, limits.py) → sql.py and keyset.py (SQLAlchemy Core) → read.py (pages, navigation, run
through statements.py) → shape.py (expansions and JSON).
"""

from __future__ import annotations

from alertgraph.odata.context import ReadContext
from alertgraph.odata.limits import QueryLimits
from alertgraph.odata.read import (
    count_collection,
    follow,
    get_entity,
    get_linked,
    list_collection,
    written_entity,
)

__all__ = [
    "QueryLimits",
    "ReadContext",
    "count_collection",
    "follow",
    "get_entity",
    "get_linked",
    "list_collection",
    "written_entity",
]
