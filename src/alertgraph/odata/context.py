"""What a read needs besides the query: the store, the tenant, URLs and limits (see __init__)."""

from __future__ import annotations

from dataclasses import dataclass

from alertgraph.store.database import Store


@dataclass(frozen=True, slots=True)
class QuerySettings:
    """Limits and strictness of query handling.

    ``strict_graph`` rejects what Graph does not document: filters on properties outside the
    set's documented filterable list and options outside its documented options.
    """

    strict_graph: bool = False
    max_nodes: int = 1000
    max_depth: int = 100
    max_literal_length: int = 100_000


@dataclass(frozen=True, slots=True)
class ReadContext:
    store: Store
    tenant: str
    service_root: str  # absolute, without a trailing slash, e.g. http://127.0.0.1:8000/beta
    evolvable: bool  # the client sent Prefer: include-unknown-enum-members
    settings: QuerySettings = QuerySettings()
