"""Artifact lineage: one row per artifact a run writes, and typed edges between them.

Rows are keyed by (run instance, logical name) and point at content (SHA-256), so an identical rerun
adds its own rows without conflicting with the first run's. Both tables are append-only.
"""

from __future__ import annotations

import sqlalchemy as sa

from crypto_analyzer.db.schema._base import (
    INT64,
    TABLE_OPTIONS,
    metadata,
    tenant_column,
    text_enum_check,
)

__all__ = ["EDGE_TYPES", "artifact_edges", "artifact_lineage"]

EDGE_TYPES = ("derived_from", "uses_dataset", "uses_config", "uses_folds", "attests")

artifact_lineage = sa.Table(
    "artifact_lineage",
    metadata,
    tenant_column(),
    sa.Column("run_instance_id", sa.Text(), nullable=False),
    sa.Column("logical_name", sa.Text(), nullable=False),
    sa.Column("artifact_sha256", sa.Text(), nullable=False),
    sa.Column("uri", sa.Text(), nullable=False),
    sa.Column("artifact_type", sa.Text(), nullable=False),
    sa.Column("schema_version", sa.Text(), nullable=True),
    sa.Column("plugin_manifest_json", sa.Text(), nullable=True),
    sa.Column("size_bytes", INT64, nullable=False),
    sa.Column("created_at", sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint("tenant_id", "run_instance_id", "logical_name"),
    sa.Index(None, "tenant_id", "artifact_sha256"),
    **TABLE_OPTIONS,
)

artifact_edges = sa.Table(
    "artifact_edges",
    metadata,
    tenant_column(),
    sa.Column("run_instance_id", sa.Text(), nullable=False),
    sa.Column("src_name", sa.Text(), nullable=False),
    sa.Column("edge_type", sa.Text(), nullable=False),
    sa.Column("dst_ref", sa.Text(), nullable=False),
    sa.Column("created_at", sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint("tenant_id", "run_instance_id", "src_name", "edge_type", "dst_ref"),
    text_enum_check("edge_type", EDGE_TYPES, "edge_type"),
    sa.ForeignKeyConstraint(
        ["tenant_id", "run_instance_id", "src_name"],
        [
            "artifact_lineage.tenant_id",
            "artifact_lineage.run_instance_id",
            "artifact_lineage.logical_name",
        ],
    ),
    **TABLE_OPTIONS,
)
