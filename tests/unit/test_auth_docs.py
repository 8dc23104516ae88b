"""docs/auth.md must show the permissions the code enforces."""

from __future__ import annotations

from pathlib import Path

from alertgraph.identity.auth import permission_table
from alertgraph.schema.endpoints import ENTITY_SETS

DOC = Path(__file__).resolve().parents[2] / "docs" / "auth.md"


def test_permission_table_matches_the_entity_set_rows() -> None:
    text = DOC.read_text()
    start, end = "<!-- permissions:start -->\n", "<!-- permissions:end -->"
    assert start in text
    assert end in text
    documented = text.split(start, 1)[1].split(end, 1)[0]
    assert documented == permission_table(), (
        "docs/auth.md's permission table is out of date; regenerate it with "
        "alertgraph.identity.auth.permission_table()"
    )


def test_every_permission_and_role_appears_in_the_doc() -> None:
    text = DOC.read_text()
    for entity_set in ENTITY_SETS:
        for name in (*entity_set.read_permissions, *entity_set.write_permissions,
                     *entity_set.read_roles, *entity_set.write_roles):  # fmt: skip
            assert name in text
