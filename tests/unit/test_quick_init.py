"""nodes.quick_init keeps what the generated frozen __init__ did: signature, defaults, values,
equality and hashing, and frozenness (#16 replaced it for speed)."""

from __future__ import annotations

import dataclasses
import inspect
from typing import Any

import pytest

from alertgraph.odata import nodes as n
from alertgraph.odata import projection, query


def _twin(cls: type[Any]) -> type[Any]:
    """The same dataclass with the generated __init__."""
    fields = [(f.name, f.type, f) for f in dataclasses.fields(cls)]
    return dataclasses.make_dataclass(cls.__name__, fields, frozen=True, slots=True)


CLASSES = [
    value
    for value in [
        *vars(n).values(),
        query.Query,
        query.OrderKey,
        query.Expand,
        projection.SelectItem,
    ]
    if isinstance(value, type) and dataclasses.is_dataclass(value)
]


@pytest.mark.parametrize("cls", CLASSES, ids=lambda cls: cls.__name__)
def test_init_matches_the_generated_one(cls: type[Any]) -> None:
    twin = _twin(cls)
    assert str(inspect.signature(cls)) == str(inspect.signature(twin))
    args = [f"v{i}" for i, _ in enumerate(dataclasses.fields(cls))]
    node = cls(*args)
    assert dataclasses.astuple(node) == dataclasses.astuple(twin(*args))
    assert node == cls(**{f.name: a for f, a in zip(dataclasses.fields(cls), args, strict=True)})
    assert hash(node) == hash(cls(*args))
    with pytest.raises(dataclasses.FrozenInstanceError):
        node.__setattr__(dataclasses.fields(cls)[0].name, "changed")


def test_defaults_are_kept() -> None:
    assert n.VType("Edm.String") == n.VType("Edm.String", False, False, False, False, True)
    assert n.Prop("id", n.VType("Edm.String")).scope == 0
    with pytest.raises(TypeError):
        n.Lit(1)  # type: ignore[call-arg]
