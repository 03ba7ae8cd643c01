"""The package keeps to its map in docs/concepts.md: imports point down, private modules stay home.

The map's table is read from the page, so the code and the page cannot
drift apart: a new module needs a row, and a new import needs the row's
permission. Every import counts, also one made inside a function.
"""

from __future__ import annotations

import ast
import graphlib
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "greenlang_runtime"
BENCHMARKS = ROOT / "benchmarks"
CONCEPTS = ROOT / "docs" / "concepts.md"
# The row of the package root (its __init__.py).
ROOT_ROW = "greenlang_runtime"
MAX_TOP_LEVEL_MODULES = 20


def _map() -> list[tuple[str, set[str]]]:
    """The map's rows, top to bottom: (unit, the units it may import)."""
    text = CONCEPTS.read_text(encoding="utf-8")
    section = text.split("## Map of the package", 1)[1].split("\n## ", 1)[0]
    rows = []
    for line in section.splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) != 3 or not cells[0].startswith("`"):
            continue
        unit = re.findall(r"`([^`]+)`", cells[0])[0]
        rows.append((unit, set(re.findall(r"`([^`]+)`", cells[2]))))
    return rows


def _units() -> set[str]:
    """The top level's modules and sub-packages, the root as ``greenlang_runtime``."""
    found = {ROOT_ROW}
    for path in PACKAGE.iterdir():
        if path.suffix == ".py" and path.name != "__init__.py":
            found.add(path.stem)
        elif (path / "__init__.py").exists():
            found.add(path.name)
    return found


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _is_module(name: str) -> bool:
    path = ROOT.joinpath(*name.split("."))
    return path.with_suffix(".py").exists() or (path / "__init__.py").exists()


def _imports(path: Path) -> Iterator[str]:
    """Every module ``path`` imports: ``from a.b import c`` is ``a.b.c`` if that is a module."""
    module = _module_name(path)
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                base = ".".join([*anchor, *([base] if base else [])])
            for alias in node.names:
                # ``from package import module`` imports the module, not the package's names.
                yield f"{base}.{alias.name}" if _is_module(f"{base}.{alias.name}") else base


def _unit(module: str) -> str | None:
    """The map's unit of a ``greenlang_runtime`` module, or ``None`` outside the package."""
    parts = module.split(".")
    if parts[0] != PACKAGE.name:
        return None
    if len(parts) == 1:
        return ROOT_ROW
    is_module = (PACKAGE / parts[1]).is_dir() or (PACKAGE / f"{parts[1]}.py").exists()
    return parts[1] if is_module else ROOT_ROW


def _graph() -> dict[str, set[str]]:
    """Which units each unit imports (an import of a name from the root is the root's)."""
    graph: dict[str, set[str]] = {unit: set() for unit in _units()}
    for path in PACKAGE.rglob("*.py"):
        source = _unit(_module_name(path))
        assert source is not None
        for module in _imports(path):
            target = _unit(module)
            if target is not None and target != source:
                graph[source].add(target)
    return graph


def test_every_top_level_module_and_package_has_one_row() -> None:
    """The map names each module and sub-package of the top level exactly once."""
    names = [unit for unit, _ in _map()]
    assert sorted(names) == sorted(_units())


def test_the_map_itself_points_down() -> None:
    """Each row may import only units named in rows below it."""
    rows = _map()
    upward = [
        (unit, allowed - {name for name, _ in rows[index + 1 :]})
        for index, (unit, allowed) in enumerate(rows)
        if allowed - {name for name, _ in rows[index + 1 :]}
    ]
    assert upward == []


def test_each_unit_imports_only_what_the_map_allows() -> None:
    """No module imports a unit its row does not name."""
    allowed = dict(_map())
    graph = _graph()
    beyond = {unit: sorted(graph[unit] - allowed.get(unit, set())) for unit in graph}
    assert {unit: extra for unit, extra in beyond.items() if extra} == {}


def test_no_cycle_between_sub_packages() -> None:
    """The import graph between units has an order: no unit reaches itself again."""
    graph = _graph()
    graph[ROOT_ROW] -= {"runtime"}  # loaded on first use (PEP 562), never at import
    order = list(graphlib.TopologicalSorter(graph).static_order())
    assert sorted(order) == sorted(graph)


def test_no_module_imports_a_private_module_of_another_package() -> None:
    """A ``_module`` is imported only from inside its own package (the top level's by anyone)."""
    crossing = set()
    for path in PACKAGE.rglob("*.py"):
        importer = _module_name(path)
        for module in _imports(path):
            parts = module.split(".")
            private = [i for i, part in enumerate(parts) if i > 1 and part.startswith("_")]
            if parts[0] != PACKAGE.name or not private or parts[private[0]].startswith("__"):
                continue
            home = ".".join(parts[: private[0]])
            if not (importer + ".").startswith(home + "."):
                crossing.add((_unit(importer), ".".join(parts[: private[0] + 1])))
    assert crossing == set()


def test_at_most_twenty_modules_at_the_top_level() -> None:
    """The top level stays small: sub-packages hold the rest."""
    modules = [path.name for path in PACKAGE.glob("*.py")]
    assert len(modules) <= MAX_TOP_LEVEL_MODULES, sorted(modules)


@pytest.mark.parametrize("path", sorted(BENCHMARKS.glob("*.py")), ids=lambda path: path.name)
def test_benchmarks_use_no_private_name_and_no_test_module(path: Path) -> None:
    """A benchmark imports public names only, and nothing from the tests."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    reached = [
        f"{node.module}.{alias.name}"
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith(PACKAGE.name)
        for alias in node.names
        if alias.name.startswith("_")
    ]
    reached += [module for module in _imports(path) if module.split(".")[0] == "tests"]
    assert reached == []


@pytest.mark.parametrize(
    ("literal", "home"),
    [
        ("DATABASE_URL", "config.py"),
        ("REDIS_URL", "config.py"),
        (r"[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?", "_labels.py"),
        (r"[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?", "_labels.py"),
        ("-5d8f7c9b6-x2k4p", "manifests/_scenarios.py"),
    ],
)
def test_each_shared_rule_is_written_in_one_module(literal: str, home: str) -> None:
    """A variable's name, a label pattern and the rule tests' sample pod each live in one place."""
    holders = set()
    for path in PACKAGE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            text = node.value if isinstance(node, ast.Constant) else None
            if isinstance(text, str) and (
                text == literal or (len(literal) > 12 and literal in text)
            ):
                holders.add(path.relative_to(PACKAGE).as_posix())
    assert holders == {home}
