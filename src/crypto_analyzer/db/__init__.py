"""Data layer: engine factory, schema, migrations, provenance writer, dataset identity, health.

Names are resolved on first use (PEP 562), so importing one small submodule — as the isolated
Arrow reader's worker process does — does not pull in SQLAlchemy, pandas and every table.
"""

from __future__ import annotations

import importlib
from typing import Any

__all__ = [
    "DEFAULT_SCOPE",
    "IngestRun",
    "ProvenanceWriter",
    "Reject",
    "TableScope",
    "compute_dataset_id",
    "create_db_engine",
    "require_head",
    "schema_status",
    "upgrade",
]

_HOME = {
    "DEFAULT_SCOPE": "dataset_id",
    "TableScope": "dataset_id",
    "compute_dataset_id": "dataset_id",
    "create_db_engine": "engine",
    "require_head": "migrate",
    "schema_status": "migrate",
    "upgrade": "migrate",
    "IngestRun": "provenance",
    "ProvenanceWriter": "provenance",
    "Reject": "provenance",
}


def __getattr__(name: str) -> Any:
    if name not in _HOME:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{_HOME[name]}"), name)


def __dir__() -> list[str]:
    return sorted(__all__)
