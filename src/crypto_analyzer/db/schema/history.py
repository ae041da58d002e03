"""Point-in-time market data: the revision log and the versions a restatement replaced.

Why it exists (invariant 11). A re-import with restated prices updates rows of ``bars`` and
``instruments`` in place; without these tables the values an accepted result was computed on would
be gone. Every write transaction that changes market data records one ``market_revisions`` row
(the tenant's next revision ``R``) and stamps the rows it writes with ``revision = R``; a database
trigger copies the replaced version of every updated row into the table's ``*_history`` twin with
the revision and ingest run that replaced it. The rows visible at a watermark ``W`` are then the
live rows with ``revision <= W`` plus the history rows with ``revision <= W < superseded_revision``.

All three tables are append-only in the database itself (revision 0004's triggers), and the
history tables keep exactly the live table's columns so a version reads back as it was stored.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from crypto_analyzer.db.schema._base import INT64, TABLE_OPTIONS, metadata, tenant_column
from crypto_analyzer.db.schema.market import bars, instruments

__all__ = ["HISTORY_OF", "bars_history", "instruments_history", "market_revisions"]

market_revisions = sa.Table(
    "market_revisions",
    metadata,
    tenant_column(),
    sa.Column("revision", INT64, nullable=False),
    sa.Column("ingest_run_id", sa.Text(), nullable=False),
    sa.Column("created_at", sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint("tenant_id", "revision"),
    sa.ForeignKeyConstraint(
        ["tenant_id", "ingest_run_id"], ["ingest_runs.tenant_id", "ingest_runs.ingest_run_id"]
    ),
    **TABLE_OPTIONS,
)


def _history_of(live: sa.Table, **options: Any) -> sa.Table:
    """The live table's columns (same types and nullability), keyed by live key + ``revision``."""
    columns = [
        tenant_column()
        if column.name == "tenant_id"
        else sa.Column(column.name, column.type, nullable=column.nullable)
        for column in live.columns
    ]
    key = [column.name for column in live.primary_key.columns]
    return sa.Table(
        f"{live.name}_history",
        metadata,
        *columns,
        sa.Column("superseded_revision", INT64, nullable=False),
        sa.Column("superseded_by_ingest_run_id", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint(*key, "revision"),
        sa.Index(None, "tenant_id", "superseded_revision"),
        **options,
        **TABLE_OPTIONS,
    )


bars_history = _history_of(bars, sqlite_with_rowid=False)
instruments_history = _history_of(instruments)

HISTORY_OF = {"bars": bars_history, "instruments": instruments_history}
"""Versioned live table name → its history table."""
