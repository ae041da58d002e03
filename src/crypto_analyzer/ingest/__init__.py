"""Ingestion: market data sources and the paths that bring their records into the database.

Submodules are imported on first use (``crypto_analyzer.ingest.backfill`` does not pull in the
synthetic market and SciPy), which keeps short-lived processes such as a resumed backfill quick.
"""

from __future__ import annotations

import importlib
from typing import Any

__all__ = ["SyntheticMarketConfig", "generate_market", "ingest_synthetic"]

_LAZY = {name: "crypto_analyzer.ingest.synthetic" for name in __all__}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
