"""Materialized research inputs: factor runs (betas, residuals) and regime runs (states).

Since revision 0016 a factor run's values are a file in the artifact store and ``factor_runs``
records their digests; ``factor_betas``/``factor_residuals`` hold only runs written before it
(read and converted on first reuse, see ``db.factor_rows``).

Each run is keyed by a digest of its canonical config plus the dataset id, so the same fit over the
same data is reused instead of recomputed, and each derived row names the run that made it.
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
)

__all__ = [
    "DERIVED_RUN_STATUSES",
    "factor_betas",
    "factor_residuals",
    "factor_runs",
    "regime_runs",
    "regime_states",
]

DERIVED_RUN_STATUSES = ("running", "succeeded", "failed")

factor_runs = sa.Table(
    "factor_runs",
    metadata,
    tenant_column(),
    sa.Column("factor_run_id", sa.Text(), nullable=False),
    sa.Column("dataset_id", sa.Text(), nullable=False),
    sa.Column("config_json", sa.Text(), nullable=False),
    sa.Column("config_digest", sa.Text(), nullable=False),
    sa.Column("engine_version", sa.Text(), nullable=False),
    sa.Column("status", sa.Text(), nullable=False),
    sa.Column("created_at", sa.Text(), nullable=False),
    sa.Column("finished_at", sa.Text(), nullable=True),
    # revision 0016: the values live in the artifact store; the row keeps their digests
    sa.Column("values_digest", sa.Text(), nullable=True),
    sa.Column("artifact_key", sa.Text(), nullable=True),
    sa.Column("artifact_sha256", sa.Text(), nullable=True),
    sa.Column("artifact_size", INT64, nullable=True),
    sa.PrimaryKeyConstraint("tenant_id", "factor_run_id"),
    status_check(DERIVED_RUN_STATUSES),
    **TABLE_OPTIONS,
)

factor_betas = sa.Table(
    "factor_betas",
    metadata,
    tenant_column(),
    sa.Column("factor_run_id", sa.Text(), nullable=False),
    sa.Column("instrument_id", sa.Text(), nullable=False),
    sa.Column("ts_ms", INT64, nullable=False),
    sa.Column("factor", sa.Text(), nullable=False),
    sa.Column("beta", FLOAT64, nullable=False),
    sa.PrimaryKeyConstraint("tenant_id", "factor_run_id", "instrument_id", "ts_ms", "factor"),
    sa.ForeignKeyConstraint(
        ["tenant_id", "factor_run_id"], ["factor_runs.tenant_id", "factor_runs.factor_run_id"]
    ),
    sqlite_with_rowid=False,
    **TABLE_OPTIONS,
)

factor_residuals = sa.Table(
    "factor_residuals",
    metadata,
    tenant_column(),
    sa.Column("factor_run_id", sa.Text(), nullable=False),
    sa.Column("instrument_id", sa.Text(), nullable=False),
    sa.Column("ts_ms", INT64, nullable=False),
    sa.Column("alpha", FLOAT64, nullable=True),
    sa.Column("r_squared", FLOAT64, nullable=True),
    sa.Column("residual", FLOAT64, nullable=True),
    sa.PrimaryKeyConstraint("tenant_id", "factor_run_id", "instrument_id", "ts_ms"),
    sa.ForeignKeyConstraint(
        ["tenant_id", "factor_run_id"], ["factor_runs.tenant_id", "factor_runs.factor_run_id"]
    ),
    sqlite_with_rowid=False,
    **TABLE_OPTIONS,
)

regime_runs = sa.Table(
    "regime_runs",
    metadata,
    tenant_column(),
    sa.Column("regime_run_id", sa.Text(), nullable=False),
    sa.Column("dataset_id", sa.Text(), nullable=False),
    sa.Column("model", sa.Text(), nullable=False),
    sa.Column("config_json", sa.Text(), nullable=False),
    sa.Column("config_digest", sa.Text(), nullable=False),
    sa.Column("engine_version", sa.Text(), nullable=False),
    sa.Column("status", sa.Text(), nullable=False),
    sa.Column("created_at", sa.Text(), nullable=False),
    sa.Column("finished_at", sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint("tenant_id", "regime_run_id"),
    status_check(DERIVED_RUN_STATUSES),
    **TABLE_OPTIONS,
)

regime_states = sa.Table(
    "regime_states",
    metadata,
    tenant_column(),
    sa.Column("regime_run_id", sa.Text(), nullable=False),
    sa.Column("ts_ms", INT64, nullable=False),
    sa.Column("regime", sa.Text(), nullable=False),
    sa.Column("probability", FLOAT64, nullable=True),
    sa.PrimaryKeyConstraint("tenant_id", "regime_run_id", "ts_ms"),
    sa.CheckConstraint(
        "probability IS NULL OR (probability >= 0 AND probability <= 1)", name="probability_range"
    ),
    sa.ForeignKeyConstraint(
        ["tenant_id", "regime_run_id"], ["regime_runs.tenant_id", "regime_runs.regime_run_id"]
    ),
    sqlite_with_rowid=False,
    **TABLE_OPTIONS,
)
