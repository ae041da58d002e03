"""Market data: instruments, spot/DEX snapshots, OHLCV bars and the DEX universe.

Market time axes are epoch milliseconds (``*_ms``, BIGINT) so keys sort and compare the same on
every
backend; provenance timestamps are ISO-8601 UTC text. Every observation row names the ingest run,
provider, fetch time and status that produced it (invariant 3).

``bars`` and ``instruments`` are point-in-time (revision 0004): each row carries the market
revision that last wrote it (``revision``, 0 for rows written before revisions existed) and every
version an update replaces is kept in ``db.schema.history`` (invariant 11).
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
    "BAR_SOURCES",
    "INSTRUMENT_KINDS",
    "OBSERVATION_STATUSES",
    "UNIVERSE_ACTIONS",
    "bars",
    "instruments",
    "price_snapshots",
    "universe_churn",
    "universe_members",
    "universe_snapshots",
]

INSTRUMENT_KINDS = ("spot", "perp", "dex_pair", "synthetic", "index")
OBSERVATION_STATUSES = ("ok", "suspect")
BAR_SOURCES = ("exchange", "import", "synthetic", "snapshots", "resampled")
UNIVERSE_ACTIONS = ("added", "removed", "retained", "held_pending_removal")


def _provenance_columns() -> list[sa.Column]:
    return [
        sa.Column("ingest_run_id", sa.Text(), nullable=False),
        sa.Column("provider", sa.Text(), nullable=False),
        sa.Column("fetched_at", sa.Text(), nullable=False),
        sa.Column("status", sa.Text(), nullable=False, server_default="ok"),
    ]


instruments = sa.Table(
    "instruments",
    metadata,
    tenant_column(),
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
    sa.Column("revision", INT64, nullable=False, server_default="0"),
    sa.PrimaryKeyConstraint("tenant_id", "instrument_id"),
    text_enum_check("kind", INSTRUMENT_KINDS, "kind"),
    sa.ForeignKeyConstraint(
        ["tenant_id", "ingest_run_id"], ["ingest_runs.tenant_id", "ingest_runs.ingest_run_id"]
    ),
    **TABLE_OPTIONS,
)

price_snapshots = sa.Table(
    "price_snapshots",
    metadata,
    tenant_column(),
    sa.Column("instrument_id", sa.Text(), nullable=False),
    sa.Column("observed_ms", INT64, nullable=False),
    sa.Column("price", FLOAT64, nullable=False),
    sa.Column("bid", FLOAT64, nullable=True),
    sa.Column("ask", FLOAT64, nullable=True),
    sa.Column("volume_24h", FLOAT64, nullable=True),
    sa.Column("liquidity_usd", FLOAT64, nullable=True),
    sa.Column("txn_count_24h", INT64, nullable=True),
    sa.Column("payload_sha256", sa.Text(), nullable=True),
    *_provenance_columns(),
    sa.PrimaryKeyConstraint("tenant_id", "instrument_id", "provider", "observed_ms"),
    sa.CheckConstraint("price > 0", name="price_positive"),
    sa.CheckConstraint("volume_24h IS NULL OR volume_24h >= 0", name="volume_non_negative"),
    status_check(OBSERVATION_STATUSES),
    sa.ForeignKeyConstraint(
        ["tenant_id", "instrument_id"], ["instruments.tenant_id", "instruments.instrument_id"]
    ),
    sa.ForeignKeyConstraint(
        ["tenant_id", "ingest_run_id"], ["ingest_runs.tenant_id", "ingest_runs.ingest_run_id"]
    ),
    sqlite_with_rowid=False,
    **TABLE_OPTIONS,
)

bars = sa.Table(
    "bars",
    metadata,
    tenant_column(),
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
    *_provenance_columns(),
    sa.Column("revision", INT64, nullable=False, server_default="0"),
    # freq before instrument: per-frequency reads ordered by (instrument, time) walk the key
    # directly instead of sorting in a temporary B-tree.
    sa.PrimaryKeyConstraint("tenant_id", "freq", "instrument_id", "bar_open_ms"),
    sa.CheckConstraint("low > 0 AND open > 0 AND close > 0", name="prices_positive"),
    sa.CheckConstraint(
        "high >= low AND open BETWEEN low AND high AND close BETWEEN low AND high",
        name="ohlc_consistent",
    ),
    sa.CheckConstraint("volume >= 0", name="volume_non_negative"),
    text_enum_check("source", BAR_SOURCES, "source"),
    status_check(OBSERVATION_STATUSES),
    sa.ForeignKeyConstraint(
        ["tenant_id", "instrument_id"], ["instruments.tenant_id", "instruments.instrument_id"]
    ),
    sa.ForeignKeyConstraint(
        ["tenant_id", "ingest_run_id"], ["ingest_runs.tenant_id", "ingest_runs.ingest_run_id"]
    ),
    sqlite_with_rowid=False,
    **TABLE_OPTIONS,
)

universe_snapshots = sa.Table(
    "universe_snapshots",
    metadata,
    tenant_column(),
    sa.Column("snapshot_id", sa.Text(), nullable=False),
    sa.Column("provider", sa.Text(), nullable=False),
    sa.Column("filters_json", sa.Text(), nullable=False),
    sa.Column("n_members", sa.Integer(), nullable=False),
    sa.Column("created_at", sa.Text(), nullable=False),
    sa.Column("ingest_run_id", sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint("tenant_id", "snapshot_id"),
    sa.ForeignKeyConstraint(
        ["tenant_id", "ingest_run_id"], ["ingest_runs.tenant_id", "ingest_runs.ingest_run_id"]
    ),
    **TABLE_OPTIONS,
)

universe_members = sa.Table(
    "universe_members",
    metadata,
    tenant_column(),
    sa.Column("snapshot_id", sa.Text(), nullable=False),
    sa.Column("instrument_id", sa.Text(), nullable=False),
    sa.Column("rank", sa.Integer(), nullable=False),
    sa.Column("liquidity_usd", FLOAT64, nullable=True),
    sa.Column("volume_24h", FLOAT64, nullable=True),
    sa.PrimaryKeyConstraint("tenant_id", "snapshot_id", "instrument_id"),
    sa.ForeignKeyConstraint(
        ["tenant_id", "snapshot_id"],
        ["universe_snapshots.tenant_id", "universe_snapshots.snapshot_id"],
    ),
    **TABLE_OPTIONS,
)

universe_churn = sa.Table(
    "universe_churn",
    metadata,
    tenant_column(),
    sa.Column("snapshot_id", sa.Text(), nullable=False),
    sa.Column("instrument_id", sa.Text(), nullable=False),
    sa.Column("action", sa.Text(), nullable=False),
    sa.Column("reason", sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint("tenant_id", "snapshot_id", "instrument_id"),
    text_enum_check("action", UNIVERSE_ACTIONS, "action"),
    sa.ForeignKeyConstraint(
        ["tenant_id", "snapshot_id"],
        ["universe_snapshots.tenant_id", "universe_snapshots.snapshot_id"],
    ),
    **TABLE_OPTIONS,
)
