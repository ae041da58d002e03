"""Artifact lineage: what each run wrote, and how those artifacts relate.

One row per (run instance, logical name) pointing at content (SHA-256 + URI), so an identical
rerun records its own rows without conflicting with the first. Edges are typed
(``derived_from``, ``uses_dataset``, ``uses_config``, ``uses_folds``, ``attests``) and point from a
logical name of the run to another logical name of the same run or to an external reference (a
dataset id, a config digest). Both tables are append-only in the database.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from crypto_analyzer.core.canonical_json import canonical_dumps, canonical_loads
from crypto_analyzer.core.clock import now, to_iso
from crypto_analyzer.core.errors import ValidationError
from crypto_analyzer.db.schema import artifact_edges, artifact_lineage
from crypto_analyzer.db.schema.lineage import EDGE_TYPES

__all__ = ["LineageEdge", "LineageRecord", "lineage_for_run", "record_lineage", "to_openlineage"]


@dataclass(frozen=True, slots=True)
class LineageRecord:
    """One artifact written by a run."""

    logical_name: str
    sha256: str
    uri: str
    size: int
    artifact_type: str
    schema_version: str | None = None
    plugin_manifest: dict[str, Any] | None = None


@dataclass(frozen=True, slots=True)
class LineageEdge:
    """``src_name`` (an artifact of the run) --edge_type--> ``dst_ref``."""

    src_name: str
    edge_type: str
    dst_ref: str


def record_lineage(
    connection: Connection,
    *,
    tenant_id: str,
    run_instance_id: str,
    records: Sequence[LineageRecord],
    edges: Sequence[LineageEdge] = (),
) -> None:
    """Insert lineage rows and edges in the caller's transaction."""
    names = {record.logical_name for record in records}
    for edge in edges:
        if edge.edge_type not in EDGE_TYPES:
            raise ValidationError(
                f"edge type {edge.edge_type!r} is unknown", f"use one of {', '.join(EDGE_TYPES)}"
            )
        if edge.src_name not in names:
            raise ValidationError(f"edge source {edge.src_name!r} is not an artifact of this run")
    created = to_iso(now())
    if records:
        connection.execute(
            artifact_lineage.insert(),
            [
                {
                    "tenant_id": tenant_id,
                    "run_instance_id": run_instance_id,
                    "logical_name": record.logical_name,
                    "artifact_sha256": record.sha256,
                    "uri": record.uri,
                    "artifact_type": record.artifact_type,
                    "schema_version": record.schema_version,
                    "plugin_manifest_json": (
                        canonical_dumps(record.plugin_manifest)
                        if record.plugin_manifest is not None
                        else None
                    ),
                    "size_bytes": record.size,
                    "created_at": created,
                }
                for record in records
            ],
        )
    if edges:
        connection.execute(
            artifact_edges.insert(),
            [
                {
                    "tenant_id": tenant_id,
                    "run_instance_id": run_instance_id,
                    "src_name": edge.src_name,
                    "edge_type": edge.edge_type,
                    "dst_ref": edge.dst_ref,
                    "created_at": created,
                }
                for edge in sorted(set(edges), key=lambda e: (e.src_name, e.edge_type, e.dst_ref))
            ],
        )


def lineage_for_run(
    engine: Engine, tenant_id: str, run_instance_id: str
) -> tuple[list[LineageRecord], list[LineageEdge]]:
    """The run's lineage rows (by logical name) and edges."""
    with engine.connect() as connection:
        rows = (
            connection.execute(
                sa.select(artifact_lineage)
                .where(
                    artifact_lineage.c.tenant_id == tenant_id,
                    artifact_lineage.c.run_instance_id == run_instance_id,
                )
                .order_by(artifact_lineage.c.logical_name)
            )
            .mappings()
            .all()
        )
        edge_rows = connection.execute(
            sa.select(
                artifact_edges.c.src_name, artifact_edges.c.edge_type, artifact_edges.c.dst_ref
            )
            .where(
                artifact_edges.c.tenant_id == tenant_id,
                artifact_edges.c.run_instance_id == run_instance_id,
            )
            .order_by(
                artifact_edges.c.src_name, artifact_edges.c.edge_type, artifact_edges.c.dst_ref
            )
        ).all()
    records = [
        LineageRecord(
            logical_name=row["logical_name"],
            sha256=row["artifact_sha256"],
            uri=row["uri"],
            size=int(row["size_bytes"]),
            artifact_type=row["artifact_type"],
            schema_version=row["schema_version"],
            plugin_manifest=(
                canonical_loads(row["plugin_manifest_json"])
                if row["plugin_manifest_json"]
                else None
            ),
        )
        for row in rows
    ]
    return records, [LineageEdge(*edge) for edge in edge_rows]


def to_openlineage(
    run_instance_id: str,
    job_name: str,
    records: Sequence[LineageRecord],
    edges: Sequence[LineageEdge],
    event_time: str,
    producer: str = "https://github.com/crypto-analyzer/crypto-analyzer",
) -> dict[str, Any]:
    """An OpenLineage-shaped COMPLETE run event: inputs from edges, outputs from artifacts."""
    outputs = {record.logical_name for record in records}
    inputs = sorted({edge.dst_ref for edge in edges if edge.dst_ref not in outputs})
    return {
        "eventTime": event_time,
        "eventType": "COMPLETE",
        "inputs": [{"name": name, "namespace": "crypto-analyzer"} for name in inputs],
        "job": {"name": job_name, "namespace": "crypto-analyzer"},
        "outputs": [
            {
                "facets": {"content": {"sha256": record.sha256, "size": record.size}},
                "name": record.uri,
                "namespace": "crypto-analyzer",
            }
            for record in records
        ],
        "producer": producer,
        "run": {"runId": run_instance_id},
    }
