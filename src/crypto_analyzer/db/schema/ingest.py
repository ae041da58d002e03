"""Ingestion bookkeeping: ingest runs, quarantined records and provider health.

An ingest run row exists before any row it stamps; a rejected record keeps its raw payload and the
reason, so nothing received is ever dropped without a row saying why.
"""

from __future__ import annotations

import sqlalchemy as sa

from crypto_analyzer.db.schema._base import (
    INT64,
    TABLE_OPTIONS,
    metadata,
    status_check,
    tenant_column,
    text_enum_check,
)

__all__ = [
    "BREAKER_STATES",
    "INGEST_KINDS",
    "INGEST_STATUSES",
    "ingest_rejects",
    "ingest_runs",
    "provider_health",
]

INGEST_KINDS = ("backfill", "poll", "import", "synthetic", "materialize", "seed")
INGEST_STATUSES = ("running", "succeeded", "failed", "interrupted")
BREAKER_STATES = ("closed", "open", "half_open")

ingest_runs = sa.Table(
    "ingest_runs",
    metadata,
    tenant_column(),
    sa.Column("ingest_run_id", sa.Text(), nullable=False),
    sa.Column("kind", sa.Text(), nullable=False),
    sa.Column("provider", sa.Text(), nullable=False),
    sa.Column("actor", sa.Text(), nullable=False),
    sa.Column("params_json", sa.Text(), nullable=False),
    sa.Column("started_at", sa.Text(), nullable=False),
    sa.Column("finished_at", sa.Text(), nullable=True),
    sa.Column("status", sa.Text(), nullable=False),
    sa.Column("n_received", INT64, nullable=False, server_default="0"),
    sa.Column("n_accepted", INT64, nullable=False, server_default="0"),
    sa.Column("n_rejected", INT64, nullable=False, server_default="0"),
    sa.Column("error", sa.Text(), nullable=True),
    # The process that runs it (revision 0003): lets a later command see a dead run for what it is.
    sa.Column("pid", INT64, nullable=True),
    sa.Column("host", sa.Text(), nullable=True),
    # The highest market revision the run recorded (revision 0004), set when it finishes: lets
    # ``check-dataset --as-of`` name an ingest run.
    sa.Column("last_revision", INT64, nullable=True),
    sa.PrimaryKeyConstraint("tenant_id", "ingest_run_id"),
    text_enum_check("kind", INGEST_KINDS, "kind"),
    status_check(INGEST_STATUSES),
    sa.CheckConstraint(
        "n_received >= 0 AND n_accepted >= 0 AND n_rejected >= 0", name="counts_non_negative"
    ),
    **TABLE_OPTIONS,
)

ingest_rejects = sa.Table(
    "ingest_rejects",
    metadata,
    tenant_column(),
    sa.Column("ingest_run_id", sa.Text(), nullable=False),
    sa.Column("seq", INT64, nullable=False),
    sa.Column("data_kind", sa.Text(), nullable=False),
    sa.Column("reason", sa.Text(), nullable=False),
    sa.Column("raw_payload", sa.Text(), nullable=False),
    sa.Column("payload_sha256", sa.Text(), nullable=False),
    sa.Column("created_at", sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint("tenant_id", "ingest_run_id", "seq"),
    sa.ForeignKeyConstraint(
        ["tenant_id", "ingest_run_id"], ["ingest_runs.tenant_id", "ingest_runs.ingest_run_id"]
    ),
    **TABLE_OPTIONS,
)

provider_health = sa.Table(
    "provider_health",
    metadata,
    tenant_column(),
    sa.Column("provider", sa.Text(), nullable=False),
    sa.Column("data_kind", sa.Text(), nullable=False),
    sa.Column("breaker_state", sa.Text(), nullable=False, server_default="closed"),
    sa.Column("consecutive_failures", sa.Integer(), nullable=False, server_default="0"),
    sa.Column("last_success_at", sa.Text(), nullable=True),
    sa.Column("last_failure_at", sa.Text(), nullable=True),
    sa.Column("last_error", sa.Text(), nullable=True),
    sa.Column("opened_at", sa.Text(), nullable=True),
    sa.Column("updated_at", sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint("tenant_id", "provider", "data_kind"),
    text_enum_check("breaker_state", BREAKER_STATES, "breaker_state"),
    **TABLE_OPTIONS,
)
