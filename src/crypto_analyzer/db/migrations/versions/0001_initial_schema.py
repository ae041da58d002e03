"""Initial schema: every table family of DESIGN §5, plus append-only triggers.

Revision ID: 0001
Revises:
Create Date: 2026-11-27

Self-contained on purpose: the tables are spelled out here rather than imported from
``crypto_analyzer.db.schema`` so this revision keeps meaning what it meant when it shipped. Each
operation is guarded by the inspector, so a database created by hand or half-migrated by a killed
process converges instead of failing. Triggers are written per dialect in the same revision.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Frozen copies of the column types of db.schema at the time of this revision. SQLite tables are
# STRICT, which accepts only the core type names, hence the variants.
INT64 = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
FLOAT64: sa.Double[float] = sa.Double().with_variant(sa.REAL(), "sqlite")
STRICT = {"sqlite_strict": True}

APPEND_ONLY_TABLES = (
    "governance_events",
    "eligibility_reports",
    "artifact_lineage",
    "artifact_edges",
)

_PG_REJECT_FUNCTION = """
CREATE OR REPLACE FUNCTION ca_reject_append_only_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% is append-only: % is not allowed', TG_TABLE_NAME, TG_OP
        USING ERRCODE = 'restrict_violation';
END
$$
"""


def _has_table(name: str) -> bool:
    return sa.inspect(op.get_bind()).has_table(name)


def _create_table(name: str, *elements: Any, **kwargs: Any) -> None:
    if not _has_table(name):
        op.create_table(name, *elements, **kwargs)


def _create_index(name: str, table: str, columns: list[str]) -> None:
    existing = {index["name"] for index in sa.inspect(op.get_bind()).get_indexes(table)}
    if name not in existing:
        op.create_index(name, table, columns, unique=False)


def _create_append_only_triggers() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        op.execute(_PG_REJECT_FUNCTION)
    for table in APPEND_ONLY_TABLES:
        for action in ("UPDATE", "DELETE"):
            trigger = f"trg_{table}_no_{action.lower()}"
            if dialect == "sqlite":
                op.execute(
                    f"CREATE TRIGGER IF NOT EXISTS {trigger} BEFORE {action} ON {table} "
                    "BEGIN SELECT RAISE(ABORT, "
                    f"'{table} is append-only: {action} is not allowed'); END"
                )
            elif dialect == "postgresql":
                op.execute(f"DROP TRIGGER IF EXISTS {trigger} ON {table}")
                op.execute(
                    f"CREATE TRIGGER {trigger} BEFORE {action} ON {table} "
                    "FOR EACH ROW EXECUTE FUNCTION ca_reject_append_only_change()"
                )
        if dialect == "postgresql":
            trigger = f"trg_{table}_no_truncate"
            op.execute(f"DROP TRIGGER IF EXISTS {trigger} ON {table}")
            op.execute(
                f"CREATE TRIGGER {trigger} BEFORE TRUNCATE ON {table} "
                "FOR EACH STATEMENT EXECUTE FUNCTION ca_reject_append_only_change()"
            )


def _drop_append_only_triggers() -> None:
    dialect = op.get_bind().dialect.name
    for table in APPEND_ONLY_TABLES:
        for action in ("update", "delete", "truncate"):
            trigger = f"trg_{table}_no_{action}"
            if dialect == "sqlite":
                op.execute(f"DROP TRIGGER IF EXISTS {trigger}")
            elif dialect == "postgresql" and _has_table(table):
                op.execute(f"DROP TRIGGER IF EXISTS {trigger} ON {table}")
    if dialect == "postgresql":
        op.execute("DROP FUNCTION IF EXISTS ca_reject_append_only_change()")


def upgrade() -> None:
    _create_table(
        "artifact_lineage",
        sa.Column("tenant_id", sa.Text(), server_default="default", nullable=False),
        sa.Column("run_instance_id", sa.Text(), nullable=False),
        sa.Column("logical_name", sa.Text(), nullable=False),
        sa.Column("artifact_sha256", sa.Text(), nullable=False),
        sa.Column("uri", sa.Text(), nullable=False),
        sa.Column("artifact_type", sa.Text(), nullable=False),
        sa.Column("schema_version", sa.Text(), nullable=True),
        sa.Column("plugin_manifest_json", sa.Text(), nullable=True),
        sa.Column("size_bytes", INT64, nullable=False),
        sa.Column("created_at", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint(
            "tenant_id", "run_instance_id", "logical_name", name=op.f("pk_artifact_lineage")
        ),
        **STRICT,
    )
    _create_index(
        "ix_artifact_lineage_tenant_id_artifact_sha256",
        "artifact_lineage",
        ["tenant_id", "artifact_sha256"],
    )
    _create_table(
        "factor_runs",
        sa.Column("tenant_id", sa.Text(), server_default="default", nullable=False),
        sa.Column("factor_run_id", sa.Text(), nullable=False),
        sa.Column("dataset_id", sa.Text(), nullable=False),
        sa.Column("config_json", sa.Text(), nullable=False),
        sa.Column("config_digest", sa.Text(), nullable=False),
        sa.Column("engine_version", sa.Text(), nullable=False),
        sa.Column("status", sa.Text(), nullable=False),
        sa.Column("created_at", sa.Text(), nullable=False),
        sa.Column("finished_at", sa.Text(), nullable=True),
        sa.CheckConstraint(
            "status IN ('running', 'succeeded', 'failed')", name=op.f("ck_factor_runs_status")
        ),
        sa.PrimaryKeyConstraint("tenant_id", "factor_run_id", name=op.f("pk_factor_runs")),
        **STRICT,
    )
    _create_table(
        "governance_events",
        sa.Column("tenant_id", sa.Text(), server_default="default", nullable=False),
        sa.Column("event_id", sa.Text(), nullable=False),
        sa.Column("seq", INT64, nullable=False),
        sa.Column("candidate_id", sa.Text(), nullable=True),
        sa.Column("event_type", sa.Text(), nullable=False),
        sa.Column("from_status", sa.Text(), nullable=True),
        sa.Column("to_status", sa.Text(), nullable=True),
        sa.Column("report_id", sa.Text(), nullable=True),
        sa.Column("actor", sa.Text(), nullable=False),
        sa.Column("payload_json", sa.Text(), nullable=False),
        sa.Column("created_at", sa.Text(), nullable=False),
        sa.Column("prev_hash", sa.Text(), nullable=False),
        sa.Column("hash", sa.Text(), nullable=False),
        sa.CheckConstraint(
            "event_type IN ('created', 'evaluated', 'promoted', 'rejected', 'revoked')",
            name=op.f("ck_governance_events_event_type"),
        ),
        sa.CheckConstraint("seq >= 0", name=op.f("ck_governance_events_seq_non_negative")),
        sa.PrimaryKeyConstraint("tenant_id", "event_id", name=op.f("pk_governance_events")),
        sa.UniqueConstraint("tenant_id", "seq", name=op.f("uq_governance_events_tenant_id_seq")),
        **STRICT,
    )
    _create_table(
        "ingest_runs",
        sa.Column("tenant_id", sa.Text(), server_default="default", nullable=False),
        sa.Column("ingest_run_id", sa.Text(), nullable=False),
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("provider", sa.Text(), nullable=False),
        sa.Column("actor", sa.Text(), nullable=False),
        sa.Column("params_json", sa.Text(), nullable=False),
        sa.Column("started_at", sa.Text(), nullable=False),
        sa.Column("finished_at", sa.Text(), nullable=True),
        sa.Column("status", sa.Text(), nullable=False),
        sa.Column("n_received", INT64, server_default="0", nullable=False),
        sa.Column("n_accepted", INT64, server_default="0", nullable=False),
        sa.Column("n_rejected", INT64, server_default="0", nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.CheckConstraint(
            "kind IN ('backfill', 'poll', 'import', 'synthetic', 'materialize', 'seed')",
            name=op.f("ck_ingest_runs_kind"),
        ),
        sa.CheckConstraint(
            "status IN ('running', 'succeeded', 'failed', 'interrupted')",
            name=op.f("ck_ingest_runs_status"),
        ),
        sa.CheckConstraint(
            "n_received >= 0 AND n_accepted >= 0 AND n_rejected >= 0",
            name=op.f("ck_ingest_runs_counts_non_negative"),
        ),
        sa.PrimaryKeyConstraint("tenant_id", "ingest_run_id", name=op.f("pk_ingest_runs")),
        **STRICT,
    )
    _create_table(
        "principals",
        sa.Column("tenant_id", sa.Text(), server_default="default", nullable=False),
        sa.Column("principal_id", sa.Text(), nullable=False),
        sa.Column("display_name", sa.Text(), nullable=False),
        sa.Column("role", sa.Text(), nullable=False),
        sa.Column("created_at", sa.Text(), nullable=False),
        sa.Column("disabled_at", sa.Text(), nullable=True),
        sa.CheckConstraint(
            "role IN ('researcher', 'reviewer', 'admin')", name=op.f("ck_principals_role")
        ),
        sa.PrimaryKeyConstraint("tenant_id", "principal_id", name=op.f("pk_principals")),
        **STRICT,
    )
    _create_table(
        "provider_health",
        sa.Column("tenant_id", sa.Text(), server_default="default", nullable=False),
        sa.Column("provider", sa.Text(), nullable=False),
        sa.Column("data_kind", sa.Text(), nullable=False),
        sa.Column("breaker_state", sa.Text(), server_default="closed", nullable=False),
        sa.Column("consecutive_failures", sa.Integer(), server_default="0", nullable=False),
        sa.Column("last_success_at", sa.Text(), nullable=True),
        sa.Column("last_failure_at", sa.Text(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("opened_at", sa.Text(), nullable=True),
        sa.Column("updated_at", sa.Text(), nullable=False),
        sa.CheckConstraint(
            "breaker_state IN ('closed', 'open', 'half_open')",
            name=op.f("ck_provider_health_breaker_state"),
        ),
        sa.PrimaryKeyConstraint(
            "tenant_id", "provider", "data_kind", name=op.f("pk_provider_health")
        ),
        **STRICT,
    )
    _create_table(
        "regime_runs",
        sa.Column("tenant_id", sa.Text(), server_default="default", nullable=False),
        sa.Column("regime_run_id", sa.Text(), nullable=False),
        sa.Column("dataset_id", sa.Text(), nullable=False),
        sa.Column("model", sa.Text(), nullable=False),
        sa.Column("config_json", sa.Text(), nullable=False),
        sa.Column("config_digest", sa.Text(), nullable=False),
        sa.Column("engine_version", sa.Text(), nullable=False),
        sa.Column("status", sa.Text(), nullable=False),
        sa.Column("created_at", sa.Text(), nullable=False),
        sa.Column("finished_at", sa.Text(), nullable=True),
        sa.CheckConstraint(
            "status IN ('running', 'succeeded', 'failed')", name=op.f("ck_regime_runs_status")
        ),
        sa.PrimaryKeyConstraint("tenant_id", "regime_run_id", name=op.f("pk_regime_runs")),
        **STRICT,
    )
    _create_table(
        "runs",
        sa.Column("tenant_id", sa.Text(), server_default="default", nullable=False),
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
        sa.Column("tags_json", sa.Text(), server_default="[]", nullable=False),
        sa.Column("actor", sa.Text(), nullable=False),
        sa.Column("status", sa.Text(), nullable=False),
        sa.Column("started_at", sa.Text(), nullable=False),
        sa.Column("finished_at", sa.Text(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.CheckConstraint(
            "dataset_mode IN ('strict', 'fast_dev')", name=op.f("ck_runs_dataset_mode")
        ),
        sa.CheckConstraint(
            "status IN ('running', 'succeeded', 'failed')", name=op.f("ck_runs_status")
        ),
        sa.PrimaryKeyConstraint("tenant_id", "run_instance_id", name=op.f("pk_runs")),
        **STRICT,
    )
    _create_index("ix_runs_tenant_id_run_key", "runs", ["tenant_id", "run_key"])
    _create_table(
        "signing_keys",
        sa.Column("tenant_id", sa.Text(), server_default="default", nullable=False),
        sa.Column("key_id", sa.Text(), nullable=False),
        sa.Column("algorithm", sa.Text(), nullable=False),
        sa.Column("public_key", sa.Text(), nullable=False),
        sa.Column("owner", sa.Text(), nullable=False),
        sa.Column("valid_from", sa.Text(), nullable=False),
        sa.Column("valid_until", sa.Text(), nullable=True),
        sa.Column("revoked_at", sa.Text(), nullable=True),
        sa.Column("revocation_reason", sa.Text(), nullable=True),
        sa.Column("created_at", sa.Text(), nullable=False),
        sa.CheckConstraint("algorithm IN ('ed25519')", name=op.f("ck_signing_keys_algorithm")),
        sa.CheckConstraint(
            "revoked_at IS NULL OR revocation_reason IS NOT NULL",
            name=op.f("ck_signing_keys_revocation_has_reason"),
        ),
        sa.PrimaryKeyConstraint("tenant_id", "key_id", name=op.f("pk_signing_keys")),
        **STRICT,
    )
    _create_table(
        "tenants",
        sa.Column("tenant_id", sa.Text(), server_default="default", nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("created_at", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("tenant_id", name=op.f("pk_tenants")),
        **STRICT,
    )
    _create_table(
        "api_keys",
        sa.Column("tenant_id", sa.Text(), server_default="default", nullable=False),
        sa.Column("key_id", sa.Text(), nullable=False),
        sa.Column("principal_id", sa.Text(), nullable=False),
        sa.Column("key_hash", sa.Text(), nullable=False),
        sa.Column("created_at", sa.Text(), nullable=False),
        sa.Column("expires_at", sa.Text(), nullable=True),
        sa.Column("revoked_at", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["tenant_id", "principal_id"],
            ["principals.tenant_id", "principals.principal_id"],
            name=op.f("fk_api_keys_tenant_id_principal_id_principals"),
        ),
        sa.PrimaryKeyConstraint("tenant_id", "key_id", name=op.f("pk_api_keys")),
        sa.UniqueConstraint("key_hash", name=op.f("uq_api_keys_key_hash")),
        **STRICT,
    )
    _create_table(
        "artifact_edges",
        sa.Column("tenant_id", sa.Text(), server_default="default", nullable=False),
        sa.Column("run_instance_id", sa.Text(), nullable=False),
        sa.Column("src_name", sa.Text(), nullable=False),
        sa.Column("edge_type", sa.Text(), nullable=False),
        sa.Column("dst_ref", sa.Text(), nullable=False),
        sa.Column("created_at", sa.Text(), nullable=False),
        sa.CheckConstraint(
            "edge_type IN ('derived_from', 'uses_dataset', 'uses_config', 'uses_folds', 'attests')",
            name=op.f("ck_artifact_edges_edge_type"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "run_instance_id", "src_name"],
            [
                "artifact_lineage.tenant_id",
                "artifact_lineage.run_instance_id",
                "artifact_lineage.logical_name",
            ],
            name=op.f("fk_artifact_edges_tenant_id_run_instance_id_src_name_artifact_lineage"),
        ),
        sa.PrimaryKeyConstraint(
            "tenant_id",
            "run_instance_id",
            "src_name",
            "edge_type",
            "dst_ref",
            name=op.f("pk_artifact_edges"),
        ),
        **STRICT,
    )
    _create_table(
        "factor_betas",
        sa.Column("tenant_id", sa.Text(), server_default="default", nullable=False),
        sa.Column("factor_run_id", sa.Text(), nullable=False),
        sa.Column("instrument_id", sa.Text(), nullable=False),
        sa.Column("ts_ms", INT64, nullable=False),
        sa.Column("factor", sa.Text(), nullable=False),
        sa.Column("beta", FLOAT64, nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id", "factor_run_id"],
            ["factor_runs.tenant_id", "factor_runs.factor_run_id"],
            name=op.f("fk_factor_betas_tenant_id_factor_run_id_factor_runs"),
        ),
        sa.PrimaryKeyConstraint(
            "tenant_id",
            "factor_run_id",
            "instrument_id",
            "ts_ms",
            "factor",
            name=op.f("pk_factor_betas"),
        ),
        **STRICT,
        sqlite_with_rowid=False,
    )
    _create_table(
        "factor_residuals",
        sa.Column("tenant_id", sa.Text(), server_default="default", nullable=False),
        sa.Column("factor_run_id", sa.Text(), nullable=False),
        sa.Column("instrument_id", sa.Text(), nullable=False),
        sa.Column("ts_ms", INT64, nullable=False),
        sa.Column("alpha", FLOAT64, nullable=True),
        sa.Column("r_squared", FLOAT64, nullable=True),
        sa.Column("residual", FLOAT64, nullable=True),
        sa.ForeignKeyConstraint(
            ["tenant_id", "factor_run_id"],
            ["factor_runs.tenant_id", "factor_runs.factor_run_id"],
            name=op.f("fk_factor_residuals_tenant_id_factor_run_id_factor_runs"),
        ),
        sa.PrimaryKeyConstraint(
            "tenant_id", "factor_run_id", "instrument_id", "ts_ms", name=op.f("pk_factor_residuals")
        ),
        **STRICT,
        sqlite_with_rowid=False,
    )
    _create_table(
        "idempotency_keys",
        sa.Column("tenant_id", sa.Text(), server_default="default", nullable=False),
        sa.Column("principal_id", sa.Text(), nullable=False),
        sa.Column("idempotency_key", sa.Text(), nullable=False),
        sa.Column("request_digest", sa.Text(), nullable=False),
        sa.Column("response_status", sa.Integer(), nullable=False),
        sa.Column("response_body", sa.Text(), nullable=False),
        sa.Column("created_at", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id", "principal_id"],
            ["principals.tenant_id", "principals.principal_id"],
            name=op.f("fk_idempotency_keys_tenant_id_principal_id_principals"),
        ),
        sa.PrimaryKeyConstraint(
            "tenant_id", "principal_id", "idempotency_key", name=op.f("pk_idempotency_keys")
        ),
        **STRICT,
    )
    _create_table(
        "ingest_rejects",
        sa.Column("tenant_id", sa.Text(), server_default="default", nullable=False),
        sa.Column("ingest_run_id", sa.Text(), nullable=False),
        sa.Column("seq", INT64, nullable=False),
        sa.Column("data_kind", sa.Text(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("raw_payload", sa.Text(), nullable=False),
        sa.Column("payload_sha256", sa.Text(), nullable=False),
        sa.Column("created_at", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id", "ingest_run_id"],
            ["ingest_runs.tenant_id", "ingest_runs.ingest_run_id"],
            name=op.f("fk_ingest_rejects_tenant_id_ingest_run_id_ingest_runs"),
        ),
        sa.PrimaryKeyConstraint(
            "tenant_id", "ingest_run_id", "seq", name=op.f("pk_ingest_rejects")
        ),
        **STRICT,
    )
    _create_table(
        "instruments",
        sa.Column("tenant_id", sa.Text(), server_default="default", nullable=False),
        sa.Column("instrument_id", sa.Text(), nullable=False),
        sa.Column("venue", sa.Text(), nullable=False),
        sa.Column("symbol", sa.Text(), nullable=False),
        sa.Column("base", sa.Text(), nullable=True),
        sa.Column("quote", sa.Text(), nullable=True),
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("chain", sa.Text(), nullable=True),
        sa.Column("pair_address", sa.Text(), nullable=True),
        sa.Column("created_at", sa.Text(), nullable=False),
        sa.Column("ingest_run_id", sa.Text(), nullable=False),
        sa.CheckConstraint(
            "kind IN ('spot', 'perp', 'dex_pair', 'synthetic', 'index')",
            name=op.f("ck_instruments_kind"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "ingest_run_id"],
            ["ingest_runs.tenant_id", "ingest_runs.ingest_run_id"],
            name=op.f("fk_instruments_tenant_id_ingest_run_id_ingest_runs"),
        ),
        sa.PrimaryKeyConstraint("tenant_id", "instrument_id", name=op.f("pk_instruments")),
        **STRICT,
    )
    _create_table(
        "promotion_candidates",
        sa.Column("tenant_id", sa.Text(), server_default="default", nullable=False),
        sa.Column("candidate_id", sa.Text(), nullable=False),
        sa.Column("run_instance_id", sa.Text(), nullable=False),
        sa.Column("run_key", sa.Text(), nullable=False),
        sa.Column("dataset_id", sa.Text(), nullable=False),
        sa.Column("signal", sa.Text(), nullable=False),
        sa.Column("horizon", sa.Integer(), nullable=False),
        sa.Column("status", sa.Text(), server_default="exploratory", nullable=False),
        sa.Column("evidence_digest", sa.Text(), nullable=False),
        sa.Column("eligibility_report_id", sa.Text(), nullable=True),
        sa.Column("status_reason", sa.Text(), nullable=True),
        sa.Column("created_by", sa.Text(), nullable=False),
        sa.Column("created_at", sa.Text(), nullable=False),
        sa.Column("updated_at", sa.Text(), nullable=False),
        sa.CheckConstraint(
            "status IN ('exploratory', 'candidate', 'accepted', 'rejected', 'revoked')",
            name=op.f("ck_promotion_candidates_status"),
        ),
        sa.CheckConstraint("horizon >= 1", name=op.f("ck_promotion_candidates_horizon_positive")),
        sa.ForeignKeyConstraint(
            ["tenant_id", "run_instance_id"],
            ["runs.tenant_id", "runs.run_instance_id"],
            name=op.f("fk_promotion_candidates_tenant_id_run_instance_id_runs"),
        ),
        sa.PrimaryKeyConstraint("tenant_id", "candidate_id", name=op.f("pk_promotion_candidates")),
        **STRICT,
    )
    _create_table(
        "regime_states",
        sa.Column("tenant_id", sa.Text(), server_default="default", nullable=False),
        sa.Column("regime_run_id", sa.Text(), nullable=False),
        sa.Column("ts_ms", INT64, nullable=False),
        sa.Column("regime", sa.Text(), nullable=False),
        sa.Column("probability", FLOAT64, nullable=True),
        sa.CheckConstraint(
            "probability IS NULL OR (probability >= 0 AND probability <= 1)",
            name=op.f("ck_regime_states_probability_range"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "regime_run_id"],
            ["regime_runs.tenant_id", "regime_runs.regime_run_id"],
            name=op.f("fk_regime_states_tenant_id_regime_run_id_regime_runs"),
        ),
        sa.PrimaryKeyConstraint(
            "tenant_id", "regime_run_id", "ts_ms", name=op.f("pk_regime_states")
        ),
        **STRICT,
        sqlite_with_rowid=False,
    )
    _create_table(
        "run_artifacts",
        sa.Column("tenant_id", sa.Text(), server_default="default", nullable=False),
        sa.Column("run_instance_id", sa.Text(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("artifact_sha256", sa.Text(), nullable=False),
        sa.Column("uri", sa.Text(), nullable=False),
        sa.Column("media_type", sa.Text(), nullable=False),
        sa.Column("size_bytes", INT64, nullable=False),
        sa.CheckConstraint("size_bytes >= 0", name=op.f("ck_run_artifacts_size_non_negative")),
        sa.ForeignKeyConstraint(
            ["tenant_id", "run_instance_id"],
            ["runs.tenant_id", "runs.run_instance_id"],
            name=op.f("fk_run_artifacts_tenant_id_run_instance_id_runs"),
        ),
        sa.PrimaryKeyConstraint(
            "tenant_id", "run_instance_id", "name", name=op.f("pk_run_artifacts")
        ),
        **STRICT,
    )
    _create_table(
        "run_metrics",
        sa.Column("tenant_id", sa.Text(), server_default="default", nullable=False),
        sa.Column("run_instance_id", sa.Text(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("value", FLOAT64, nullable=True),
        sa.ForeignKeyConstraint(
            ["tenant_id", "run_instance_id"],
            ["runs.tenant_id", "runs.run_instance_id"],
            name=op.f("fk_run_metrics_tenant_id_run_instance_id_runs"),
        ),
        sa.PrimaryKeyConstraint(
            "tenant_id", "run_instance_id", "name", name=op.f("pk_run_metrics")
        ),
        **STRICT,
    )
    _create_table(
        "sweep_families",
        sa.Column("tenant_id", sa.Text(), server_default="default", nullable=False),
        sa.Column("family_id", sa.Text(), nullable=False),
        sa.Column("run_instance_id", sa.Text(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("n_hypotheses", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.Text(), nullable=False),
        sa.CheckConstraint(
            "n_hypotheses >= 0", name=op.f("ck_sweep_families_n_hypotheses_non_negative")
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "run_instance_id"],
            ["runs.tenant_id", "runs.run_instance_id"],
            name=op.f("fk_sweep_families_tenant_id_run_instance_id_runs"),
        ),
        sa.PrimaryKeyConstraint("tenant_id", "family_id", name=op.f("pk_sweep_families")),
        **STRICT,
    )
    _create_table(
        "universe_snapshots",
        sa.Column("tenant_id", sa.Text(), server_default="default", nullable=False),
        sa.Column("snapshot_id", sa.Text(), nullable=False),
        sa.Column("provider", sa.Text(), nullable=False),
        sa.Column("filters_json", sa.Text(), nullable=False),
        sa.Column("n_members", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.Text(), nullable=False),
        sa.Column("ingest_run_id", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id", "ingest_run_id"],
            ["ingest_runs.tenant_id", "ingest_runs.ingest_run_id"],
            name=op.f("fk_universe_snapshots_tenant_id_ingest_run_id_ingest_runs"),
        ),
        sa.PrimaryKeyConstraint("tenant_id", "snapshot_id", name=op.f("pk_universe_snapshots")),
        **STRICT,
    )
    _create_table(
        "bars",
        sa.Column("tenant_id", sa.Text(), server_default="default", nullable=False),
        sa.Column("instrument_id", sa.Text(), nullable=False),
        sa.Column("freq", sa.Text(), nullable=False),
        sa.Column("bar_open_ms", INT64, nullable=False),
        sa.Column("open", FLOAT64, nullable=False),
        sa.Column("high", FLOAT64, nullable=False),
        sa.Column("low", FLOAT64, nullable=False),
        sa.Column("close", FLOAT64, nullable=False),
        sa.Column("volume", FLOAT64, nullable=False),
        sa.Column("vwap", FLOAT64, nullable=True),
        sa.Column("log_return", FLOAT64, nullable=True),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("ingest_run_id", sa.Text(), nullable=False),
        sa.Column("provider", sa.Text(), nullable=False),
        sa.Column("fetched_at", sa.Text(), nullable=False),
        sa.Column("status", sa.Text(), server_default="ok", nullable=False),
        sa.CheckConstraint(
            "source IN ('exchange', 'import', 'synthetic', 'snapshots', 'resampled')",
            name=op.f("ck_bars_source"),
        ),
        sa.CheckConstraint("status IN ('ok', 'suspect')", name=op.f("ck_bars_status")),
        sa.CheckConstraint(
            "high >= low AND open BETWEEN low AND high AND close BETWEEN low AND high",
            name=op.f("ck_bars_ohlc_consistent"),
        ),
        sa.CheckConstraint(
            "low > 0 AND open > 0 AND close > 0", name=op.f("ck_bars_prices_positive")
        ),
        sa.CheckConstraint("volume >= 0", name=op.f("ck_bars_volume_non_negative")),
        sa.ForeignKeyConstraint(
            ["tenant_id", "ingest_run_id"],
            ["ingest_runs.tenant_id", "ingest_runs.ingest_run_id"],
            name=op.f("fk_bars_tenant_id_ingest_run_id_ingest_runs"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "instrument_id"],
            ["instruments.tenant_id", "instruments.instrument_id"],
            name=op.f("fk_bars_tenant_id_instrument_id_instruments"),
        ),
        sa.PrimaryKeyConstraint(
            "tenant_id", "freq", "instrument_id", "bar_open_ms", name=op.f("pk_bars")
        ),
        **STRICT,
        sqlite_with_rowid=False,
    )
    _create_table(
        "eligibility_reports",
        sa.Column("tenant_id", sa.Text(), server_default="default", nullable=False),
        sa.Column("report_id", sa.Text(), nullable=False),
        sa.Column("candidate_id", sa.Text(), nullable=False),
        sa.Column("level", sa.Text(), nullable=False),
        sa.Column("passed", sa.Integer(), nullable=False),
        sa.Column("evidence_digest", sa.Text(), nullable=False),
        sa.Column("policy_id", sa.Text(), nullable=False),
        sa.Column("policy_digest", sa.Text(), nullable=False),
        sa.Column("reasons_json", sa.Text(), nullable=False),
        sa.Column("warnings_json", sa.Text(), nullable=False),
        sa.Column("actor", sa.Text(), nullable=False),
        sa.Column("created_at", sa.Text(), nullable=False),
        sa.CheckConstraint(
            "level IN ('candidate', 'accepted')", name=op.f("ck_eligibility_reports_level")
        ),
        sa.CheckConstraint("passed IN (0, 1)", name=op.f("ck_eligibility_reports_passed_flag")),
        sa.ForeignKeyConstraint(
            ["tenant_id", "candidate_id"],
            ["promotion_candidates.tenant_id", "promotion_candidates.candidate_id"],
            name=op.f("fk_eligibility_reports_tenant_id_candidate_id_promotion_candidates"),
        ),
        sa.PrimaryKeyConstraint("tenant_id", "report_id", name=op.f("pk_eligibility_reports")),
        **STRICT,
    )
    _create_table(
        "price_snapshots",
        sa.Column("tenant_id", sa.Text(), server_default="default", nullable=False),
        sa.Column("instrument_id", sa.Text(), nullable=False),
        sa.Column("observed_ms", INT64, nullable=False),
        sa.Column("price", FLOAT64, nullable=False),
        sa.Column("bid", FLOAT64, nullable=True),
        sa.Column("ask", FLOAT64, nullable=True),
        sa.Column("volume_24h", FLOAT64, nullable=True),
        sa.Column("liquidity_usd", FLOAT64, nullable=True),
        sa.Column("txn_count_24h", INT64, nullable=True),
        sa.Column("payload_sha256", sa.Text(), nullable=True),
        sa.Column("ingest_run_id", sa.Text(), nullable=False),
        sa.Column("provider", sa.Text(), nullable=False),
        sa.Column("fetched_at", sa.Text(), nullable=False),
        sa.Column("status", sa.Text(), server_default="ok", nullable=False),
        sa.CheckConstraint("status IN ('ok', 'suspect')", name=op.f("ck_price_snapshots_status")),
        sa.CheckConstraint("price > 0", name=op.f("ck_price_snapshots_price_positive")),
        sa.CheckConstraint(
            "volume_24h IS NULL OR volume_24h >= 0",
            name=op.f("ck_price_snapshots_volume_non_negative"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "ingest_run_id"],
            ["ingest_runs.tenant_id", "ingest_runs.ingest_run_id"],
            name=op.f("fk_price_snapshots_tenant_id_ingest_run_id_ingest_runs"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "instrument_id"],
            ["instruments.tenant_id", "instruments.instrument_id"],
            name=op.f("fk_price_snapshots_tenant_id_instrument_id_instruments"),
        ),
        sa.PrimaryKeyConstraint(
            "tenant_id", "instrument_id", "provider", "observed_ms", name=op.f("pk_price_snapshots")
        ),
        **STRICT,
        sqlite_with_rowid=False,
    )
    _create_table(
        "sweep_hypotheses",
        sa.Column("tenant_id", sa.Text(), server_default="default", nullable=False),
        sa.Column("family_id", sa.Text(), nullable=False),
        sa.Column("hypothesis_id", sa.Text(), nullable=False),
        sa.Column("signal", sa.Text(), nullable=False),
        sa.Column("horizon", sa.Integer(), nullable=False),
        sa.Column("params_json", sa.Text(), server_default="{}", nullable=False),
        sa.CheckConstraint("horizon >= 1", name=op.f("ck_sweep_hypotheses_horizon_positive")),
        sa.ForeignKeyConstraint(
            ["tenant_id", "family_id"],
            ["sweep_families.tenant_id", "sweep_families.family_id"],
            name=op.f("fk_sweep_hypotheses_tenant_id_family_id_sweep_families"),
        ),
        sa.PrimaryKeyConstraint(
            "tenant_id", "family_id", "hypothesis_id", name=op.f("pk_sweep_hypotheses")
        ),
        **STRICT,
    )
    _create_table(
        "universe_churn",
        sa.Column("tenant_id", sa.Text(), server_default="default", nullable=False),
        sa.Column("snapshot_id", sa.Text(), nullable=False),
        sa.Column("instrument_id", sa.Text(), nullable=False),
        sa.Column("action", sa.Text(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.CheckConstraint(
            "action IN ('added', 'removed', 'retained', 'held_pending_removal')",
            name=op.f("ck_universe_churn_action"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "snapshot_id"],
            ["universe_snapshots.tenant_id", "universe_snapshots.snapshot_id"],
            name=op.f("fk_universe_churn_tenant_id_snapshot_id_universe_snapshots"),
        ),
        sa.PrimaryKeyConstraint(
            "tenant_id", "snapshot_id", "instrument_id", name=op.f("pk_universe_churn")
        ),
        **STRICT,
    )
    _create_table(
        "universe_members",
        sa.Column("tenant_id", sa.Text(), server_default="default", nullable=False),
        sa.Column("snapshot_id", sa.Text(), nullable=False),
        sa.Column("instrument_id", sa.Text(), nullable=False),
        sa.Column("rank", sa.Integer(), nullable=False),
        sa.Column("liquidity_usd", FLOAT64, nullable=True),
        sa.Column("volume_24h", FLOAT64, nullable=True),
        sa.ForeignKeyConstraint(
            ["tenant_id", "snapshot_id"],
            ["universe_snapshots.tenant_id", "universe_snapshots.snapshot_id"],
            name=op.f("fk_universe_members_tenant_id_snapshot_id_universe_snapshots"),
        ),
        sa.PrimaryKeyConstraint(
            "tenant_id", "snapshot_id", "instrument_id", name=op.f("pk_universe_members")
        ),
        **STRICT,
    )

    _create_append_only_triggers()


def downgrade() -> None:
    _drop_append_only_triggers()
    if _has_table("universe_members"):
        op.drop_table("universe_members")
    if _has_table("universe_churn"):
        op.drop_table("universe_churn")
    if _has_table("sweep_hypotheses"):
        op.drop_table("sweep_hypotheses")
    if _has_table("price_snapshots"):
        op.drop_table("price_snapshots")
    if _has_table("eligibility_reports"):
        op.drop_table("eligibility_reports")
    if _has_table("bars"):
        op.drop_table("bars")
    if _has_table("universe_snapshots"):
        op.drop_table("universe_snapshots")
    if _has_table("sweep_families"):
        op.drop_table("sweep_families")
    if _has_table("run_metrics"):
        op.drop_table("run_metrics")
    if _has_table("run_artifacts"):
        op.drop_table("run_artifacts")
    if _has_table("regime_states"):
        op.drop_table("regime_states")
    if _has_table("promotion_candidates"):
        op.drop_table("promotion_candidates")
    if _has_table("instruments"):
        op.drop_table("instruments")
    if _has_table("ingest_rejects"):
        op.drop_table("ingest_rejects")
    if _has_table("idempotency_keys"):
        op.drop_table("idempotency_keys")
    if _has_table("factor_residuals"):
        op.drop_table("factor_residuals")
    if _has_table("factor_betas"):
        op.drop_table("factor_betas")
    if _has_table("artifact_edges"):
        op.drop_table("artifact_edges")
    if _has_table("api_keys"):
        op.drop_table("api_keys")
    if _has_table("tenants"):
        op.drop_table("tenants")
    if _has_table("signing_keys"):
        op.drop_table("signing_keys")
    if _has_table("runs"):
        op.drop_table("runs")
    if _has_table("regime_runs"):
        op.drop_table("regime_runs")
    if _has_table("provider_health"):
        op.drop_table("provider_health")
    if _has_table("principals"):
        op.drop_table("principals")
    if _has_table("ingest_runs"):
        op.drop_table("ingest_runs")
    if _has_table("governance_events"):
        op.drop_table("governance_events")
    if _has_table("factor_runs"):
        op.drop_table("factor_runs")
    if _has_table("artifact_lineage"):
        op.drop_table("artifact_lineage")
