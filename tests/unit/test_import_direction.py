"""Imports point down the layers (DESIGN §2): checked over the source tree's import statements."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE_ROOT = Path(__file__).resolve().parents[2] / "src" / "crypto_analyzer"

LAYER_OF = {
    "core": 0,
    "db": 1,
    "artifacts": 1,
    "attest": 1,
    "ingest": 1,
    "materialize": 1,
    "research": 2,
    "stats": 2,
    "plugins": 2,
    "governance": 3,
    "pipeline": 4,
    "cli": 5,
    "facade": 5,
    "api": 5,
    "web": 5,
}
FORBIDDEN = {
    # research never touches the database; stats is pure (numpy in, dataclasses out).
    "research": {"db", "ingest", "materialize", "artifacts"},
    "stats": {"db", "ingest", "materialize", "artifacts", "research"},
}


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return {name for name in found if name.startswith("crypto_analyzer.")}


def _modules() -> list[Path]:
    return sorted(
        path
        for path in PACKAGE_ROOT.rglob("*.py")
        if path.relative_to(PACKAGE_ROOT).parts[0] in LAYER_OF
    )


def test_every_package_has_a_layer() -> None:
    packages = {p.name for p in PACKAGE_ROOT.iterdir() if p.is_dir() and not p.name.startswith("_")}
    assert packages <= set(LAYER_OF), f"unassigned: {packages - set(LAYER_OF)}"


@pytest.mark.parametrize("path", _modules(), ids=lambda p: str(p.relative_to(PACKAGE_ROOT)))
def test_imports_point_down(path: Path) -> None:
    own = path.relative_to(PACKAGE_ROOT).parts[0]
    for module in _imports(path):
        target = module.split(".")[1]
        if target not in LAYER_OF:
            continue  # the package root facade / __version__
        assert LAYER_OF[target] <= LAYER_OF[own], f"{own} (layer {LAYER_OF[own]}) imports {module}"
        assert target not in FORBIDDEN.get(own, set()), f"{own} must not import {module}"
    if own == "core":
        assert all(module.startswith("crypto_analyzer.core") for module in _imports(path))
