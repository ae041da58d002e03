"""Public surface of crypto_analyzer.research and the import rules it must follow."""

from __future__ import annotations

import ast
import importlib
import pkgutil
from pathlib import Path

import crypto_analyzer.research as research

_PACKAGE_DIR = Path(research.__file__).parent
_ALLOWED_THIRD_PARTY = {"numpy", "pandas"}


def _modules() -> list[str]:
    return sorted(m.name for m in pkgutil.iter_modules([str(_PACKAGE_DIR)]))


def test_package_all_is_unique_and_complete() -> None:
    # ordering is enforced by ruff (RUF022, isort-style); here: no duplicates, nothing missing
    assert len(set(research.__all__)) == len(research.__all__)
    public = {name for name in dir(research) if not name.startswith("_")}
    modules = set(_modules())
    # submodules are attributes of the package too; two share a name with their main function
    assert set(research.__all__) == public - (modules - set(research.__all__)) - {"annotations"}
    exported = set()
    for name in _modules():
        module = importlib.import_module(f"crypto_analyzer.research.{name}")
        assert hasattr(module, "__all__"), name
        assert len(set(module.__all__)) == len(module.__all__)
        exported |= set(module.__all__)
    assert exported == set(research.__all__)


def test_research_imports_only_numpy_pandas_core_and_stats() -> None:
    for path in _PACKAGE_DIR.glob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            for name in names:
                top = name.split(".")[0]
                if top == "crypto_analyzer":
                    layer = name.split(".")[1] if "." in name else ""
                    assert layer in {"core", "stats", "research"}, f"{path.name} imports {name}"
                else:
                    assert top in _ALLOWED_THIRD_PARTY or top in _stdlib(), (
                        f"{path.name} imports {name}"
                    )


def _stdlib() -> frozenset[str]:
    import sys

    return frozenset(sys.stdlib_module_names) | {"__future__"}
