"""Every package and module declares ``__all__`` and each name in it exists.

(Ordering is ruff's job: RUF022 keeps every ``__all__`` sorted.)"""

from __future__ import annotations

import importlib
import pkgutil

import pytest

import crypto_analyzer


def _module_names() -> list[str]:
    names = []
    for info in pkgutil.walk_packages(crypto_analyzer.__path__, "crypto_analyzer."):
        if ".migrations" in info.name or info.name.endswith("__main__"):
            continue
        names.append(info.name)
    return sorted(names)


@pytest.mark.parametrize("name", _module_names())
def test_module_declares_an_existing_all(name: str) -> None:
    module = importlib.import_module(name)
    exported = getattr(module, "__all__", None)
    assert exported is not None, f"{name} has no __all__"
    assert len(set(exported)) == len(exported), f"{name}.__all__ has duplicates"
    missing = [item for item in exported if not hasattr(module, item)]
    assert not missing, f"{name}.__all__ names missing attributes {missing}"
