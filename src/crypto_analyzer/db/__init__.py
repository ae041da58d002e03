"""Data layer: engine factory, schema, migrations, provenance writer, dataset identity, health."""

from __future__ import annotations

from crypto_analyzer.db.dataset_id import DEFAULT_SCOPE, TableScope, compute_dataset_id
from crypto_analyzer.db.engine import create_db_engine
from crypto_analyzer.db.migrate import require_head, schema_status, upgrade
from crypto_analyzer.db.provenance import IngestRun, ProvenanceWriter, Reject

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
