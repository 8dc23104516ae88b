"""The package layout holds: concerns in layers, no import cycles, small modules.

docs/architecture.md draws these layers. A new package gets a rank here (and a line in that doc);
an import from a lower layer to a higher one, or a cycle between modules, fails this test.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "src" / "alertgraph"

#: bottom (imported by everything) to top (imports everything); equal ranks may import each other
#: as long as no module cycle forms.
LAYERS: dict[str, int] = {
    "errors": 0,
    "settings": 0,
    "schema": 1,
    "store": 2,
    "identity": 3,
    "odata": 3,
    "rules": 3,
    "seed": 4,
    "ops": 5,
    "simulate": 5,
    "sync": 5,
    "console": 5,
    "emulator": 5,
    "http": 6,
    "cli": 7,
    "__main__": 8,
    "__init__": 0,
}
ENTITY_SET_NAMES = (
    "alerts_v2",
    "incidents",
    "securityAlerts",
    "alertDefinitions",
    "alertConfigurations",
    "alertIncidents",
    "partner_alerts",
    "pim_alerts",
    "pim_incidents",
    "pim_configurations",
    "pim_definitions",
    "pim_operations",
)
PER_ENDPOINT_PATH = re.compile(r"endpoint|rule|seed|demo|cli")


def _modules() -> dict[str, Path]:
    found = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE).with_suffix("").parts
        if parts[-1] == "__init__" and len(parts) > 1:
            parts = parts[:-1]
        found["alertgraph." + ".".join(parts)] = path
    return found


MODULES = _modules()


def _imports(path: Path) -> set[str]:
    """Every alertgraph module ``path`` imports, at module level or inside functions."""
    tree = ast.parse(path.read_text(), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return {name for name in names if name in MODULES}


def _layer(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def test_every_package_has_a_layer() -> None:
    unknown = sorted({_layer(m) for m in MODULES} - set(LAYERS))
    assert unknown == [], f"give these packages a layer here and in docs/architecture.md: {unknown}"


def test_no_import_points_up_a_layer() -> None:
    upward = [
        f"{module} -> {imported}"
        for module, path in MODULES.items()
        for imported in _imports(path)
        if LAYERS.get(_layer(imported), 99) > LAYERS.get(_layer(module), 99)
        and _layer(module) != "__init__"
    ]
    assert upward == []


def test_no_import_cycles() -> None:
    graph = {module: _imports(path) - {module} for module, path in MODULES.items()}
    # a package's __init__ re-exporting its own modules is not a cycle of concerns
    for module in graph:
        graph[module] = {m for m in graph[module] if not module.startswith(m + ".")}
    state: dict[str, int] = {}
    cycles: list[list[str]] = []

    def visit(module: str, trail: list[str]) -> None:
        state[module] = 1
        for imported in sorted(graph[module]):
            if state.get(imported) == 1:
                cycles.append([*trail[trail.index(imported) :], imported])
            elif imported not in state:
                visit(imported, [*trail, imported])
        state[module] = 2

    for module in sorted(graph):
        if module not in state:
            visit(module, [module])
    assert cycles == []


@pytest.mark.parametrize("module", sorted(MODULES), ids=str)
def test_module_size_and_docstring(module: str) -> None:
    path = MODULES[module]
    source = path.read_text()
    assert len(source.splitlines()) <= 800, f"{module} is over 800 lines: split it by concern"
    assert ast.get_docstring(ast.parse(source)), f"{module} opens with no docstring"


def test_few_plain_modules_at_the_top() -> None:
    plain = sorted(p.name for p in PACKAGE.glob("*.py"))
    assert len(plain) <= 8, plain


def test_entity_set_names_only_in_per_endpoint_code() -> None:
    literals = re.compile("|".join(rf"[\"']{re.escape(name)}[\"']" for name in ENTITY_SET_NAMES))
    offending = [
        f"{path.relative_to(PACKAGE)}:{number}"
        for path in MODULES.values()
        if not PER_ENDPOINT_PATH.search(str(path.relative_to(PACKAGE)))
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if literals.search(line)
    ]
    assert offending == []
