"""What each service root serves: /beta is the shipped beta model, /v1.0 the v1.0 CSDL subset.

The store, binding and SQL always work on the beta model (a superset); this module says which of
its types, properties and actions exist on v1.0, so the HTTP layer can answer v1.0 requests in
v1.0's shape and serve v1.0's $metadata. Derived from the two shipped CSDL files, never listed
by hand.
"""

from __future__ import annotations

import functools
from importlib import resources

from alertgraph.schema.edm import Model, load_model, parse_csdl

BETA = "beta"
V1 = "v1.0"
V1_CSDL = "graph-v1-alerts.csdl.xml"


@functools.cache
def load_v1_model() -> Model:
    """The v1.0 model shipped with the package (see csdl/README.md for its origin)."""
    xml = resources.files("alertgraph.schema.csdl").joinpath(V1_CSDL).read_bytes()
    return parse_csdl(xml)


def model_for(version: str) -> Model:
    return load_v1_model() if version == V1 else load_model()


def metadata_xml(version: str) -> bytes:
    """The $metadata document of a service root."""
    return model_for(version).xml


def has_type(version: str, type_name: str) -> bool:
    return type_name in model_for(version).types


@functools.cache
def action_names(version: str) -> frozenset[str]:
    """Unqualified names of the bound actions a version's model declares."""
    return frozenset(action.name.rsplit(".", 1)[1] for action in model_for(version).actions)


@functools.cache
def member_names(version: str, type_name: str) -> frozenset[str]:
    """Properties and navigation properties an entity of ``type_name`` (or a type derived from
    it) can carry on ``version``; empty when the type does not exist there."""
    model = model_for(version)
    if type_name not in model.types:
        return frozenset()
    names = set(model.all_properties(type_name))
    for name in (type_name, *model.types[type_name].derived):
        names.update(model.types[name].navigation)
    return frozenset(names)


@functools.cache
def beta_only_members(type_name: str) -> frozenset[str]:
    """Members of a type (and its derived types) that /beta has and /v1.0 does not, e.g.
    ``recommendedActions`` on incidents; lower-cased, for matching query text."""
    beta = member_names(BETA, type_name)
    if not has_type(V1, type_name):
        return frozenset()
    return frozenset(name.lower() for name in beta - member_names(V1, type_name))


@functools.cache
def v1_enum_members(enum_name: str) -> frozenset[str] | None:
    """The members v1.0 declares for an enum type (None when v1.0 has no such enum)."""
    found = load_v1_model().enum(enum_name)
    return frozenset(found.members) if found is not None else None
