"""Docs stay complete and connected: every setting, served collection, command and option is
documented, and every relative link leads somewhere."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterator
from pathlib import Path

import click
import pytest

from alertgraph.cli import main
from alertgraph.schema.endpoints import ENTITY_SETS
from alertgraph.settings import Settings

ROOT = Path(__file__).resolve().parents[2]


def test_every_setting_is_documented() -> None:
    text = (ROOT / "docs" / "settings.md").read_text()
    for spec in dataclasses.fields(Settings):
        assert f"| {spec.name} |" in text, f"docs/settings.md misses {spec.name}"
        assert f"`{spec.metadata['env']}`" in text


def test_every_entity_set_is_in_the_endpoint_reference() -> None:
    text = (ROOT / "docs" / "endpoints.md").read_text()
    for es in ENTITY_SETS:
        assert es.path.replace("/alertIncidents", "/{id}/alertIncidents") in text or (
            es.path in text
        ), f"docs/endpoints.md misses {es.path}"


def _docs_text() -> str:
    pages = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
    return "\n".join(page.read_text() for page in pages)


def _commands(group: click.Group, prefix: str) -> Iterator[tuple[str, click.Command]]:
    for name, command in sorted(group.commands.items()):
        if isinstance(command, click.Group):
            yield from _commands(command, f"{prefix} {name}")
        else:
            yield f"{prefix} {name}", command


def test_every_cli_command_and_option_is_in_the_docs() -> None:
    text = _docs_text()
    missing = []
    for name, command in _commands(main, "alertgraph"):
        if name not in text:
            missing.append(name)
        for param in command.params:
            for option in getattr(param, "opts", []):
                if option.startswith("--") and option != "--help" and option not in text:
                    missing.append(f"{name} {option}")
    assert not missing, f"README.md and docs/*.md never mention: {', '.join(missing)}"


LINK = re.compile(r"\]\(([^)\s]+)\)")


def _anchors(page: Path) -> set[str]:
    """GitHub's heading anchors: lower case, punctuation dropped, spaces to hyphens."""
    headings = re.findall(r"^#+ (.+)$", page.read_text(), re.M)
    return {re.sub(r"[^\w\- ]", "", h.strip().lower()).replace(" ", "-") for h in headings}


@pytest.mark.parametrize(
    "page",
    [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))],
    ids=lambda page: page.name,
)
def test_every_relative_link_resolves(page: Path) -> None:
    broken = []
    for target in LINK.findall(page.read_text()):
        if re.match(r"[a-z]+:", target):
            continue
        path, _, anchor = target.partition("#")
        linked = (page.parent / path).resolve() if path else page
        if not linked.exists():
            broken.append(target)
            continue
        if anchor and linked.suffix == ".md" and anchor not in _anchors(linked):
            broken.append(target)
    assert not broken, f"{page.name} links to what does not exist: {', '.join(broken)}"


def test_the_manual_alert_identifier_table_is_the_one_enforced() -> None:
    from alertgraph.rules.manual_alerts import EVIDENCE

    rows = re.findall(
        r"^\s*\| `(\w+)` \| (.+) \|$", (ROOT / "docs" / "workflow.md").read_text(), re.M
    )
    documented = {kind: re.findall(r"`(\w+)`", ids) for kind, ids in rows if kind in EVIDENCE}
    assert documented == {kind: list(ids) for kind, (_, ids) in EVIDENCE.items()}
