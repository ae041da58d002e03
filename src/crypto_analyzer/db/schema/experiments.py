"""Experiment registry: runs, their metrics and artifacts, and sweep families of hypotheses.

A run row is one execution (``run_instance_id``) of an experiment identity (``run_key``); reruns of
the same identity get new rows, which is how "same inputs, same outputs" becomes checkable.
"""

from __future__ import annotations

import sqlalchemy as sa

from crypto_analyzer.db.schema._base import (
    FLOAT64,
    INT64,
    TABLE_OPTIONS,
    metadata,
    status_check,
    tenant_column,
    text_enum_check,
)

__all__ = [
    "DATASET_MODES",
    "RUN_STATUSES",
    "run_artifacts",
    "run_metrics",
    "runs",
    "sweep_families",
    "sweep_hypotheses",
]

RUN_STATUSES = ("running", "succeeded", "failed", "interrupted")
"""``interrupted`` (revision 0007): the run's process died; closed by the next run on its host."""
DATASET_MODES = ("strict", "fast_dev")

runs = sa.Table(
    "runs",
    metadata,
    tenant_column(),
    sa.Column("run_instance_id", sa.Text(), nullable=False),
    sa.Column("run_key", sa.Text(), nullable=False),
    sa.Column("dataset_id", sa.Text(), nullable=False),
    sa.Column("dataset_mode", sa.Text(), nullable=False),
    sa.Column("config_json", sa.Text(), nullable=False),
    sa.Column("config_digest", sa.Text(), nullable=False),
    sa.Column("engine_version", sa.Text(), nullable=False),
    sa.Column("spec_version", sa.Text(), nullable=False),
    sa.Column("seed_version", sa.Integer(), nullable=False),
    sa.Column("hypothesis", sa.Text(), nullable=True),
    sa.Column("tags_json", sa.Text(), nullable=False, server_default="[]"),
    sa.Column("actor", sa.Text(), nullable=False),
    sa.Column("status", sa.Text(), nullable=False),
    sa.Column("started_at", sa.Text(), nullable=False),
    sa.Column("finished_at", sa.Text(), nullable=True),
    sa.Column("error", sa.Text(), nullable=True),
    # The process that runs it (revision 0007): lets a later command see a dead run for what it is.
    sa.Column("pid", INT64, nullable=True),
    sa.Column("host", sa.Text(), nullable=True),
    # The market watermark the dataset id was taken at (revision 0004); NULL for older runs.
    sa.Column("data_watermark", INT64, nullable=True),
    # The per-table digests behind dataset_id (revision 0015): a reproduction whose data lost the
    # recorded id names the tables that changed. NULL for older runs.
    sa.Column("dataset_tables_json", sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint("tenant_id", "run_instance_id"),
    sa.Index(None, "tenant_id", "run_key"),
    status_check(RUN_STATUSES),
    text_enum_check("dataset_mode", DATASET_MODES, "dataset_mode"),
    **TABLE_OPTIONS,
)

run_metrics = sa.Table(
    "run_metrics",
    metadata,
    tenant_column(),
    sa.Column("run_instance_id", sa.Text(), nullable=False),
    sa.Column("name", sa.Text(), nullable=False),
    sa.Column("value", FLOAT64, nullable=True),
    sa.PrimaryKeyConstraint("tenant_id", "run_instance_id", "name"),
    sa.ForeignKeyConstraint(
        ["tenant_id", "run_instance_id"], ["runs.tenant_id", "runs.run_instance_id"]
    ),
    **TABLE_OPTIONS,
)

run_artifacts = sa.Table(
    "run_artifacts",
    metadata,
    tenant_column(),
    sa.Column("run_instance_id", sa.Text(), nullable=False),
    sa.Column("name", sa.Text(), nullable=False),
    sa.Column("artifact_sha256", sa.Text(), nullable=False),
    sa.Column("uri", sa.Text(), nullable=False),
    sa.Column("media_type", sa.Text(), nullable=False),
    sa.Column("size_bytes", INT64, nullable=False),
    sa.PrimaryKeyConstraint("tenant_id", "run_instance_id", "name"),
    sa.CheckConstraint("size_bytes >= 0", name="size_non_negative"),
    sa.ForeignKeyConstraint(
        ["tenant_id", "run_instance_id"], ["runs.tenant_id", "runs.run_instance_id"]
    ),
    **TABLE_OPTIONS,
)

sweep_families = sa.Table(
    "sweep_families",
    metadata,
    tenant_column(),
    sa.Column("family_id", sa.Text(), nullable=False),
    sa.Column("run_instance_id", sa.Text(), nullable=False),
    sa.Column("name", sa.Text(), nullable=False),
    sa.Column("n_hypotheses", sa.Integer(), nullable=False),
    sa.Column("created_at", sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint("tenant_id", "family_id"),
    sa.CheckConstraint("n_hypotheses >= 0", name="n_hypotheses_non_negative"),
    sa.ForeignKeyConstraint(
        ["tenant_id", "run_instance_id"], ["runs.tenant_id", "runs.run_instance_id"]
    ),
    **TABLE_OPTIONS,
)

sweep_hypotheses = sa.Table(
    "sweep_hypotheses",
    metadata,
    tenant_column(),
    sa.Column("family_id", sa.Text(), nullable=False),
    sa.Column("hypothesis_id", sa.Text(), nullable=False),
    sa.Column("signal", sa.Text(), nullable=False),
    sa.Column("horizon", sa.Integer(), nullable=False),
    sa.Column("params_json", sa.Text(), nullable=False, server_default="{}"),
    sa.PrimaryKeyConstraint("tenant_id", "family_id", "hypothesis_id"),
    sa.CheckConstraint("horizon >= 1", name="horizon_positive"),
    sa.ForeignKeyConstraint(
        ["tenant_id", "family_id"], ["sweep_families.tenant_id", "sweep_families.family_id"]
    ),
    **TABLE_OPTIONS,
)
