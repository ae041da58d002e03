"""crypto-analyzer: a local-first research validation control plane for crypto quant research.

``import crypto_analyzer as ca`` is cheap: the notebook facade (``ca.open_workspace``,
``ca.Workspace``, ``ca.ReportConfig``, ``ca.SyntheticMarketConfig``, ``ca.statistics``) is
imported on first use. Its names are listed once, in :data:`crypto_analyzer.facade.PUBLIC`.
"""

from __future__ import annotations

import importlib
from typing import Any

from crypto_analyzer.core.versions import ENGINE_VERSION as __version__
from crypto_analyzer.facade import PUBLIC

__all__ = ["__version__", *PUBLIC]


def __getattr__(name: str) -> Any:
    """Resolve a facade name on first use (PEP 562) and cache it on the package."""
    module_name = PUBLIC.get(name)
    if module_name is None:
        raise AttributeError(f"module 'crypto_analyzer' has no attribute {name!r}")
    module = importlib.import_module(module_name)
    value = module if module_name.endswith(f".{name}") else getattr(module, name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *PUBLIC})
